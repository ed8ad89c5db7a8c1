/**
 * @module ingest/commit-batcher
 * Group commit: every event submitted during one turn of the event loop goes to the store in
 * one `append` (one transaction, one fsync), flushed at `setImmediate`, after the turn's I/O
 * callbacks have all run. Batches are appended one at a time, so commit order, fan-out order
 * and acknowledgement order are the same. A promise resolves only after its event is durable
 * and handed to the bus.
 */
import type { EventDraft, StoredEvent } from '../domain/event.js';
import { PipelineError } from '../domain/errors.js';
import type { EventStore } from '../storage/event-store.js';

interface Pending {
  draft: EventDraft;
  resolve: (event: StoredEvent) => void;
  reject: (err: unknown) => void;
}

/** Upper bound on events per transaction, so one commit never stalls the loop for long. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;

export class CommitBatcher {
  readonly #store: EventStore;
  readonly #onCommitted: (events: readonly StoredEvent[]) => void;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
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
      this.#queue.push({ draft, resolve, reject });
      this.#schedule();
    });
  }

  /** Submits several drafts that must be committed together, in order. */
  submitAll(drafts: readonly EventDraft[]): Promise<StoredEvent[]> {
    return Promise.all(drafts.map((d) => this.submit(d)));
  }

  /** Events waiting for their commit. */
  get pending(): number {
    return this.#queue.length;
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

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.length <= this.#maxBatch ? this.#queue : this.#queue.slice(0, this.#maxBatch);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(this.#maxBatch);
      let stored: StoredEvent[];
      try {
        stored = await this.#store.append(batch.map((p) => p.draft));
      } catch (err) {
        const error = err instanceof PipelineError ? err : new PipelineError('STORAGE_UNAVAILABLE', 'Could not store events', { cause: err });
        for (const p of batch) p.reject(error);
        continue;
      }
      this.#onCommitted(stored);
      for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve(stored[i] as StoredEvent);
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
