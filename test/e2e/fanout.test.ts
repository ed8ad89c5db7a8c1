import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CloseCode } from '../../protocol/close-codes.js';
import { EVENT_TYPES } from '../../protocol/event-types.js';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

// The server runs in its own process so that these clients never share its thread.
let srv: ChildServer;
before(async () => {
  srv = await startChildServer();
});
after(() => srv.cleanup());

interface Wire {
  id: string;
  event_type: string;
  session_id: string | null;
  user_id: string | null;
  seq: number;
  payload: { i: number };
}

/** Publishes `count` events over one socket without waiting between them; resolves with the acks. */
async function pipelinePublish(count: number, make: (i: number) => Record<string, unknown>): Promise<{ status: string; event_id: string; seq: number }[]> {
  const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
  for (let i = 0; i < count; i++) pub.send(make(i));
  const acks = (await pub.count(count, 60_000)) as { status: string; event_id: string; seq: number }[];
  pub.close();
  return acks;
}

test('10,000 pipelined events, 3 filtered subscribers: each gets exactly its matches, in seq order', async () => {
  const sessions = ['fan-a', 'fan-b', 'fan-c', null];
  const users = ['u1', 'u2', null];
  const make = (i: number) => ({
    event_type: EVENT_TYPES[i % EVENT_TYPES.length],
    source: 'load',
    session_id: sessions[i % sessions.length],
    user_id: users[i % users.length],
    payload: { i },
  });
  const filters: { event_types?: string[]; session_id?: string; user_id?: string }[] = [
    { event_types: ['answer_submitted', 'quiz_completed'] },
    { session_id: 'fan-b' },
    { user_id: 'u2', event_types: ['quiz_completed', 'answer_changed', 'timer_tick'] },
  ];
  const subs = await Promise.all(filters.map((f) => subscribe(srv.wsUrl, f)));
  const inputs = Array.from({ length: 10_000 }, (_, i) => make(i));
  const acks = await pipelinePublish(inputs.length, (i) => inputs[i] as Record<string, unknown>);
  assert.ok(acks.every((a) => a.status === 'ok'));
  // timer_tick is ephemeral by default: acked and delivered in order, but with no seq.
  const storedSeqs = (list: { seq?: number | null }[]) => list.map((a) => a.seq).filter((q): q is number => typeof q === 'number');
  const ackSeqs = storedSeqs(acks);
  assert.ok(ackSeqs.length < acks.length && ackSeqs.length > 0.9 * acks.length, 'a share of the events is ephemeral');
  for (let i = 1; i < ackSeqs.length; i++) assert.ok((ackSeqs[i] ?? 0) > (ackSeqs[i - 1] ?? 0), 'acks arrive in publish order');

  const expectFor = (f: { event_types?: string[]; session_id?: string; user_id?: string }) =>
    inputs
      .map((e, i) => ({ e, ack: acks[i] }))
      .filter(({ e }) => (f.event_types === undefined || f.event_types.includes(e.event_type as string)) && (f.session_id === undefined || e.session_id === f.session_id) && (f.user_id === undefined || e.user_id === f.user_id))
      .map(({ ack }) => ack?.event_id);

  for (const [k, sub] of subs.entries()) {
    const expected = expectFor(filters[k] ?? {});
    assert.ok(expected.length > 300, 'each filter matches a real share of the traffic');
    await sub.until((m) => m.length >= expected.length, 30_000, `subscriber ${k} events`);
    await new Promise((r) => setTimeout(r, 100));
    const got = sub.messages as Wire[];
    assert.equal(got.length, expected.length, `subscriber ${k}: no extra events`);
    assert.deepEqual(got.map((e) => e.id), expected, `subscriber ${k}: exactly its matches`);
    const seqs = storedSeqs(got);
    for (let i = 1; i < seqs.length; i++) assert.ok((seqs[i] ?? 0) > (seqs[i - 1] ?? 0), 'seq order');
    sub.close();
  }
});

test('a subscriber that stops reading is closed as a slow consumer; memory stays bounded; others get everything', async () => {
  const slow = await subscribe(srv.wsUrl, {});
  const normal = await subscribe(srv.wsUrl, {});
  slow.ws.pause();
  const big = 'x'.repeat(1000);
  let maxQueued = 0;
  const sampler = setInterval(() => {
    void fetch(`${srv.url}/api/v1/stats`)
      .then((r) => r.json() as Promise<{ router: { queue_size: number } }>)
      .then((s) => {
        maxQueued = Math.max(maxQueued, s.router.queue_size);
      });
  }, 25);
  // Pipelined in chunks of 1,000, each sent once the reading subscriber has caught up, so a
  // busy test machine can never make *it* the slow one; the paused one falls behind by all.
  const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
  for (let sent = 0; sent < 20_000; sent += 1000) {
    for (let i = sent; i < sent + 1000; i++) pub.send({ event_type: 'timer_tick', source: 'timer', session_id: 'slow', payload: { i, big } });
    await pub.until((m) => m.length >= sent + 1000, 30_000, 'acks');
    await normal.until((m) => m.length >= sent + 1000, 30_000, 'the reading subscriber to catch up');
  }
  const acks = pub.messages as { status: string; event_id: string }[];
  pub.close();
  clearInterval(sampler);
  assert.equal(acks.length, 20_000);
  assert.ok(acks.every((a) => a.status === 'ok'));
  const got = normal.messages as Wire[];
  assert.deepEqual(got.map((e) => e.id), acks.map((a) => a.event_id));
  slow.ws.resume();
  assert.equal(await slow.closed, CloseCode.SLOW_CONSUMER);
  assert.ok(slow.messages.length < 20_000, 'the slow subscriber did not get everything');
  // Queues never held more than the per-subscriber bounds (4 MiB of ~1.1 KB frames each).
  assert.ok(maxQueued <= 2 * 4000, `queue_size peaked at ${maxQueued}`);
  const rssMb = Number((await import('node:fs')).readFileSync(`/proc/${String(srv.proc.pid)}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
  assert.ok(rssMb < 400, `server peak RSS ${rssMb.toFixed(0)} MB`);
  const stats = (await (await fetch(`${srv.url}/api/v1/stats`)).json()) as {
    slow_consumer_disconnects: number;
    dropped: number;
    router: { active_subscribers: number };
  };
  assert.equal(stats.slow_consumer_disconnects, 1);
  assert.equal(stats.router.active_subscribers, 1, 'only the reading subscriber is left');
  assert.ok(stats.dropped > 0);
  normal.close();
});
