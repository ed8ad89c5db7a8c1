/**
 * @module ingest/ingest-service
 * validate → store → publish, for every transport. Sees the store and bus ports, never an
 * adapter; REST and WebSocket handlers are thin callers of {@link IngestService.publish}.
 */
import type { Clock } from '../clock.js';
import type { StoredEvent, ValidateEvent } from '../domain/event.js';
import { PipelineError } from '../domain/errors.js';
import type { Bus } from '../bus/bus.js';
import type { PipelineCounters } from '../stats/counters.js';
import type { EventStore } from '../storage/event-store.js';
import { CommitBatcher } from './commit-batcher.js';

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
    if (!this.#accepting) return Promise.reject(new PipelineError('SERVER_SHUTTING_DOWN', 'Server is shutting down'));
    const draft = this.#validate(input, this.#clock(), locRoot);
    if (draft instanceof PipelineError) return Promise.reject(draft);
    return this.#batcher.submit(draft);
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
