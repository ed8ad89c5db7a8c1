/**
 * @module http/ws/first-message-auth
 * Browsers cannot set headers on a WebSocket, and a token in the URL ends up in proxy logs. A
 * client that opens `/ws/publish?auth=message` or `/ws/subscribe?auth=message` without a
 * credential is let through the upgrade and must send, as its first message,
 * `{"type":"auth","token":"<API key or JWT>"}` within the authentication timeout. The server
 * answers `{"type":"authenticated","expires_at":…}` and the socket then speaks the usual
 * protocol; anything else closes it (4501 on timeout, 4502 on a bad message or credential).
 *
 * Messages that follow the `auth` message before it is verified are not lost: they are held
 * (at most MAX_HELD_MESSAGES; more closes the socket with 4502) and handed over with the
 * principal, and the socket is paused until the connection that serves it takes over.
 */
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../protocol/close-codes.js';
import type { Authenticate } from '../../auth/authenticator.js';
import type { Principal, Scope } from '../../auth/principal.js';
import { PipelineError } from '../../domain/errors.js';
import { requireScope } from '../auth.js';
import { wsErrorMessage } from './error-message.js';
import { rawDataToBuffer, type RawData } from './raw-data.js';

/** The query parameter value that asks for first-message authentication. */
export const AUTH_BY_MESSAGE = 'message';
/** Longest `auth` message read; a JWT with a few hundred sessions fits comfortably. */
const MAX_AUTH_MESSAGE_BYTES = 64 * 1024;
/** Messages a client may send behind its `auth` message before the verdict (socket buffers aside). */
export const MAX_HELD_MESSAGES = 1000;

/** A message received while the credential was being checked. */
export interface HeldMessage {
  readonly data: RawData;
  readonly isBinary: boolean;
}

export interface Authenticated {
  readonly principal: Principal;
  /** Messages that arrived behind the `auth` message, in order, for the connection to handle. */
  readonly held: readonly HeldMessage[];
}

export interface FirstMessageAuthOptions {
  authenticate: Authenticate;
  scope: Scope;
  timeoutMs: number;
}

function parseAuthMessage(data: RawData, isBinary: boolean): string | undefined {
  const bytes = rawDataToBuffer(data);
  if (isBinary || bytes.length > MAX_AUTH_MESSAGE_BYTES) return undefined;
  try {
    const msg = JSON.parse(bytes.toString('utf8')) as unknown;
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return undefined;
    const { type, token } = msg as { type?: unknown; token?: unknown };
    return type === 'auth' && typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits for the `auth` message. Resolves with the principal and the messages held behind it,
 * the socket paused (the caller resumes it once it listens), or with undefined after closing
 * the socket.
 */
export function awaitAuthMessage(ws: WebSocket, options: FirstMessageAuthOptions): Promise<Authenticated | undefined> {
  return new Promise((resolve) => {
    const held: HeldMessage[] = [];
    // Pausing stops reading from the socket, but messages already read are still emitted.
    const hold = (data: RawData, isBinary: boolean): void => {
      if (held.length < MAX_HELD_MESSAGES) held.push({ data, isBinary });
      else ws.close(CloseCode.AUTH_FAILED, 'too many messages before authentication');
    };
    const refuse = (code: number, reason: string, err?: PipelineError): void => {
      ws.off('message', hold);
      if (err !== undefined && ws.readyState === ws.OPEN) ws.send(wsErrorMessage(err));
      // Read again, so the client's answer to the close frame is seen.
      ws.resume();
      ws.close(code, reason);
      resolve(undefined);
    };
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      refuse(CloseCode.AUTH_TIMEOUT, 'no auth message received in time');
    }, options.timeoutMs);
    const onClose = (): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(undefined);
    };
    const onMessage = (data: RawData, isBinary: boolean): void => {
      ws.off('message', onMessage);
      ws.on('message', hold);
      ws.pause();
      clearTimeout(timer);
      const token = parseAuthMessage(data, isBinary);
      if (token === undefined) {
        ws.off('close', onClose);
        refuse(CloseCode.AUTH_FAILED, 'expected an auth message', new PipelineError('AUTH_REQUIRED', 'The first message must be {"type":"auth","token":"..."}'));
        return;
      }
      options.authenticate(token).then(
        (principal) => {
          ws.off('close', onClose);
          if (ws.readyState !== ws.OPEN) {
            ws.off('message', hold);
            resolve(undefined);
            return;
          }
          try {
            requireScope(principal, options.scope);
          } catch (err) {
            refuse(CloseCode.AUTH_FAILED, 'credential lacks the scope', err as PipelineError);
            return;
          }
          ws.off('message', hold);
          ws.send(JSON.stringify({ type: 'authenticated', expires_at: principal.expiresAtMs === null ? null : new Date(principal.expiresAtMs).toISOString() }));
          resolve({ principal, held });
        },
        (err: unknown) => {
          ws.off('close', onClose);
          const reply = err instanceof PipelineError ? err : new PipelineError('AUTH_REQUIRED', 'Invalid credential');
          refuse(CloseCode.AUTH_FAILED, 'credential refused', reply);
        },
      );
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
  });
}
