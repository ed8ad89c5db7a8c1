/**
 * @module protocol/close-codes
 * WebSocket close codes the server sends, and what a client should do on each.
 *
 * Ranges: 4000–4499 mean "reconnect" (the condition is temporary; a subscriber that reconnects
 * loses nothing it could not ask for again), 4500–4999 mean "terminal" (reconnecting with the
 * same request fails the same way). Standard codes keep their RFC 6455 meaning.
 */
export const CloseCode = {
  /** RFC 6455: the server is shutting down or restarting. Reconnect (with back-off). */
  GOING_AWAY: 1001,
  /** RFC 6455: a frame was larger than the transport limit. Terminal for that message. */
  MESSAGE_TOO_BIG: 1009,
  /** RFC 6455: the server failed to serve the subscription (history unreadable). Resume with back-off. */
  INTERNAL_ERROR: 1011,
  /** The subscriber read too slowly and its send queue overflowed. Resume from the last `seq`. */
  SLOW_CONSUMER: 4000,
  /** No valid filter configuration arrived within the subscribe timeout. Terminal. */
  SUBSCRIBE_TIMEOUT: 4500,
  /** The server has reached its subscriber limit. Reconnect later, with back-off. */
  TOO_MANY_SUBSCRIBERS: 4001,
  /** The credential (a JWT) expired while the socket was open. Reconnect with a fresh token and resume. */
  TOKEN_EXPIRED: 4002,
  /** This credential already holds as many sockets as it may. Reconnect later, with back-off. */
  TOO_MANY_CONNECTIONS: 4003,
  /** No `auth` message arrived within the authentication timeout. Terminal. */
  AUTH_TIMEOUT: 4501,
  /** The first message was not a valid `auth` message, or its credential was refused. Terminal. */
  AUTH_FAILED: 4502,
  /** The credential was revoked while the socket was open. Terminal: reconnect only with another credential. */
  CREDENTIAL_REVOKED: 4503,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** True when a client should reconnect after this close code. */
export function shouldReconnect(code: number): boolean {
  return code === CloseCode.GOING_AWAY || code === CloseCode.INTERNAL_ERROR || (code >= 4000 && code < 4500);
}
