/**
 * @module storage/memory/memory-event-store
 * The reference EventStore: every rule of the port, in plain arrays. The default in tests and
 * usable for a throw-away single node; it stops being enough as soon as events must outlive
 * the process (nothing is written to disk).
 */
import {
  serializeEvent,
  type EventDraft,
  type EventId,
  type EventJson,
  type EventRef,
  type Seq,
  type StoredEvent,
} from '../../domain/event.js';
import { PipelineError } from '../../domain/errors.js';
import type { TenantId } from '../../domain/tenant.js';
import { formatInstant, type InstantUs } from '../../domain/timestamp.js';
import type {
  AppendResult,
  AuditContext,
  AuditRecord,
  EventQuery,
  EventStore,
  Horizon,
  IdGenerator,
  StoreStats,
  TypeCount,
} from '../event-store.js';
import { randomEventId, scopedKey } from '../ids.js';
import { settle } from '../sync-call.js';
import { sortTypeCounts } from '../type-counts.js';

export class MemoryEventStore implements EventStore {
  /** Sorted by seq, hence by timestamp. */
  #events: StoredEvent[] = [];
  #byId = new Map<EventId, StoredEvent>();
  #head = 0;
  #lastTs = 0;
  readonly #horizons = new Map<TenantId, Horizon>();
  /** Keyed by tenant and key (see {@link scopedKey}). */
  readonly #keys = new Map<
    string,
    { fingerprint: string; event: EventRef; atUs: number; userId: string | null }
  >();
  readonly #audit: AuditRecord[] = [];
  #closed = false;
  readonly #newId: IdGenerator;

  constructor(options: { newId?: IdGenerator } = {}) {
    this.#newId = options.newId ?? randomEventId;
  }

  append(drafts: readonly EventDraft[]): Promise<AppendResult[]> {
    return settle(() => this.#append(drafts));
  }

  #append(drafts: readonly EventDraft[]): AppendResult[] {
    this.#assertOpen();
    const out: AppendResult[] = [];
    const fresh: StoredEvent[] = [];
    const keys = new Map<
      string,
      { fingerprint: string; event: EventRef; atUs: number; userId: string | null }
    >();
    let head = this.#head;
    let lastTs = this.#lastTs;
    for (const d of drafts) {
      const tag = d.idempotency;
      if (tag !== undefined) {
        const k = scopedKey(d.tenant, tag.key);
        const known = keys.get(k) ?? this.#keys.get(k);
        if (known !== undefined) {
          out.push(
            known.fingerprint === tag.fingerprint
              ? { kind: 'duplicate', event: known.event }
              : { kind: 'conflict', key: tag.key },
          );
          continue;
        }
      }
      let id = this.#newId();
      while (this.#byId.has(id) || fresh.some((e) => e.id === id)) id = this.#newId();
      const seq = ++head;
      const ts = Math.max(d.receivedAtUs, lastTs);
      lastTs = ts;
      const event: StoredEvent = {
        seq,
        id,
        tenant: d.tenant,
        eventType: d.eventType,
        sessionId: d.sessionId,
        userId: d.userId,
        timestampUs: ts,
        json: serializeEvent(seq, id, d, ts),
      };
      fresh.push(event);
      out.push({ kind: 'stored', event });
      if (tag !== undefined)
        keys.set(scopedKey(d.tenant, tag.key), {
          fingerprint: tag.fingerprint,
          event: { seq, id, json: event.json },
          atUs: d.receivedAtUs,
          userId: d.userId,
        });
    }
    this.#head = head;
    this.#lastTs = lastTs;
    for (const e of fresh) {
      this.#events.push(e);
      this.#byId.set(e.id, e);
    }
    for (const [k, v] of keys) this.#keys.set(k, v);
    return out;
  }

  getById(tenant: TenantId, id: EventId): Promise<StoredEvent | undefined> {
    return settle(() => {
      this.#assertOpen();
      const e = this.#byId.get(id);
      return e?.tenant === tenant ? e : undefined;
    });
  }

  query(q: EventQuery): Promise<EventJson[]> {
    return settle(() => this.#query(q));
  }

  #query(q: EventQuery): EventJson[] {
    this.#assertOpen();
    const out: EventJson[] = [];
    const asc = q.order === 'asc';
    const n = this.#events.length;
    for (let k = 0; k < n && out.length < q.limit; k++) {
      const e = this.#events[asc ? k : n - 1 - k] as StoredEvent;
      if (e.tenant !== q.tenant) continue;
      if (q.sinceUs !== undefined && e.timestampUs <= q.sinceUs) continue;
      if (q.untilUs !== undefined && e.timestampUs > q.untilUs) continue;
      if (q.afterSeq !== undefined && e.seq <= q.afterSeq) continue;
      if (q.beforeSeq !== undefined && e.seq >= q.beforeSeq) continue;
      if (q.eventType !== undefined && e.eventType !== q.eventType) continue;
      if (q.eventTypes !== undefined && q.eventTypes.length > 0 && !q.eventTypes.includes(e.eventType))
        continue;
      if (q.sessionId !== undefined && e.sessionId !== q.sessionId) continue;
      if (q.userId !== undefined && e.userId !== q.userId) continue;
      out.push(e.json);
    }
    return out;
  }

  deleteBefore(
    tenant: TenantId | null,
    beforeUs?: InstantUs,
    audit?: AuditContext & { action: 'delete_events' | 'retention_purge' },
  ): Promise<number> {
    return settle(() => {
      this.#assertOpen();
      const perTenant = this.#deleteBefore(tenant, beforeUs);
      const target = beforeUs === undefined ? null : formatInstant(beforeUs);
      if (audit !== undefined) {
        if (tenant !== null && audit.action !== 'retention_purge') perTenant.set(tenant, perTenant.get(tenant) ?? 0);
        for (const [t, n] of perTenant) this.#record(t, audit, audit.action, target, n);
      }
      let total = 0;
      for (const n of perTenant.values()) total += n;
      return total;
    });
  }

  eraseUser(tenant: TenantId, userId: string, audit: AuditContext): Promise<number> {
    return settle(() => {
      this.#assertOpen();
      const erased = (e: { tenant: TenantId; userId: string | null }): boolean => e.tenant === tenant && e.userId === userId;
      const keep = this.#events.filter((e) => !erased(e));
      const n = this.#events.length - keep.length;
      for (const e of this.#events) if (erased(e)) this.#byId.delete(e.id);
      this.#events = keep;
      for (const [k, v] of this.#keys) if (v.userId === userId && k.startsWith(scopedKey(tenant, ''))) this.#keys.delete(k);
      this.#record(tenant, audit, 'erase_user', userId, n);
      return n;
    });
  }

  listAudit(tenant: TenantId, limit: number, beforeId?: number): Promise<AuditRecord[]> {
    return settle(() => {
      this.#assertOpen();
      return this.#audit
        .filter((r) => r.tenant === tenant && (beforeId === undefined || r.id < beforeId))
        .reverse()
        .slice(0, limit);
    });
  }

  #record(tenant: TenantId, ctx: AuditContext, action: AuditRecord['action'], target: string | null, count: number): void {
    this.#audit.push({ id: this.#audit.length + 1, tenant, atUs: ctx.atUs, actor: ctx.actor, action, target, count });
  }

  /** Deletes a prefix of each affected tenant's events; how many per tenant (only those with any). */
  #deleteBefore(tenant: TenantId | null, beforeUs?: InstantUs): Map<TenantId, number> {
    const perTenant = new Map<TenantId, number>();
    const goes = (e: StoredEvent): boolean => (tenant === null || e.tenant === tenant) && (beforeUs === undefined || e.timestampUs < beforeUs);
    for (const e of this.#events) {
      if (!goes(e)) continue;
      this.#byId.delete(e.id);
      perTenant.set(e.tenant, (perTenant.get(e.tenant) ?? 0) + 1);
      this.#horizons.set(e.tenant, { purgedSeq: e.seq, purgedUntilUs: e.timestampUs });
    }
    this.#events = this.#events.filter((e) => !goes(e));
    return perTenant;
  }

  stats(tenant: TenantId, sinceUs: InstantUs): Promise<StoreStats> {
    return settle(() => this.#stats(tenant, sinceUs));
  }

  #stats(tenant: TenantId, sinceUs: InstantUs): StoreStats {
    this.#assertOpen();
    const byType = new Map<string, TypeCount>();
    let eventsSince = 0;
    let total = 0;
    for (const e of this.#events) {
      if (e.tenant !== tenant) continue;
      total++;
      const prev = byType.get(e.eventType);
      byType.set(e.eventType, {
        eventType: e.eventType,
        count: (prev?.count ?? 0) + 1,
        lastSeenUs: e.timestampUs,
      });
      if (e.timestampUs > sinceUs) eventsSince++;
    }
    return { totalEvents: total, eventsSince, byType: sortTypeCounts([...byType.values()]) };
  }

  headSeq(): Seq {
    return this.#head;
  }

  readHeadSeq(): Promise<Seq> {
    return settle(() => {
      this.#assertOpen();
      return this.#head;
    });
  }

  tail(afterSeq: Seq, limit: number): Promise<StoredEvent[]> {
    return settle(() => {
      this.#assertOpen();
      const out: StoredEvent[] = [];
      for (const e of this.#events) {
        if (e.seq <= afterSeq) continue;
        if (out.length >= limit) break;
        out.push(e);
      }
      return out;
    });
  }

  horizon(tenant: TenantId): Promise<Horizon> {
    return settle(() => {
      this.#assertOpen();
      return this.#horizons.get(tenant) ?? { purgedSeq: 0, purgedUntilUs: 0 };
    });
  }

  pruneIdempotencyKeys(beforeUs: InstantUs): Promise<number> {
    return settle(() => {
      this.#assertOpen();
      let n = 0;
      for (const [k, v] of this.#keys) {
        if (v.atUs < beforeUs) {
          this.#keys.delete(k);
          n++;
        }
      }
      return n;
    });
  }

  ping(): Promise<void> {
    return settle(() => this.#assertOpen());
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new PipelineError('STORAGE_UNAVAILABLE', 'Event store is closed');
  }
}

