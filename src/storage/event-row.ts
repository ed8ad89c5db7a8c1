/**
 * @module storage/event-row
 * The `events` table's row as the SQL stores (SQLite, PostgreSQL) read it, and the stored
 * event it stands for: one schema, one mapping.
 */
import type { EventType } from '../../protocol/event-types.js';
import type { StoredEvent } from '../domain/event.js';
import type { TenantId } from '../domain/tenant.js';

export interface EventRow {
  seq: number;
  id: string;
  tenant: TenantId;
  event_type: EventType;
  session_id: string | null;
  user_id: string | null;
  ts_us: number;
  body: string;
}

/** The columns of {@link EventRow}, for `SELECT`. */
export const EVENT_COLUMNS = 'seq, id, tenant, event_type, session_id, user_id, ts_us, body';

export function rowToEvent(r: EventRow): StoredEvent {
  return { seq: r.seq, id: r.id, tenant: r.tenant, eventType: r.event_type, sessionId: r.session_id, userId: r.user_id, timestampUs: r.ts_us, json: r.body };
}
