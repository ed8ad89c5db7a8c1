/**
 * @module bus/bus
 * The bus port: how committed events reach the delivery code of every node.
 *
 * Contract:
 * - `publish` is called with events already committed to the event store, batch by batch, in
 *   `seq` order. Handlers registered with `onEvents` see batches in that same order.
 * - The in-process adapter delivers synchronously and exactly once. A cross-node adapter may
 *   lose or delay messages (it is the fast path, not the record); its node must notice a gap in
 *   `seq` and read the missing events from the store.
 * - The bus owns no subscriber state; filtering is delivery's job.
 */
import type { LiveEvent } from '../domain/event.js';

export type BusHandler = (events: readonly LiveEvent[]) => void;

export interface Bus {
  publish(events: readonly LiveEvent[]): void;
  /** Registers a handler; returns the function that removes it. */
  onEvents(handler: BusHandler): () => void;
  close(): Promise<void>;
}
