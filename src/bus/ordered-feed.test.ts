import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveEvent, StoredEvent } from '../domain/event.js';
import { appendAll, draft } from '../storage/event-store.contract.js';
import { MemoryEventStore } from '../storage/memory/memory-event-store.js';
import { OrderedFeed } from './ordered-feed.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setup(n: number): Promise<{ store: MemoryEventStore; events: StoredEvent[]; out: (number | null)[]; feed: OrderedFeed }> {
  const store = new MemoryEventStore();
  const events = await appendAll(store, Array.from({ length: n }, () => draft()));
  const out: (number | null)[] = [];
  const feed = new OrderedFeed(store, 0, (batch) => out.push(...batch.map((e) => e.seq)), { gapWaitMs: 10, pollMs: 20 });
  return { store, events, out, feed };
}

test('ordered feed: out-of-order and duplicate offers come out once, in seq order', async () => {
  const { events, out, feed } = await setup(6);
  const [e1, e2, e3, e4, e5, e6] = events as [StoredEvent, StoredEvent, StoredEvent, StoredEvent, StoredEvent, StoredEvent];
  feed.offer([e2, e3]);
  assert.deepEqual(out, [], 'held until 1 arrives');
  feed.offer([e1, e2]);
  feed.offer([e5, e4, e3, e6, e1]);
  assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
  assert.equal(feed.position, 6);
  assert.equal(feed.filledFromStore, 0);
  await feed.stop();
});

test('ordered feed: ephemeral events go out at once, whatever is pending', async () => {
  const { events, out, feed } = await setup(2);
  const tick: LiveEvent = { ...(events[0] as StoredEvent), seq: null, id: 'evt_tick' };
  feed.offer([events[1] as StoredEvent, tick]);
  assert.deepEqual(out, [null]);
  feed.offer([events[0] as StoredEvent]);
  assert.deepEqual(out, [null, 1, 2]);
  await feed.stop();
});

test('ordered feed: a gap the bus never fills is read from the store after the wait; deleted seqs are passed over', async () => {
  const store = new MemoryEventStore();
  const stored = await appendAll(store, [draft({ userId: 'keep' }), draft({ userId: 'gone' }), draft({ userId: 'keep' }), draft({ userId: 'keep' })]);
  await store.eraseUser('default', 'gone', { actor: 't', atUs: 0 });
  const got: number[] = [];
  const feed = new OrderedFeed(store, 0, (b) => got.push(...b.map((e) => e.seq ?? -1)), { gapWaitMs: 10, pollMs: 1000 });
  feed.offer([stored[3] as StoredEvent]);
  assert.deepEqual(got, [], 'waits for the bus first');
  await sleep(60);
  assert.deepEqual(got, [1, 3, 4], 'seq 2 was erased: skipped, never waited for');
  assert.equal(feed.filledFromStore, 2);
  await feed.stop();
});

test('ordered feed: events committed but never offered (lost at the end of a burst) arrive through the poll', async () => {
  const { store, events, out, feed } = await setup(3);
  feed.start();
  feed.offer([events[0] as StoredEvent]);
  await appendAll(store, [draft(), draft()]);
  const deadline = Date.now() + 2_000;
  while (out.length < 5 && Date.now() < deadline) await sleep(10);
  assert.deepEqual(out, [1, 2, 3, 4, 5]);
  await feed.stop();
});

test('ordered feed: starting after a position hands on only what follows it', async () => {
  const store = new MemoryEventStore();
  const events = await appendAll(store, Array.from({ length: 4 }, () => draft()));
  const got: number[] = [];
  const feed = new OrderedFeed(store, 2, (b) => got.push(...b.map((e) => e.seq ?? -1)));
  feed.offer(events);
  assert.deepEqual(got, [3, 4]);
  await feed.stop();
});
