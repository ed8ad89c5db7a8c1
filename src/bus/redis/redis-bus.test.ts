import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { freePort, REDIS_URL, redisMissing } from '../../../test/support/services.js';
import { appendAll, draft } from '../../storage/event-store.contract.js';
import { MemoryEventStore } from '../../storage/memory/memory-event-store.js';
import { busContract, until } from '../bus.contract.js';
import { RedisBus } from './redis-bus.js';

const missing = await redisMissing();
const prefix = (): string => `test-${randomBytes(4).toString('hex')}`;

if (missing === undefined) {
  busContract(
    'redis',
    async (store, nodes) => {
      const p = prefix();
      const buses = await Promise.all(Array.from({ length: nodes }, () => RedisBus.open({ url: REDIS_URL, prefix: p, store, onError: () => undefined, feed: { pollMs: 100 } })));
      return { buses, cleanup: async () => {
        await Promise.all(buses.map((b) => b.close()));
      } };
    },
    { nodes: 3 },
  );
}

/** A private redis-server on a free port, so restarting it disturbs nobody else. */
async function privateRedis(port: number): Promise<{ stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5_000;
  for (;;) {
    if ((await redisMissing(url, { quiet: true })) === undefined) break;
    if (Date.now() > deadline) throw new Error('private redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}

describe('redis bus: Redis is the fast path, the store the record', { skip: missing }, () => {
  test('events committed without a Redis message (lost) reach other nodes from the store', async () => {
    const store = new MemoryEventStore();
    const p = prefix();
    const [a, b] = await Promise.all([0, 1].map(() => RedisBus.open({ url: REDIS_URL, prefix: p, store, onError: () => undefined, feed: { pollMs: 50 } })));
    try {
      const got: number[] = [];
      b!.onEvents((events) => got.push(...events.map((e) => e.seq ?? -1)));
      a!.publish(await appendAll(store, [draft()]));
      await appendAll(store, [draft(), draft()]); // committed, never published
      a!.publish(await appendAll(store, [draft()]));
      await until(() => got.length >= 4, 'four events on b', 3_000);
      assert.deepEqual(got, [1, 2, 3, 4]);
      assert.ok(b!.filledFromStore >= 2);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test('Redis down when a node starts: it starts, delivers from the store, and subscribes once Redis is up', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const store = new MemoryEventStore();
    const bus = await RedisBus.open({ url, prefix: 'late', store, onError: () => undefined, feed: { pollMs: 50 } });
    let redis: { stop: () => Promise<void> } | undefined;
    try {
      const got: number[] = [];
      bus.onEvents((events) => got.push(...events.map((e) => e.seq ?? -1)));
      await appendAll(store, [draft(), draft()]); // another node's commits, while Redis is down
      await until(() => got.length >= 2, 'events from the store', 3_000);
      redis = await privateRedis(port);
      await until(() => bus.filledFromStore >= 2, 'filled', 1_000);
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        try {
          await bus.ping();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await bus.ping();
      assert.deepEqual(got, [1, 2]);
    } finally {
      await bus.close();
      await redis?.stop();
    }
  });

  test('Redis restarted mid-stream: every node catches up from the store, in order, nothing missed or repeated', async () => {
    const port = await freePort();
    let redis = await privateRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const store = new MemoryEventStore();
    const [a, b] = await Promise.all([0, 1].map(() => RedisBus.open({ url, prefix: 'restart', store, onError: () => undefined, feed: { pollMs: 100 } })));
    try {
      const got: number[] = [];
      b!.onEvents((events) => got.push(...events.map((e) => e.seq ?? -1)));
      for (let i = 0; i < 20; i++) a!.publish(await appendAll(store, [draft()]));
      await redis.stop();
      for (let i = 0; i < 20; i++) a!.publish(await appendAll(store, [draft()]));
      await until(() => got.length >= 40, 'events committed while Redis is down, from the store', 3_000);
      redis = await privateRedis(port);
      const back = Date.now();
      for (let i = 0; i < 20; i++) a!.publish(await appendAll(store, [draft()]));
      await until(() => got.length >= 60, 'events after Redis returned', 5_000);
      assert.ok(Date.now() - back < 2_000, `caught up ${Date.now() - back} ms after Redis returned`);
      assert.deepEqual(got, Array.from({ length: 60 }, (_, i) => i + 1));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
      await redis.stop();
    }
  });
});
