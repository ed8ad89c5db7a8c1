import { DEFAULT_TENANT } from '../domain/tenant.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventDraft, LiveEvent } from '../domain/event.js';
import { createLogger } from '../log/logger.js';
import { PipelineCounters } from '../stats/counters.js';
import type { EventQuery } from '../storage/event-store.js';
import { MemoryEventStore } from '../storage/memory/memory-event-store.js';
import type { DeliverySink } from './sink.js';
import { SubscriptionService } from './subscription-service.js';

class RecordingSink implements DeliverySink {
  readonly out: string[] = [];
  writable = true;
  #drain: (() => void) | undefined;
  readonly encode = (e: { json: string }): Buffer => Buffer.from(e.json);
  encodeMessage(_kind: string, json: string): Buffer {
    return Buffer.from(json);
  }
  write(frame: Buffer): boolean {
    this.out.push(frame.toString());
    return this.writable;
  }
  onDrain(cb: () => void): void {
    this.#drain = cb;
  }
  drain(): void {
    this.writable = true;
    const cb = this.#drain;
    this.#drain = undefined;
    cb?.();
  }
  close(): void {}
  get events(): { seq: number }[] {
    return this.out.map((s) => JSON.parse(s) as { seq?: number; type?: string }).filter((m): m is { seq: number } => m.type === undefined);
  }
  get caughtUp(): { seq: number }[] {
    return this.out.map((s) => JSON.parse(s) as { type?: string; seq: number }).filter((m) => m.type === 'caught_up');
  }
}

const TENANT = DEFAULT_TENANT;
const draft = (i: number): EventDraft => ({ tenant: TENANT, eventType: 'answer_submitted', source: 't', sessionId: 's', userId: null, payloadJson: `{"i":${String(i)}}`, receivedAtUs: 1_000_000 + i });

/**
 * A store whose reads let "concurrent" commits land first: before each query resolves, `during`
 * commits more events and hands them to delivery, as publishers running flat out would.
 */
function racingSetup(limits: { maxEvents: number; maxBytes: number; pageSize: number }) {
  const store = new MemoryEventStore();
  let n = 0;
  const commit = async (k: number): Promise<void> => {
    const results = await store.append(Array.from({ length: k }, () => draft(n++)));
    service.deliver(results.map((r) => (r as { event: LiveEvent }).event));
  };
  let during = 0;
  const query = store.query.bind(store);
  store.query = async (q: EventQuery) => {
    const page = await query(q);
    if (during > 0) await commit(during);
    return page;
  };
  const service = new SubscriptionService({ maxEvents: limits.maxEvents, maxBytes: limits.maxBytes, maxSubscribers: 10, replayPageSize: limits.pageSize }, store, new PipelineCounters(), createLogger('error', () => undefined));
  return { store, service, commit, setDuring: (k: number) => (during = k), committed: () => n };
}

const settle = () => new Promise((r) => setImmediate(r));

test('catch-up: commits landing during every read are delivered once, in order, then caught_up', async () => {
  const { service, commit, setDuring, committed } = racingSetup({ maxEvents: 1000, maxBytes: 1e9, pageSize: 7 });
  await commit(50);
  setDuring(3);
  const sink = new RecordingSink();
  service.open(sink, TENANT, { eventTypes: new Set(), sessionId: 's', userId: null }, { kind: 'earliest' });
  for (let i = 0; i < 50 && sink.caughtUp.length === 0; i++) await settle();
  setDuring(0);
  await commit(5);
  assert.equal(sink.caughtUp.length, 1);
  assert.deepEqual(sink.events.map((e) => e.seq), Array.from({ length: committed() }, (_, i) => i + 1));
});

test('catch-up: when held live events overflow their bound they are dropped and read from the store instead', async () => {
  // Holding at most 2 events while 3 commit during each read: the hold overflows every time,
  // so only reads can finish the job; the replay still ends once a read comes back short.
  const { service, commit, setDuring, committed } = racingSetup({ maxEvents: 2, maxBytes: 1e9, pageSize: 10 });
  await commit(30);
  setDuring(3);
  const sink = new RecordingSink();
  service.open(sink, TENANT, { eventTypes: new Set(), sessionId: 's', userId: null }, { kind: 'seq', seq: 4 });
  for (let i = 0; i < 8; i++) await settle();
  setDuring(0);
  for (let i = 0; i < 50 && sink.caughtUp.length === 0; i++) await settle();
  await commit(2);
  assert.equal(sink.caughtUp.length, 1);
  assert.deepEqual(sink.events.map((e) => e.seq), Array.from({ length: committed() - 4 }, (_, i) => i + 5));
});

test('catch-up: a replay waits for the socket to drain instead of filling the queue', async () => {
  const { service, commit } = racingSetup({ maxEvents: 5, maxBytes: 1e9, pageSize: 100 });
  await commit(40);
  const sink = new RecordingSink();
  sink.writable = false;
  const sub = service.open(sink, TENANT, { eventTypes: new Set(), sessionId: 's', userId: null }, { kind: 'earliest' });
  for (let i = 0; i < 10; i++) await settle();
  assert.equal(sink.out.length, 1, 'one write, then it waits for drain');
  assert.equal(sub.queue.closed, false, 'never a slow consumer for replaying');
  for (let i = 0; i < 100 && sink.caughtUp.length === 0; i++) {
    sink.drain();
    sink.writable = i % 2 === 0;
    await settle();
  }
  assert.equal(sink.events.length, 40);
  assert.equal(sink.caughtUp.length, 1);
});

test('catch-up in a cluster: events the store holds but delivery has not reached yet come once, live, after the replay', async () => {
  const { store, service, commit } = racingSetup({ maxEvents: 1000, maxBytes: 1e9, pageSize: 5 });
  await commit(10);
  // Another instance committed 11..15: in the store, not yet brought by the bus.
  const later = (await store.append(Array.from({ length: 5 }, (_, i) => draft(100 + i)))).map((r) => (r as { event: LiveEvent }).event);
  const sink = new RecordingSink();
  service.open(sink, TENANT, { eventTypes: new Set(), sessionId: 's', userId: null }, { kind: 'seq', seq: 3 });
  for (let i = 0; i < 50 && sink.caughtUp.length === 0; i++) await settle();
  assert.deepEqual(sink.events.map((e) => e.seq), [4, 5, 6, 7, 8, 9, 10], 'the replay stops at what delivery has handed on');
  assert.deepEqual(sink.caughtUp.map((c) => c.seq), [10]);
  service.deliver(later);
  assert.deepEqual(sink.events.map((e) => e.seq), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 'then live, once each');
});

test('catch-up in a cluster: a position beyond this instance\'s delivery but in the store is waited for, not reset', async () => {
  const { store, service, commit } = racingSetup({ maxEvents: 1000, maxBytes: 1e9, pageSize: 5 });
  await commit(4);
  const later = (await store.append(Array.from({ length: 3 }, (_, i) => draft(100 + i)))).map((r) => (r as { event: LiveEvent }).event);
  const sink = new RecordingSink();
  service.open(sink, TENANT, { eventTypes: new Set(), sessionId: 's', userId: null }, { kind: 'seq', seq: 6 });
  await new Promise((r) => setTimeout(r, 20));
  service.deliver(later);
  for (let i = 0; i < 100 && sink.caughtUp.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(!sink.out.some((m) => m.includes('"reset"')), 'no reset');
  assert.deepEqual(sink.events.map((e) => e.seq), [7]);
});
