/**
 * @module auth/principal
 * Who is asking and what they may do. Every credential kind (none when auth is off, the
 * original's shared key, a scoped API key, a browser's JWT) becomes a Principal; routes and
 * sockets ask it, never the credential.
 */
import { DEFAULT_TENANT, type TenantId } from '../domain/tenant.js';

export { DEFAULT_TENANT };

/** What a credential may do. `read`: history and stats; `admin`: deletes, erasure, audit, keys. */
export const SCOPES = ['publish', 'subscribe', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

export interface Principal {
  /** For logs and audit records: `anonymous`, `api-key` (the shared key), `key:<id>`, `jwt:<sub>`. Never a secret. */
  readonly actor: string;
  readonly tenant: TenantId;
  readonly scopes: ReadonlySet<Scope>;
  /** When set, only these sessions may be read or subscribed to (a teacher's classes). */
  readonly sessions: ReadonlySet<string> | null;
  /** When set, only these users' events may be read or subscribed to (a student's own). */
  readonly users: ReadonlySet<string> | null;
  /** When set, events published with this credential must carry this `user_id` (a student app). */
  readonly publishAs: string | null;
  /** Epoch ms after which the credential is no longer valid (a JWT's `exp`), or null. */
  readonly expiresAtMs: number | null;
}

const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);

function unrestricted(actor: string): Principal {
  return { actor, tenant: DEFAULT_TENANT, scopes: ALL_SCOPES, sessions: null, users: null, publishAs: null, expiresAtMs: null };
}

/** Auth off: the original's open mode, everything allowed. */
export const ANONYMOUS: Principal = unrestricted('anonymous');
/** The original's `API_KEY`: the admin key of the default tenant. */
export const SHARED_KEY: Principal = unrestricted('api-key');

/** True when the principal is narrowed to some sessions or users. */
export const isNarrowed = (p: Principal): boolean => p.sessions !== null || p.users !== null;

/**
 * Whom a request's rate limit is counted against: its credential, so one noisy key never slows
 * another, or its address when there is no individual credential (auth off, the shared key).
 */
export function rateKeyOf(principal: Principal, client: string): string {
  return principal === ANONYMOUS || principal === SHARED_KEY ? client : `credential:${credentialKey(principal)}`;
}

/**
 * One individual credential, across tenants: two tenants' issuers may well mint tokens with
 * the same `sub`, and those are two credentials.
 */
export const credentialKey = (principal: Principal): string => credentialKeyOf(principal.tenant, principal.actor);
export const credentialKeyOf = (tenant: string, actor: string): string => `${tenant}/${actor}`;
