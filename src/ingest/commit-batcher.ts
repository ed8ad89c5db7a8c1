/**
 * @module ingest/commit-batcher
 * Group commit: every event submitted during one turn of the event loop goes to the store in
 * one `append` (one transaction, one fsync), flushed at `setImmediate`, after the turn's I/O
 * callbacks have all run. Batches are appended one at a time, so commit order, fan-out order
 * and acknowledgement order are the same. A promise resolves only after its events are durable
 * and handed to the bus. A group submitted together (a batch publish) is never split across
 * commits: it is stored entirely or not at all.
 */
import type { EventDraft, StoredEvent } from '../domain/event.js';
import { PipelineError } from '../domain/errors.js';
import type { EventStore } from '../storage/event-store.js';

interface Pending {
  drafts: readonly EventDraft[];
  resolve: (events: StoredEvent[]) => void;
  reject: (err: unknown) => void;
}

/** Events per transaction above which no further group joins it, so a commit stays short. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;

export class CommitBatcher {
  readonly #store: EventStore;
  readonly #onCommitted: (events: readonly StoredEvent[]) => void;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #queuedEvents = 0;
  #scheduled = false;
  #flushing: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(store: EventStore, onCommitted: (events: readonly StoredEvent[]) => void, maxBatch = DEFAULT_MAX_BATCH_EVENTS) {
    this.#store = store;
    this.#onCommitted = onCommitted;
    this.#maxBatch = maxBatch;
  }

  /** Resolves with the stored event once it is durable; rejects with STORAGE_UNAVAILABLE. */
  submit(draft: EventDraft): Promise<StoredEvent> {
    return new Promise((resolve, reject) => {
      this.#enqueue({ drafts: [draft], resolve: (events) => resolve(events[0] as StoredEvent), reject });
    });
  }

  /** Commits the drafts together, in order, in one transaction with whatever else is queued. */
  submitGroup(drafts: readonly EventDraft[]): Promise<StoredEvent[]> {
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
      let stored: StoredEvent[];
      try {
        stored = await this.#store.append(batch.flatMap((p) => p.drafts));
      } catch (err) {
        const error = err instanceof PipelineError ? err : new PipelineError('STORAGE_UNAVAILABLE', 'Could not store events', { cause: err });
        for (const p of batch) p.reject(error);
        continue;
      }
      this.#onCommitted(stored);
      let offset = 0;
      for (const p of batch) {
        p.resolve(stored.slice(offset, offset + p.drafts.length));
        offset += p.drafts.length;
      }
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
