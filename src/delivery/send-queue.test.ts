import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../protocol/close-codes.js';
import { SendQueue } from './send-queue.js';
import type { DeliverySink } from './sink.js';

class ManualSink implements DeliverySink {
  readonly encode = (): Buffer => Buffer.alloc(0);
  encodeMessage(_kind: string, json: string): Buffer {
    return Buffer.from(json);
  }
  written: string[] = [];
  writable = true;
  drain: (() => void) | undefined;
  closed: number | undefined;
  write(frame: Buffer): boolean {
    this.written.push(frame.toString());
    return this.writable;
  }
  onDrain(cb: () => void): void {
    this.drain = cb;
  }
  close(code: number): void {
    this.closed = code;
  }
}

function setup(limits = { maxEvents: 3, maxBytes: 1000 }) {
  const sink = new ManualSink();
  const stats = { queued: 0, sent: 0, slow: 0, dropped: 0 };
  const q = new SendQueue(sink, limits, {
    queued: (d) => (stats.queued += d),
    sent: (n) => (stats.sent += n),
    slowConsumer: (n) => {
      stats.slow++;
      stats.dropped += n;
    },
  });
  return { sink, stats, q };
}

const f = (s: string) => Buffer.from(s);

test('send queue - writes straight through while the socket keeps up', () => {
  const { sink, stats, q } = setup();
  for (const s of ['a', 'b', 'c', 'd', 'e']) assert.ok(q.push(f(s)));
  assert.deepEqual(sink.written, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(q.length, 0);
  assert.equal(stats.sent, 5);
});

test('send queue - holds frames while the socket drains, then sends them in order', () => {
  const { sink, stats, q } = setup();
  sink.writable = false;
  q.push(f('a'));
  q.push(f('b'));
  q.push(f('c'));
  assert.deepEqual(sink.written, ['a']);
  assert.equal(q.length, 2);
  assert.equal(stats.queued, 2);
  sink.writable = true;
  sink.drain?.();
  assert.deepEqual(sink.written, ['a', 'b', 'c']);
  assert.equal(stats.queued, 0);
  assert.equal(stats.sent, 3);
});

test('send queue - a subscriber over its event bound is closed as a slow consumer', () => {
  const { sink, stats, q } = setup({ maxEvents: 3, maxBytes: 1_000_000 });
  sink.writable = false;
  for (const s of ['a', 'b', 'c', 'd']) assert.ok(q.push(f(s)));
  assert.equal(q.push(f('e')), false);
  assert.equal(sink.closed, CloseCode.SLOW_CONSUMER);
  assert.equal(stats.slow, 1);
  assert.equal(stats.dropped, 4);
  assert.equal(stats.queued, 0, 'dropped frames are released');
  assert.equal(q.push(f('f')), false, 'a closed queue takes nothing');
  sink.drain?.();
  assert.deepEqual(sink.written, ['a']);
});

test('send queue - the byte bound applies too', () => {
  const { sink, q } = setup({ maxEvents: 1000, maxBytes: 10 });
  sink.writable = false;
  q.push(f('first'));
  assert.ok(q.push(f('123456')));
  assert.equal(q.push(f('123456')), false);
  assert.equal(sink.closed, CloseCode.SLOW_CONSUMER);
});

test('send queue - control frames keep their place among events and are not counted as deliveries', async () => {
  const { sink, stats, q } = setup({ maxEvents: 10, maxBytes: 1000 });
  sink.writable = false;
  q.push(f('a'));
  assert.equal(q.backlogged, true);
  q.push(f('b'));
  q.pushControl(f('caught_up'));
  q.push(f('c'));
  let woke = false;
  const waiting = q.writable().then(() => (woke = true));
  await Promise.resolve();
  assert.equal(woke, false, 'writable() waits while the socket is full');
  sink.writable = true;
  sink.drain?.();
  await waiting;
  assert.equal(woke, true);
  assert.deepEqual(sink.written, ['a', 'b', 'caught_up', 'c']);
  assert.equal(stats.sent, 3);
  assert.equal(stats.queued, 0);
});

test('send queue - writable() resolves when the queue is discarded, so no waiter hangs', async () => {
  const { sink, q } = setup();
  sink.writable = false;
  q.push(f('a'));
  const waiting = q.writable();
  q.discard();
  await waiting;
  assert.equal(q.closed, true);
});
