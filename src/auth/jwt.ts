/**
 * @module auth/jwt
 * JWTs for browsers (teacher dashboards, student apps), verified with `jose`: only the
 * configured algorithms (never `none`), and `exp`, `iss` and `aud` always enforced. Claims:
 * - `scope` (space-separated, OAuth style) or `scopes` (array): `publish`, `subscribe`, `read`;
 *   `admin` is never granted to a token.
 * - `sessions`: the sessions it may read and subscribe to (a teacher's classes).
 * - `user_id`: a student's token: it publishes only as this user and reads only this user's
 *   events (unless `users` lists others).
 * - `users`: the users it may read and subscribe to.
 * - `tenant`: the tenant the token belongs to (default: the default tenant). The issuer is
 *   trusted to name it: whoever holds the signing key can mint tokens for any tenant.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { authRequired, type JwtVerifier } from './authenticator.js';
import { DEFAULT_TENANT, isTenantId } from '../domain/tenant.js';
import { isScope, type Principal, type Scope } from './principal.js';

export interface JwtSettings {
  /** HMAC secret (HS256/384/512), or null. */
  secret: string | null;
  /** PEM public key (RS256, PS256, ES256, EdDSA), or null. */
  publicKey: string | null;
  issuer: string;
  audience: string;
}

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** Tolerated clock difference between the token's issuer and this server. */
const CLOCK_TOLERANCE_S = 30;
const MAX_LIST_CLAIM = 1000;

function stringList(value: unknown, claim: string): string[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length > MAX_LIST_CLAIM || !value.every((v): v is string => typeof v === 'string')) {
    throw authRequired(`Invalid token: '${claim}' should be a list of strings`);
  }
  return value;
}

export function createJwtVerifier(settings: JwtSettings): JwtVerifier {
  const key: Uint8Array | KeyObject = settings.secret !== null ? new TextEncoder().encode(settings.secret) : createPublicKey(settings.publicKey ?? '');
  const algorithms = settings.secret !== null ? HMAC_ALGORITHMS : PUBLIC_KEY_ALGORITHMS;
  return async (token) => {
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(token, key, {
        algorithms,
        issuer: settings.issuer,
        audience: settings.audience,
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      throw authRequired(expired ? 'Token expired' : 'Invalid token');
    }
    const tenant = claims['tenant'] ?? DEFAULT_TENANT;
    if (!isTenantId(tenant)) throw authRequired("Invalid token: 'tenant' should be 1 to 63 lowercase letters, digits, - or _");
    const rawScopes = typeof claims['scope'] === 'string' ? claims['scope'].split(' ') : stringList(claims['scopes'], 'scopes') ?? [];
    const scopes = new Set<Scope>(rawScopes.filter(isScope).filter((s) => s !== 'admin'));
    const userId = claims['user_id'];
    if (userId !== undefined && typeof userId !== 'string') throw authRequired("Invalid token: 'user_id' should be a string");
    const sessions = stringList(claims['sessions'], 'sessions');
    const users = stringList(claims['users'], 'users') ?? (userId === undefined ? null : [userId]);
    const sub = typeof claims['sub'] === 'string' ? claims['sub'] : 'anonymous';
    const principal: Principal = {
      actor: `jwt:${sub.slice(0, 100)}`,
      tenant,
      scopes,
      sessions: sessions === null ? null : new Set(sessions),
      users: users === null ? null : new Set(users),
      publishAs: userId ?? null,
      expiresAtMs: typeof claims['exp'] === 'number' ? claims['exp'] * 1000 : null,
    };
    return principal;
  };
}
