import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES, type EventType } from '../../protocol/event-types.js';
import type { StoredEvent } from '../domain/event.js';
import { matches, type Filter } from '../domain/filter.js';
import { Router, type Subscription } from './router.js';
import { SendQueue } from './send-queue.js';
import type { DeliverySink } from './sink.js';

class RecordingSink implements DeliverySink {
  readonly encode = (e: { json: string }): Buffer => Buffer.from(e.json);
  readonly frames: string[] = [];
  encodeMessage(_kind: string, json: string): Buffer {
    return Buffer.from(json);
  }
  closed: number | undefined;
  write(frame: Buffer): boolean {
    this.frames.push(frame.toString());
    return true;
  }
  onDrain(): void {}
  close(code: number): void {
    this.closed = code;
  }
}

const observer = { queued: () => undefined, sent: () => undefined, slowConsumer: () => undefined };

function subscription(id: string, filter: Filter): Subscription & { sink: RecordingSink } {
  const sink = new RecordingSink();
  return { id, tenant: 'default', filter, sink, queue: new SendQueue(sink, { maxEvents: 1_000_000, maxBytes: 1e9 }, observer), catchup: undefined };
}

function stored(seq: number, eventType: EventType, sessionId: string | null, userId: string | null): StoredEvent {
  return { seq, id: `evt_${String(seq).padStart(12, '0')}`, tenant: 'default', eventType, sessionId, userId, timestampUs: seq, json: JSON.stringify({ seq }) };
}

const small = (prefix: string) => fc.option(fc.constantFrom(`${prefix}1`, `${prefix}2`, `${prefix}3`), { nil: null });
const typeArb = fc.constantFrom(...EVENT_TYPES.slice(0, 4));
const filterArb = fc.record({ eventTypes: fc.uniqueArray(typeArb, { maxLength: 3 }).map((a) => new Set(a)), sessionId: small('s'), userId: small('u') });
const eventArb = fc.tuple(typeArb, small('s'), small('u'));

test('router - each subscription gets exactly the events its filter matches, in order, whatever the index', () => {
  fc.assert(
    fc.property(fc.array(filterArb, { minLength: 1, maxLength: 12 }), fc.array(eventArb, { maxLength: 60 }), (filters, events) => {
      const router = new Router();
      const subs = filters.map((f, i) => subscription(`sub_${i}`, f));
      subs.forEach((s) => router.add(s));
      const batch = events.map(([t, s, u], i) => stored(i + 1, t, s, u));
      router.deliver(batch);
      for (const sub of subs) {
        const expected = batch.filter((e) => matches(sub.filter, e)).map((e) => e.json);
        assert.deepEqual(sub.sink.frames, expected);
      }
    }),
    { numRuns: 300, seed: 42 },
  );
});

test('router - re-filtering moves a subscription between indexes', () => {
  const router = new Router();
  const sub = subscription('a', { eventTypes: new Set(), sessionId: 's1', userId: null });
  router.add(sub);
  router.setFilter(sub, { eventTypes: new Set(['quiz_started']), sessionId: null, userId: null });
  router.deliver([stored(1, 'quiz_started', 's2', null), stored(2, 'answer_submitted', 's1', null)]);
  assert.deepEqual(sub.sink.frames, ['{"seq":1}']);
  router.remove(sub);
  router.deliver([stored(3, 'quiz_started', null, null)]);
  assert.equal(sub.sink.frames.length, 1);
  assert.equal(router.size, 0);
});

test('router - subscribing and unsubscribing during a fan-out disturbs nobody else (D7)', () => {
  const router = new Router();
  const all = Array.from({ length: 10 }, (_, i) => subscription(`s${i}`, { eventTypes: new Set(), sessionId: null, userId: null }));
  all.forEach((s) => router.add(s));
  // The third subscriber's sink removes itself and another, and adds a newcomer, mid-delivery.
  const newcomer = subscription('new', { eventTypes: new Set(), sessionId: null, userId: null });
  const churner = all[2] as ReturnType<typeof subscription>;
  const originalWrite = churner.sink.write.bind(churner.sink);
  churner.sink.write = (frame) => {
    router.remove(churner);
    router.remove(all[7] as Subscription);
    router.add(newcomer);
    return originalWrite(frame);
  };
  router.deliver([stored(1, 'quiz_started', null, null), stored(2, 'quiz_started', null, null)]);
  for (const [i, s] of all.entries()) {
    if (i === 2) assert.deepEqual(s.sink.frames, ['{"seq":1}']);
    else if (i === 7) assert.ok(s.sink.frames.length <= 2);
    else assert.deepEqual(s.sink.frames, ['{"seq":1}', '{"seq":2}'], `subscriber ${i}`);
  }
});
