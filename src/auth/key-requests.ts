/**
 * @module auth/key-requests
 * What a request to create an API key must look like, checked the same way for the admin API
 * and the `keys` CLI, and how a key record is shown (never its secret).
 */
import type { ValidationIssue } from '../domain/errors.js';
import { formatInstant } from '../domain/timestamp.js';
import type { ApiKeyRecord, NewApiKey } from './api-keys.js';
import { DEFAULT_TENANT, isTenantId, type TenantId } from '../domain/tenant.js';
import { isScope, SCOPES, type Scope } from './principal.js';

export const MAX_KEY_NAME_LENGTH = 100;

/** A create-key request, or the issues that make it invalid (loc rooted at `body`). */
export function parseNewKey(input: unknown, defaultTenant: TenantId = DEFAULT_TENANT): NewApiKey | ValidationIssue[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be an object with name and scopes' }];
  }
  const { name, scopes, tenant } = input as { name?: unknown; scopes?: unknown; tenant?: unknown };
  const issues: ValidationIssue[] = [];
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_KEY_NAME_LENGTH) {
    issues.push({ type: 'string_type', loc: ['body', 'name'], msg: `A name of 1 to ${MAX_KEY_NAME_LENGTH} characters is required` });
  }
  const valid: Scope[] = [];
  if (!Array.isArray(scopes) || scopes.length === 0) {
    issues.push({ type: 'list_type', loc: ['body', 'scopes'], msg: `A non-empty list of scopes is required (${SCOPES.join(', ')})` });
  } else {
    scopes.forEach((s: unknown, i) => {
      if (typeof s === 'string' && isScope(s)) valid.push(s);
      else issues.push({ type: 'enum', loc: ['body', 'scopes', i], msg: `Input should be one of ${SCOPES.join(', ')}` });
    });
  }
  const t = tenant ?? defaultTenant;
  if (!isTenantId(t)) {
    issues.push({ type: 'string_pattern_mismatch', loc: ['body', 'tenant'], msg: 'A tenant is 1 to 63 lowercase letters, digits, - or _' });
  }
  if (issues.length > 0 || !isTenantId(t)) return issues;
  return { name: (name as string).trim(), scopes: valid, tenant: t };
}

/** A key as the API and CLI show it: everything but the secret. */
export function keyToWire(r: ApiKeyRecord): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant: r.tenant,
    scopes: r.scopes,
    created_at: formatInstant(r.createdUs),
    revoked_at: r.revokedUs === null ? null : formatInstant(r.revokedUs),
  };
}
