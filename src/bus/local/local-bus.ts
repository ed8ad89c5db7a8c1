/**
 * @module bus/local/local-bus
 * The in-process bus for a single node: synchronous, ordered, exactly once. A handler that
 * throws is reported and does not stop the others.
 */
import type { LiveEvent } from '../../domain/event.js';
import type { Bus, BusHandler } from '../bus.js';

export class LocalBus implements Bus {
  readonly #handlers = new Set<BusHandler>();
  readonly #onHandlerError: (err: unknown) => void;

  constructor(onHandlerError: (err: unknown) => void) {
    this.#onHandlerError = onHandlerError;
  }

  publish(events: readonly LiveEvent[]): void {
    for (const h of this.#handlers) {
      try {
        h(events);
      } catch (err) {
        this.#onHandlerError(err);
      }
    }
  }

  onEvents(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  close(): Promise<void> {
    this.#handlers.clear();
    return Promise.resolve();
  }
}
