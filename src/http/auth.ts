/**
 * @module http/auth
 * Where HTTP and WebSocket requests carry credentials, and the scope check. The original's
 * places still work: `X-API-Key` on REST, `x-api-key` or the `api_key` query parameter on
 * WebSockets. Added: `Authorization: Bearer <key or JWT>` everywhere, the `api_key` parameter on
 * the SSE stream (EventSource cannot set headers), and for browsers' WebSockets a
 * `bearer.<token>` subprotocol in `Sec-WebSocket-Protocol`.
 */
import type { IncomingMessage } from 'node:http';
import type { Credential } from '../auth/authenticator.js';
import type { Principal, Scope } from '../auth/principal.js';
import { PipelineError } from '../domain/errors.js';

/** The subprotocol prefix that carries a credential in `Sec-WebSocket-Protocol`. */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The credential of a request: header first, then (where allowed) the query string. */
export function credentialOf(req: IncomingMessage, query: URLSearchParams | null): Credential {
  const key = first(req.headers['x-api-key']);
  if (key !== undefined) return key;
  const authorization = first(req.headers.authorization);
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m?.[1] ?? '';
  }
  const fromProtocol = subprotocolCredential(req);
  if (fromProtocol !== undefined) return fromProtocol;
  return query?.get('api_key') ?? undefined;
}

/** A `bearer.<token>` entry of `Sec-WebSocket-Protocol`, if any. */
export function subprotocolCredential(req: IncomingMessage): Credential {
  const header = first(req.headers['sec-websocket-protocol']);
  if (header === undefined) return undefined;
  const entry = header
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  return entry?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
}

/**
 * The subprotocol the server answers with. A browser offering `bearer.<token>` must also be
 * answered with one of its offers, so it should offer a plain one too (say `events.v1`), which
 * is chosen; the token is echoed back only when it is the sole offer.
 */
export function selectSubprotocol(offered: Set<string>): string | false {
  let fallback: string | false = false;
  for (const p of offered) {
    if (!p.startsWith(BEARER_SUBPROTOCOL_PREFIX)) return p;
    fallback = fallback === false ? p : fallback;
  }
  return fallback;
}

/** 403 unless the principal holds `scope`. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) throw new PipelineError('AUTH_FORBIDDEN', `This credential does not have the '${scope}' scope`);
}
