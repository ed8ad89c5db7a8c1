/**
 * Several instances on PostgreSQL and Redis, as child processes over real sockets: the same
 * guarantees as one node. Each test gets its own PostgreSQL schema and Redis channel prefix;
 * the Redis restart runs against a private redis-server so nothing else is disturbed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { dropSchema, freePort, freshSchema, POSTGRES_URL, postgresMissing, REDIS_URL, redisMissing } from '../support/services.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

const missing = (await postgresMissing()) ?? (await redisMissing());

interface Ack {
  status: string;
  event_id: string;
  seq: number;
}
interface Delivered {
  id: string;
  seq: number;
  session_id: string;
}

async function cluster(n: number, redisUrl = REDIS_URL): Promise<{ nodes: ChildServer[]; env: Record<string, string>; stop: () => Promise<void> }> {
  const schema = freshSchema('cluster');
  const env = { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema, REDIS_URL: redisUrl, REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}` };
  const nodes: ChildServer[] = [];
  // One at a time: the first applies the migrations.
  for (let i = 0; i < n; i++) nodes.push(await startChildServer(env));
  return {
    nodes,
    env,
    stop: async () => {
      await Promise.all(nodes.map((s) => s.cleanup()));
      await dropSchema(schema);
    },
  };
}

/** Publishes over one pipelined WebSocket; resolves with the acks, in order. */
async function publishAll(wsUrl: string, events: Record<string, unknown>[]): Promise<Ack[]> {
  const pub = await TestSocket.open(`${wsUrl}/ws/publish`);
  try {
    for (const e of events) pub.send(e);
    const acks = (await pub.count(events.length, 60_000)) as Ack[];
    for (const a of acks) assert.equal(a.status, 'ok', JSON.stringify(a));
    return acks;
  } finally {
    pub.close();
  }
}

const ev = (session: string, i: number): Record<string, unknown> => ({ event_type: 'answer_submitted', source: 'cluster-test', session_id: session, user_id: `u-${i % 7}`, payload: { i } });

const delivered = (s: TestSocket): Delivered[] => s.messages.filter((m) => typeof (m as { seq?: unknown }).seq === 'number' && (m as { type?: unknown }).type === undefined) as Delivered[];

function assertExactly(got: Delivered[], want: { id: string; seq: number }[], label: string): void {
  const seqs = got.map((d) => d.seq);
  assert.equal(new Set(seqs).size, seqs.length, `${label}: duplicates`);
  for (let i = 1; i < seqs.length; i++) assert.ok((seqs[i] as number) > (seqs[i - 1] as number), `${label}: out of seq order at ${i}`);
  assert.deepEqual(
    got.map((d) => d.id),
    [...want].sort((a, b) => a.seq - b.seq).map((w) => w.id),
    `${label}: exactly the matching events`,
  );
}

describe('cluster: 2 instances on PostgreSQL and Redis', { skip: missing }, () => {
  test('10,000 events over 100 sessions published to both: every subscriber on both gets exactly its events, in seq order', async () => {
    const { nodes, stop } = await cluster(2);
    try {
      const [a, b] = nodes as [ChildServer, ChildServer];
      const subs = [
        { node: 'a', filter: {}, socket: await subscribe(a.wsUrl, {}) },
        { node: 'b', filter: {}, socket: await subscribe(b.wsUrl, {}) },
        { node: 'a', filter: { session_id: 'session-7' }, socket: await subscribe(a.wsUrl, { session_id: 'session-7' }) },
        { node: 'b', filter: { session_id: 'session-42' }, socket: await subscribe(b.wsUrl, { session_id: 'session-42' }) },
        { node: 'b', filter: { user_id: 'u-3' }, socket: await subscribe(b.wsUrl, { user_id: 'u-3' }) },
      ];
      const toA = Array.from({ length: 5_000 }, (_, i) => ev(`session-${(i * 2) % 100}`, i));
      const toB = Array.from({ length: 5_000 }, (_, i) => ev(`session-${(i * 2 + 1) % 100}`, i));
      const [acksA, acksB] = await Promise.all([publishAll(a.wsUrl, toA), publishAll(b.wsUrl, toB)]);
      const all = [...acksA.map((k, i) => ({ ...k, e: toA[i]! })), ...acksB.map((k, i) => ({ ...k, e: toB[i]! }))];
      assert.equal(new Set(all.map((x) => x.seq)).size, 10_000, 'one global seq: no seq given twice');
      for (const s of subs) {
        const want = all
          .filter((x) => Object.entries(s.filter).every(([k, v]) => x.e[k] === v))
          .map((x) => ({ id: x.event_id, seq: x.seq }));
        await s.socket.until(() => delivered(s.socket).length >= want.length, 30_000, `${want.length} events on ${s.node} ${JSON.stringify(s.filter)}`);
        await new Promise((r) => setTimeout(r, 100));
        assertExactly(delivered(s.socket), want, `${s.node} ${JSON.stringify(s.filter)}`);
        s.socket.close();
      }
    } finally {
      await stop();
    }
  });

  test('a subscriber resumes on the other instance from a seq it just got: no gap, no duplicate, no false reset', async () => {
    const { nodes, stop } = await cluster(2);
    try {
      const [a, b] = nodes as [ChildServer, ChildServer];
      const first = await publishAll(a.wsUrl, Array.from({ length: 50 }, (_, i) => ev('resume', i)));
      const onA = await subscribe(a.wsUrl, { session_id: 'resume', from: 'earliest' });
      await onA.until((m) => m.some((x) => (x as { type?: string }).type === 'caught_up'), 10_000, 'caught_up on a');
      const publishing = publishAll(a.wsUrl, Array.from({ length: 500 }, (_, i) => ev('resume', 50 + i)));
      await onA.until(() => delivered(onA).length >= 120, 10_000, 'some live events on a');
      onA.close();
      const last = delivered(onA).at(-1)?.seq ?? 0;
      const onB = await subscribe(b.wsUrl, { session_id: 'resume', from: last });
      const second = await publishing;
      const all = [...first, ...second].map((k) => ({ id: k.event_id, seq: k.seq }));
      const after = all.filter((k) => k.seq > last);
      await onB.until(() => delivered(onB).length >= after.length, 20_000, 'the rest on b');
      assert.ok(!onB.messages.some((x) => (x as { type?: string }).type === 'reset'), 'no reset');
      const seen = [...delivered(onA).filter((d) => d.seq <= last), ...delivered(onB)];
      assertExactly(seen, all, 'a then b');
      onB.close();
    } finally {
      await stop();
    }
  });

  test('kill -9 of one instance mid-run: everything it acknowledged is stored and delivered on the other; its subscribers resume there with no gap', async () => {
    const { nodes, stop } = await cluster(2);
    try {
      const [a, b] = nodes as [ChildServer, ChildServer];
      const watcherOnB = await subscribe(b.wsUrl, { session_id: 'crash' });
      const subOnA = await subscribe(a.wsUrl, { session_id: 'crash' });
      // Publish to a one at a time, recording every ack, until it dies.
      const acked: { id: string; seq: number }[] = [];
      const pub = await TestSocket.open(`${a.wsUrl}/ws/publish`);
      let sent = 0;
      const pump = (async () => {
        while (pub.ws.readyState === pub.ws.OPEN && sent < 5_000) {
          pub.send(ev('crash', sent++));
          if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      })();
      await pub.until((m) => m.length >= 300, 20_000, '300 acks before the crash');
      a.kill('SIGKILL');
      await a.exited;
      await pump;
      for (const m of pub.messages as Ack[]) if (m.status === 'ok') acked.push({ id: m.event_id, seq: m.seq });
      assert.ok(acked.length >= 300);
      // Every acknowledged event is stored (read through b) ...
      const stored = new Set<string>();
      for (let after = 0; ; ) {
        const page = (await (await fetch(`${b.url}/api/v1/events?session_id=crash&after_seq=${after}&order=asc&limit=1000`)).json()) as Delivered[];
        for (const e of page) stored.add(e.id);
        if (page.length < 1000) break;
        after = page.at(-1)!.seq;
      }
      for (const k of acked) assert.ok(stored.has(k.id), `acknowledged ${k.id} (seq ${k.seq}) is stored`);
      // ... and delivered to b's subscriber, in order, once.
      await watcherOnB.until(() => delivered(watcherOnB).length >= stored.size, 10_000, 'every stored event on b');
      const storedList = [...stored];
      assert.equal(delivered(watcherOnB).length, storedList.length);
      // a's subscriber resumes on b from its last seq.
      const last = delivered(subOnA).at(-1)?.seq ?? 0;
      const resumed = await subscribe(b.wsUrl, { session_id: 'crash', from: last });
      await resumed.until((m) => m.some((x) => (x as { type?: string }).type === 'caught_up'), 10_000, 'caught_up on b');
      const seen = [...delivered(subOnA).filter((d) => d.seq <= last), ...delivered(resumed)];
      assertExactly(
        seen,
        delivered(watcherOnB).map((d) => ({ id: d.id, seq: d.seq })),
        'a until the crash, then b',
      );
      for (const s of [watcherOnB, resumed]) s.close();
    } finally {
      await stop();
    }
  });

  test('Redis restarted mid-run: subscribers on both instances are caught up within 2 s of its return, nothing missing', async () => {
    const port = await freePort();
    const redisArgs = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    let redis = spawn('redis-server', redisArgs, { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    const waitRedis = async (): Promise<void> => {
      for (let i = 0; (await redisMissing(url, { quiet: true })) !== undefined; i++) {
        if (i > 200) throw new Error(`the private redis-server on port ${String(port)} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitRedis();
    const { nodes, stop } = await cluster(2, url);
    try {
      const [a, b] = nodes as [ChildServer, ChildServer];
      const subs = [await subscribe(a.wsUrl, { session_id: 'redis' }), await subscribe(b.wsUrl, { session_id: 'redis' })];
      const acks: Ack[] = [];
      acks.push(...(await publishAll(a.wsUrl, Array.from({ length: 200 }, (_, i) => ev('redis', i)))));
      redis.kill('SIGKILL');
      acks.push(...(await publishAll(b.wsUrl, Array.from({ length: 200 }, (_, i) => ev('redis', 200 + i)))));
      redis = spawn('redis-server', redisArgs, { stdio: 'ignore' });
      await waitRedis();
      const back = Date.now();
      acks.push(...(await publishAll(a.wsUrl, Array.from({ length: 200 }, (_, i) => ev('redis', 400 + i)))));
      for (const s of subs) await s.until(() => delivered(s).length >= acks.length, 10_000, 'every event');
      assert.ok(Date.now() - back < 2_000, `caught up ${Date.now() - back} ms after Redis returned`);
      for (const [i, s] of subs.entries()) {
        assertExactly(delivered(s), acks.map((k) => ({ id: k.event_id, seq: k.seq })), `subscriber ${i}`);
        s.close();
      }
      // Readiness reports Redis again once the instance has reconnected (it retries within a second).
      let redisState = '';
      for (let i = 0; i < 40 && redisState !== 'connected'; i++) {
        const ready = (await (await fetch(`${a.url}/readiness`)).json()) as { ready: boolean; redis?: string };
        assert.equal(ready.ready, true, 'an instance serves (from the store) whether Redis is up or not');
        redisState = ready.redis ?? '';
        if (redisState !== 'connected') await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(redisState, 'connected');
    } finally {
      redis.kill('SIGKILL');
      await stop();
    }
  });
});
