/**
 * @module ingest/ingest-service
 * validate → store → publish, for every transport. Sees the store and bus ports, never an
 * adapter; REST and WebSocket handlers are thin callers of {@link IngestService.publish}.
 */
import type { Clock } from '../clock.js';
import type { EventDraft, StoredEvent, ValidateEvent } from '../domain/event.js';
import { PipelineError } from '../domain/errors.js';
import type { Bus } from '../bus/bus.js';
import type { PipelineCounters } from '../stats/counters.js';
import type { EventStore } from '../storage/event-store.js';
import { CommitBatcher } from './commit-batcher.js';

/** One item of a batch publish: stored, or refused with the reason. */
export type BatchItemResult = { status: 'ok'; event: StoredEvent } | { status: 'error'; error: PipelineError };

/** Events in one batch publish, over REST or WebSocket. */
export const MAX_BATCH_EVENTS = 1000;

/** The batch-size rule, for transports to apply before they charge the rate limiter. */
export function assertBatchSize(count: number, locRoot = 'body'): void {
  if (count <= MAX_BATCH_EVENTS) return;
  throw new PipelineError('REQUEST_INVALID', `A batch holds at most ${MAX_BATCH_EVENTS} events, not ${count}`, {
    issues: [{ type: 'too_long', loc: [locRoot], msg: `List should have at most ${MAX_BATCH_EVENTS} items, not ${count}` }],
  });
}

/** A batch result as the wire has it. */
export function batchResultToWire(r: BatchItemResult): Record<string, unknown> {
  return r.status === 'ok'
    ? { status: 'ok', event_id: r.event.id, seq: r.event.seq }
    : { status: 'error', detail: r.error.issues ?? [{ type: r.error.code, loc: [], msg: r.error.message }] };
}

/** The same error with each issue's location moved under the item's index. */
function atIndex(err: PipelineError, locRoot: string, index: number): PipelineError {
  const issues = (err.issues ?? [{ type: err.code, loc: [locRoot], msg: err.message }]).map((i) => ({ ...i, loc: [locRoot, index, ...i.loc.slice(1)] }));
  return new PipelineError(err.code, err.message, { issues });
}

function shuttingDown(): PipelineError {
  return new PipelineError('SERVER_SHUTTING_DOWN', 'Server is shutting down');
}

export class IngestService {
  readonly #validate: ValidateEvent;
  readonly #clock: Clock;
  readonly #batcher: CommitBatcher;
  #accepting = true;

  constructor(deps: { store: EventStore; bus: Bus; validate: ValidateEvent; counters: PipelineCounters; clock: Clock }) {
    this.#validate = deps.validate;
    this.#clock = deps.clock;
    this.#batcher = new CommitBatcher(deps.store, (events) => {
      deps.counters.accepted(events.length);
      deps.bus.publish(events);
    });
  }

  /**
   * Validates and stores one event. Resolves once it is durable and handed to delivery;
   * rejects with a PipelineError (invalid input, shutting down, storage unavailable).
   */
  publish(input: unknown, locRoot = 'body'): Promise<StoredEvent> {
    if (!this.#accepting) return Promise.reject(shuttingDown());
    const draft = this.#validate(input, this.#clock(), locRoot);
    if (draft instanceof PipelineError) return Promise.reject(draft);
    return this.#batcher.submit(draft);
  }

  /**
   * Validates every item; stores the valid ones together in one commit, in order. Resolves with
   * one result per item, in order; rejects only when the commit itself fails.
   */
  async publishBatch(items: readonly unknown[], locRoot = 'body'): Promise<BatchItemResult[]> {
    if (!this.#accepting) throw shuttingDown();
    assertBatchSize(items.length, locRoot);
    const receivedAt = this.#clock();
    const checked = items.map((item, i) => {
      const c = item instanceof PipelineError ? item : this.#validate(item, receivedAt, locRoot);
      return c instanceof PipelineError ? atIndex(c, locRoot, i) : c;
    });
    const drafts = checked.filter((c): c is EventDraft => !(c instanceof PipelineError));
    const stored = await this.#batcher.submitGroup(drafts);
    let next = 0;
    return checked.map((c) => (c instanceof PipelineError ? { status: 'error', error: c } : { status: 'ok', event: stored[next++] as StoredEvent }));
  }

  /** Events received and not yet committed. */
  get pending(): number {
    return this.#batcher.pending;
  }

  /** Refuses new events, then resolves when every accepted one is committed and published. */
  async stop(): Promise<void> {
    this.#accepting = false;
    await this.#batcher.drain();
  }
}
