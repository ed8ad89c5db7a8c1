/**
 * @module http/ws/connection
 * What the server needs of every open WebSocket connection at shutdown.
 */
export interface Connection {
  /** Finishes what was acknowledged or queued (bounded by the caller's deadline), then closes. */
  shutdown(code: number, reason: string): Promise<void>;
}

/** Time a closing socket gets to complete the close handshake before it is cut. */
export const CLOSE_HANDSHAKE_GRACE_MS = 1000;
