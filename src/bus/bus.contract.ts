/**
 * The bus port's contract, run against every adapter: events committed to the store and
 * published (by whichever node committed them) reach every node's handlers in `seq` order,
 * exactly once. Adapters for one node are checked with one node.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LiveEvent } from '../domain/event.js';
import { appendAll, draft } from '../storage/event-store.contract.js';
import type { EventStore } from '../storage/event-store.js';
import { MemoryEventStore } from '../storage/memory/memory-event-store.js';
import type { Bus } from './bus.js';

/** Opens `nodes` buses over one shared store. */
export type BusFactory = (store: EventStore, nodes: number) => Promise<{ buses: Bus[]; cleanup: () => Promise<void> }>;

export async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function busContract(name: string, factory: BusFactory, options: { nodes: number }): void {
  describe(`${name} - bus contract`, () => {
    test('committed events published by any node reach every node in seq order, exactly once', async () => {
      const store = new MemoryEventStore();
      const { buses, cleanup } = await factory(store, options.nodes);
      try {
        const seen = buses.map(() => [] as (number | null)[]);
        buses.forEach((b, i) => b.onEvents((events: readonly LiveEvent[]) => seen[i]?.push(...events.map((e) => e.seq))));
        let expected = 0;
        for (let round = 0; round < 50; round++) {
          const publisher = buses[round % buses.length] as Bus;
          const events = await appendAll(store, Array.from({ length: 1 + (round % 4) }, () => draft()));
          publisher.publish(events);
          expected += events.length;
        }
        for (const [i, s] of seen.entries()) await until(() => s.length >= expected, `node ${i} to see ${expected} events`);
        await new Promise((r) => setTimeout(r, 50));
        for (const s of seen) assert.deepEqual(s, Array.from({ length: expected }, (_, k) => k + 1));
      } finally {
        await cleanup();
      }
    });

    test('a handler that throws does not stop the others; a removed handler hears nothing more', async () => {
      const store = new MemoryEventStore();
      const { buses, cleanup } = await factory(store, 1);
      try {
        const bus = buses[0] as Bus;
        const got: number[] = [];
        bus.onEvents(() => {
          throw new Error('boom');
        });
        const off = bus.onEvents((events) => got.push(...events.map((e) => e.seq ?? -1)));
        bus.publish(await appendAll(store, [draft()]));
        await until(() => got.length === 1, 'the first event');
        off();
        bus.publish(await appendAll(store, [draft()]));
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(got, [1]);
      } finally {
        await cleanup();
      }
    });
  });
}
