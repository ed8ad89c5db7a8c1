/**
 * @module ingest/commit-batcher
 * Group commit: every event submitted during one turn of the event loop goes to the store in
 * one `append` (one transaction, one fsync), flushed at `setImmediate`, after the turn's I/O
 * callbacks have all run. Batches are appended one at a time, so commit order, fan-out order
 * and acknowledgement order are the same. A promise resolves only after its events are durable
 * and handed to the bus. A group submitted together (a batch publish) is never split across
 * commits: it is stored entirely or not at all.
 *
 * Ephemeral drafts (see `isEphemeral`) travel the same queue, so they keep their place among
 * the events around them, but skip the store: they are handed to the bus with a null `seq`, and
 * a turn holding only ephemeral drafts costs no commit at all.
 */
import { serializeEvent, type EventDraft, type LiveEvent } from '../domain/event.js';
import { PipelineError } from '../domain/errors.js';
import type { AppendResult, EventStore } from '../storage/event-store.js';
import { randomEventId } from '../storage/ids.js';

/** What became of one submitted draft: the store's answer, or `live` for an ephemeral one. */
export type SubmitResult = AppendResult | { readonly kind: 'live'; readonly event: LiveEvent };

interface Pending {
  drafts: readonly EventDraft[];
  resolve: (results: SubmitResult[]) => void;
  reject: (err: unknown) => void;
}

/** Events per transaction above which no further group joins it, so a commit stays short. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;

export class CommitBatcher {
  readonly #store: EventStore;
  readonly #onCommitted: (events: readonly LiveEvent[]) => void;
  readonly #isEphemeral: (draft: EventDraft) => boolean;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #queuedEvents = 0;
  #scheduled = false;
  #flushing: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(
    store: EventStore,
    onCommitted: (events: readonly LiveEvent[]) => void,
    options: { isEphemeral?: (draft: EventDraft) => boolean; maxBatch?: number } = {},
  ) {
    this.#store = store;
    this.#onCommitted = onCommitted;
    this.#isEphemeral = options.isEphemeral ?? (() => false);
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH_EVENTS;
  }

  /** Resolves once the draft is durable (or, if ephemeral, handed on); rejects with STORAGE_UNAVAILABLE. */
  submit(draft: EventDraft): Promise<SubmitResult> {
    return new Promise((resolve, reject) => {
      this.#enqueue({ drafts: [draft], resolve: (results) => resolve(results[0] as SubmitResult), reject });
    });
  }

  /** Commits the drafts together, in order, in one transaction with whatever else is queued. */
  submitGroup(drafts: readonly EventDraft[]): Promise<SubmitResult[]> {
    if (drafts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => this.#enqueue({ drafts, resolve, reject }));
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    this.#queuedEvents += p.drafts.length;
    this.#schedule();
  }

  /** Events waiting for their commit. */
  get pending(): number {
    return this.#queuedEvents;
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#flushing === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing !== undefined) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        if (this.#queue.length > 0) this.#schedule();
        else this.#notifyIdle();
      });
    });
  }

  /** Takes whole groups from the queue until the next would pass the batch size. */
  #takeBatch(): Pending[] {
    let n = 0;
    let k = 0;
    while (k < this.#queue.length) {
      const size = (this.#queue[k] as Pending).drafts.length;
      if (k > 0 && n + size > this.#maxBatch) break;
      n += size;
      k++;
    }
    const batch = this.#queue.slice(0, k);
    this.#queue = this.#queue.slice(k);
    this.#queuedEvents -= n;
    return batch;
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      const drafts = batch.flatMap((p) => p.drafts);
      const durable = drafts.filter((d) => !this.#isEphemeral(d));
      let stored: AppendResult[] = [];
      let failure: PipelineError | undefined;
      if (durable.length > 0) {
        try {
          stored = await this.#store.append(durable);
        } catch (err) {
          failure = err instanceof PipelineError ? err : new PipelineError('STORAGE_UNAVAILABLE', 'Could not store events', { cause: err });
        }
      }
      // Put the store's answers back among the ephemeral drafts, in submission order. When the
      // commit failed, groups that needed it fail; groups of ephemeral drafts only still go out.
      const live: LiveEvent[] = [];
      const settled: (() => void)[] = [];
      let next = 0;
      for (const p of batch) {
        if (failure !== undefined && p.drafts.some((d) => !this.#isEphemeral(d))) {
          const err = failure;
          settled.push(() => p.reject(err));
          continue;
        }
        const out = p.drafts.map((d): SubmitResult => (this.#isEphemeral(d) ? { kind: 'live', event: ephemeralEvent(d) } : (stored[next++] as AppendResult)));
        for (const r of out) if (r.kind === 'stored' || r.kind === 'live') live.push(r.event);
        settled.push(() => p.resolve(out));
      }
      if (live.length > 0) this.#onCommitted(live);
      for (const settle of settled) settle();
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** An ephemeral draft as delivered: an id and its receive time, no `seq`. */
function ephemeralEvent(d: EventDraft): LiveEvent {
  const id = randomEventId();
  return { seq: null, id, tenant: d.tenant, eventType: d.eventType, sessionId: d.sessionId, userId: d.userId, timestampUs: d.receivedAtUs, json: serializeEvent(null, id, d, d.receivedAtUs) };
}
