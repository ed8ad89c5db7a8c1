/**
 * @module http/auth
 * The original's single shared key: when REQUIRE_AUTH=true, REST takes it in `X-API-Key` and
 * WebSockets in the `x-api-key` header or the `api_key` query parameter. Compared in constant
 * time over fixed-length digests so neither content nor length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PipelineError } from '../domain/errors.js';

/** Who made a request, as far as the credential says: what audit records name. */
export interface Principal {
  /** `api-key` (the shared key) or `anonymous` (auth off), then `@` and the client address. */
  readonly actor: string;
}

/** Checks the request's credential; returns who it is, or throws AUTH_REQUIRED. */
export type Authenticate = (req: IncomingMessage, query: URLSearchParams | null) => Principal;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

const ANONYMOUS: Principal = { actor: 'anonymous' };
const SHARED_KEY: Principal = { actor: 'api-key' };

export function createAuthenticator(requireAuth: boolean, apiKey: string | null): Authenticate {
  if (!requireAuth || apiKey === null) return () => ANONYMOUS;
  const expected = digest(apiKey);
  return (req, query) => {
    const header = req.headers['x-api-key'];
    const given = (Array.isArray(header) ? header[0] : header) ?? query?.get('api_key') ?? undefined;
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new PipelineError('AUTH_REQUIRED', 'Invalid or missing API key');
    }
    return SHARED_KEY;
  };
}
