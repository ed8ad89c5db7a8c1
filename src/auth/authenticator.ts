/**
 * @module auth/authenticator
 * Credentials in, a Principal out, for every transport. With `REQUIRE_AUTH=false` (the
 * original's default) every request is anonymous with every scope, and credentials are not
 * looked at. With `REQUIRE_AUTH=true` a request needs one of:
 * - the original's shared `API_KEY`: the admin key of the default tenant;
 * - a scoped API key (`rep_<id>_<secret>`, see auth/api-keys.ts);
 * - a JWT, when a verifier is configured (see auth/jwt.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { PipelineError } from '../domain/errors.js';
import { API_KEY_PATTERN, apiKeyActor, verifyApiKey, type ApiKeyStore } from './api-keys.js';
import { ANONYMOUS, SHARED_KEY, type Principal } from './principal.js';

/** A credential as found in a request, before it is checked. */
export type Credential = string | undefined;

export type Authenticate = (credential: Credential) => Promise<Principal>;

/** Verifies a JWT and maps its claims; throws AUTH_REQUIRED when it is not acceptable. */
export type JwtVerifier = (token: string) => Promise<Principal>;

export interface AuthenticatorOptions {
  requireAuth: boolean;
  sharedKey: string | null;
  apiKeys: ApiKeyStore;
  jwt: JwtVerifier | null;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function authRequired(message = 'Invalid or missing API key'): PipelineError {
  return new PipelineError('AUTH_REQUIRED', message);
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  if (!options.requireAuth) return () => Promise.resolve(ANONYMOUS);
  const shared = options.sharedKey === null ? null : digest(options.sharedKey);
  return async (credential) => {
    if (credential === undefined || credential === '') throw authRequired();
    if (shared !== null && timingSafeEqual(digest(credential), shared)) return SHARED_KEY;
    if (API_KEY_PATTERN.test(credential)) {
      const record = await verifyApiKey(options.apiKeys, credential);
      if (record === undefined) throw authRequired();
      return { actor: apiKeyActor(record.id), tenant: record.tenant, scopes: new Set(record.scopes), sessions: null, users: null, publishAs: null, expiresAtMs: null };
    }
    if (options.jwt !== null && JWT_SHAPE.test(credential)) return options.jwt(credential);
    throw authRequired();
  };
}
