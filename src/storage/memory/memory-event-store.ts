/**
 * @module storage/memory/memory-event-store
 * The reference EventStore: every rule of the port, in plain arrays. The default in tests and
 * usable for a throw-away single node; it stops being enough as soon as events must outlive
 * the process (nothing is written to disk).
 */
import { serializeEvent, type EventDraft, type EventId, type EventJson, type Seq, type StoredEvent } from '../../domain/event.js';
import { PipelineError } from '../../domain/errors.js';
import type { InstantUs } from '../../domain/timestamp.js';
import type { EventQuery, EventStore, IdGenerator, StoreStats, TypeCount } from '../event-store.js';
import { randomEventId } from '../ids.js';
import { settle } from '../sync-call.js';
import { sortTypeCounts } from '../type-counts.js';

export class MemoryEventStore implements EventStore {
  /** Sorted by seq, hence by timestamp. */
  #events: StoredEvent[] = [];
  #byId = new Map<EventId, StoredEvent>();
  #head = 0;
  #lastTs = 0;
  #closed = false;
  readonly #newId: IdGenerator;

  constructor(options: { newId?: IdGenerator } = {}) {
    this.#newId = options.newId ?? randomEventId;
  }

  append(drafts: readonly EventDraft[]): Promise<StoredEvent[]> {
    return settle(() => this.#append(drafts));
  }

  #append(drafts: readonly EventDraft[]): StoredEvent[] {
    this.#assertOpen();
    const out: StoredEvent[] = [];
    for (const d of drafts) {
      let id = this.#newId();
      while (this.#byId.has(id) || out.some((e) => e.id === id)) id = this.#newId();
      const seq = ++this.#head;
      const ts = Math.max(d.receivedAtUs, this.#lastTs);
      this.#lastTs = ts;
      out.push({ seq, id, eventType: d.eventType, sessionId: d.sessionId, userId: d.userId, timestampUs: ts, json: serializeEvent(seq, id, d, ts) });
    }
    for (const e of out) {
      this.#events.push(e);
      this.#byId.set(e.id, e);
    }
    return out;
  }

  getById(id: EventId): Promise<StoredEvent | undefined> {
    return settle(() => {
      this.#assertOpen();
      return this.#byId.get(id);
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
      if (q.sinceUs !== undefined && e.timestampUs <= q.sinceUs) continue;
      if (q.untilUs !== undefined && e.timestampUs > q.untilUs) continue;
      if (q.afterSeq !== undefined && e.seq <= q.afterSeq) continue;
      if (q.beforeSeq !== undefined && e.seq >= q.beforeSeq) continue;
      if (q.eventType !== undefined && e.eventType !== q.eventType) continue;
      if (q.sessionId !== undefined && e.sessionId !== q.sessionId) continue;
      if (q.userId !== undefined && e.userId !== q.userId) continue;
      out.push(e.json);
    }
    return out;
  }

  deleteBefore(beforeUs?: InstantUs): Promise<number> {
    return settle(() => this.#deleteBefore(beforeUs));
  }

  #deleteBefore(beforeUs?: InstantUs): number {
    this.#assertOpen();
    const keep = beforeUs === undefined ? [] : this.#events.filter((e) => e.timestampUs >= beforeUs);
    const deleted = this.#events.length - keep.length;
    for (const e of this.#events) if (beforeUs === undefined || e.timestampUs < beforeUs) this.#byId.delete(e.id);
    this.#events = keep;
    return deleted;
  }

  stats(sinceUs: InstantUs): Promise<StoreStats> {
    return settle(() => this.#stats(sinceUs));
  }

  #stats(sinceUs: InstantUs): StoreStats {
    this.#assertOpen();
    const byType = new Map<string, TypeCount>();
    let eventsSince = 0;
    for (const e of this.#events) {
      const prev = byType.get(e.eventType);
      byType.set(e.eventType, { eventType: e.eventType, count: (prev?.count ?? 0) + 1, lastSeenUs: e.timestampUs });
      if (e.timestampUs > sinceUs) eventsSince++;
    }
    return { totalEvents: this.#events.length, eventsSince, byType: sortTypeCounts([...byType.values()]) };
  }

  headSeq(): Seq {
    return this.#head;
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
