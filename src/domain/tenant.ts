/**
 * @module domain/tenant
 * Tenants are the unit of isolation: every event belongs to the tenant of the credential that
 * published it, and every read, subscription, replay, statistic and delete sees one tenant
 * only. A single-school deployment never names one: everything is in the default tenant.
 */

/** 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter or digit. */
export type TenantId = string;

export const DEFAULT_TENANT: TenantId = 'default';

export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const isTenantId = (s: unknown): s is TenantId => typeof s === 'string' && TENANT_PATTERN.test(s);
