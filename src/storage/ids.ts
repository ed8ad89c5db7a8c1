/**
 * @module storage/ids
 * Random event ids: `evt_` + 12 lowercase hex digits (48 bits). Collisions are possible and
 * handled by the stores (a colliding id is redrawn inside the same commit), so uniqueness
 * never depends on luck. And how idempotency keys are scoped to a tenant.
 */
import { randomBytes } from 'node:crypto';
import type { EventId } from '../domain/event.js';
import type { TenantId } from '../domain/tenant.js';

const POOL_IDS = 512;
let pool = Buffer.alloc(0);
let offset = 0;

export function randomEventId(): EventId {
  if (offset + 6 > pool.length) {
    pool = randomBytes(6 * POOL_IDS);
    offset = 0;
  }
  const id = 'evt_' + pool.toString('hex', offset, offset + 6);
  offset += 6;
  return id;
}

/**
 * Idempotency keys are the producer's, within its tenant: the same key in two tenants is two
 * keys. Stores keep them as `<tenant>:<key>` (a tenant id has no colon).
 */
export function scopedKey(tenant: TenantId, key: string): string {
  return `${tenant}:${key}`;
}
