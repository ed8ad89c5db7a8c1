/**
 * @module storage/event-store
 * The event-store port: the system of record for events.
 *
 * Guarantees every adapter gives:
 * - `append` is atomic and durable: when its promise resolves, every event of the batch is
 *   committed and survives a crash or power loss; when it rejects, none of them is stored.
 * - Each stored event gets a `seq` strictly greater than every `seq` committed before it, in
 *   commit order, never reused (not even after deletes), and a unique id (a colliding random id
 *   is replaced, never lost).
 * - Timestamps never decrease in `seq` order: the server's receive time, raised to the previous
 *   event's when the clock steps back, so time ranges and `seq` ranges agree.
 * - Per-type counts and `last_seen` always equal what is stored, including after deletes.
 * - Idempotency: a draft carrying a key already recorded (by an earlier commit or earlier in
 *   the same batch) is not stored: it comes back as a `duplicate` of the recorded event when
 *   its fingerprint matches, else as a `conflict`. Keys are recorded in the same commit as
 *   their event and kept until `pruneIdempotencyKeys` passes their time, even when the event
 *   itself is deleted.
 * - Deletes only ever remove a prefix of a tenant's `seq` order (its events received before an
 *   instant); the store remembers, per tenant, the highest `seq` and timestamp it removed (its
 *   `horizon`), so a reader resuming from an older position learns that history is gone
 *   instead of skipping it.
 * - Tenants never meet: every read, count, delete, horizon and idempotency key is of one
 *   tenant, and an event of another tenant is indistinguishable from a missing one. Only
 *   `seq` is global (one commit order for the whole store).
 * - Calls are not re-entrant-safe across processes: one process owns one SQLite file.
 *
 * Left out on purpose: batching concurrent callers (ingest/commit-batcher.ts does it for all
 * adapters), fan-out (the bus), and any notion of subscribers.
 */
import type { EventType } from '../../protocol/event-types.js';
import type { EventDraft, EventId, EventJson, EventRef, Seq, StoredEvent } from '../domain/event.js';
import type { TenantId } from '../domain/tenant.js';
import type { InstantUs } from '../domain/timestamp.js';

export interface EventQuery {
  /** Only this tenant's events: there is no query across tenants. */
  readonly tenant: TenantId;
  readonly eventType?: EventType | undefined;
  /** Any of these types (empty or absent: any type); ANDed with `eventType`. */
  readonly eventTypes?: readonly EventType[] | undefined;
  readonly sessionId?: string | undefined;
  readonly userId?: string | undefined;
  /** Only events received strictly after this instant. */
  readonly sinceUs?: InstantUs | undefined;
  /** Only events received at or before this instant, so (since, until] windows tile time. */
  readonly untilUs?: InstantUs | undefined;
  /** Only events with a `seq` strictly greater than this. */
  readonly afterSeq?: Seq | undefined;
  /** Only events with a `seq` strictly less than this. */
  readonly beforeSeq?: Seq | undefined;
  /** `desc` (default): the newest matching first; `asc`: the oldest matching first. */
  readonly order?: 'asc' | 'desc' | undefined;
  /** At most this many. */
  readonly limit: number;
}

export interface TypeCount {
  readonly eventType: EventType;
  readonly count: number;
  readonly lastSeenUs: InstantUs;
}

export interface StoreStats {
  readonly totalEvents: number;
  /** Events whose timestamp is after the instant given to `stats`. */
  readonly eventsSince: number;
  /** Highest count first, then by name. */
  readonly byType: readonly TypeCount[];
}

/** Who asked for a delete, and when: recorded with it in the audit log. */
export interface AuditContext {
  readonly actor: string;
  readonly atUs: InstantUs;
}

export type AuditAction = 'delete_events' | 'erase_user' | 'retention_purge';

export interface AuditRecord extends AuditContext {
  readonly id: number;
  readonly tenant: TenantId;
  readonly action: AuditAction;
  /** The erased user, or the `before` instant of a delete (ISO 8601), or null for "everything". */
  readonly target: string | null;
  readonly count: number;
}

/** What became of one draft in {@link EventStore.append}. */
export type AppendResult =
  | { readonly kind: 'stored'; readonly event: StoredEvent }
  | { readonly kind: 'duplicate'; readonly event: EventRef }
  | { readonly kind: 'conflict'; readonly key: string };

/** The oldest history is gone up to here (both 0 when nothing was ever deleted). */
export interface Horizon {
  /** The highest `seq` deleted. */
  readonly purgedSeq: Seq;
  /** The latest timestamp among deleted events. */
  readonly purgedUntilUs: InstantUs;
}

export interface EventStore {
  /** Appends drafts in one durable commit, in order, one result per draft; see the module guarantees. */
  append(drafts: readonly EventDraft[]): Promise<AppendResult[]>;
  /** The event, when it exists in `tenant`. */
  getById(tenant: TenantId, id: EventId): Promise<StoredEvent | undefined>;
  /** Matching events' wire forms, in `seq` order as asked (newest first by default). */
  query(query: EventQuery): Promise<EventJson[]>;
  /**
   * Deletes the tenant's events received before `beforeUs` (all when undefined); `tenant` null
   * means every tenant (retention). Resolves to how many. With `audit`, records the delete in
   * each affected tenant's audit log in the same transaction (a retention purge that removed
   * nothing is not recorded).
   */
  deleteBefore(
    tenant: TenantId | null,
    beforeUs?: InstantUs,
    audit?: AuditContext & { action: 'delete_events' | 'retention_purge' },
  ): Promise<number>;
  /**
   * Erases every event of `userId`, with its counts and the idempotency keys that held a copy,
   * and records it in the audit log, in one transaction; resolves to how many events.
   */
  eraseUser(tenant: TenantId, userId: string, audit: AuditContext): Promise<number>;
  /** The tenant's audit records, newest first, with an `id` below `beforeId` when given. */
  listAudit(tenant: TenantId, limit: number, beforeId?: number): Promise<AuditRecord[]>;
  stats(tenant: TenantId, sinceUs: InstantUs): Promise<StoreStats>;
  /** The highest `seq` ever committed (0 for a new store). */
  headSeq(): Seq;
  /**
   * The highest `seq` committed by anyone sharing this store (other instances included), read
   * from the store itself; for a store only this process writes, {@link headSeq}.
   */
  readHeadSeq(): Promise<Seq>;
  /**
   * Stored events of every tenant with `seq > afterSeq`, oldest first, at most `limit`: how a
   * node fills a gap its bus left. Not for clients: it crosses tenants.
   */
  tail(afterSeq: Seq, limit: number): Promise<StoredEvent[]>;
  /** How far deletes have reached in the tenant; see {@link Horizon}. */
  horizon(tenant: TenantId): Promise<Horizon>;
  /** Forgets idempotency keys recorded before `beforeUs`; resolves to how many. */
  pruneIdempotencyKeys(beforeUs: InstantUs): Promise<number>;
  /** Rejects when the store cannot serve reads and writes. */
  ping(): Promise<void>;
  /** Flushes and releases resources; later calls reject. */
  close(): Promise<void>;
}

/** Makes a fresh random event id. Injected so tests can force collisions. */
export type IdGenerator = () => EventId;
