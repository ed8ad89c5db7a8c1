import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloseCode } from '../../protocol/close-codes.js';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

interface Wire {
  id?: string;
  seq?: number | null;
  type?: string;
  status?: string;
  session_id?: string | null;
  timestamp?: string;
  reason?: string;
  from?: number;
}

const isEvent = (m: Wire): boolean => typeof m.id === 'string';
const eventsOf = (s: TestSocket): Wire[] => (s.messages as Wire[]).filter(isEvent);
const caughtUp = (s: TestSocket): Wire | undefined => (s.messages as Wire[]).find((m) => m.type === 'caught_up');

async function publishMany(srv: TestServer, n: number, make: (i: number) => Record<string, unknown>): Promise<{ event_id: string; seq: number }[]> {
  const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
  for (let i = 0; i < n; i++) pub.send(make(i));
  const acks = (await pub.count(n, 60_000)) as { status: string; event_id: string; seq: number }[];
  pub.close();
  assert.ok(acks.every((a) => a.status === 'ok'));
  return acks;
}

describe('resume', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv.stop();
  });

  test('from "earliest": stored events in seq order, then caught_up, then live; the ack carries head_seq', async () => {
    const acks = await publishMany(srv, 120, (i) => event({ session_id: 'r-early', payload: { i } }));
    const head = acks.at(-1)?.seq ?? 0;
    const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    s.send({ session_id: 'r-early', from: 'earliest' });
    const ack = (await s.next()) as { status: string; head_seq: number };
    assert.equal(ack.status, 'subscribed');
    assert.ok(ack.head_seq >= head);
    await s.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
    const replayed = eventsOf(s);
    assert.deepEqual(replayed.map((e) => e.id), acks.map((a) => a.event_id));
    assert.ok((caughtUp(s)?.seq ?? 0) >= head);
    const live = await (await postEvent(srv.url, event({ session_id: 'r-early' }))).json() as Wire;
    await s.until((m) => (m as Wire[]).some((x) => x.id === live.id), 5_000, 'the live event');
    assert.equal(eventsOf(s).length, 121);
    s.close();
  });

  test('from a seq: only the events after it; from a time: the events at or after it', async () => {
    const acks = await publishMany(srv, 40, (i) => event({ session_id: 'r-seq', payload: { i } }));
    const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    s.send({ session_id: 'r-seq', from: acks[29]?.seq });
    await s.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
    assert.deepEqual(eventsOf(s).map((e) => e.id), acks.slice(30).map((a) => a.event_id));
    s.close();

    const stored = (await (await fetch(`${srv.url}/api/v1/events?session_id=r-seq&order=asc&limit=100`)).json()) as Wire[];
    const t = stored[10]?.timestamp as string;
    const expected = stored.filter((e) => (e.timestamp as string) >= t).map((e) => e.id);
    const byTime = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    byTime.send({ session_id: 'r-seq', from: { time: t } });
    await byTime.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
    assert.deepEqual(eventsOf(byTime).map((e) => e.id), expected);
    byTime.close();
  });

  test('subscribing from "earliest" while a publisher runs flat out: every event exactly once, in seq order', async () => {
    const n = 6000;
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    for (let i = 0; i < n; i++) pub.send(event({ session_id: 'r-race', payload: { i } }));
    // Subscribe while the publisher's events are still being committed.
    await pub.until((m) => m.length >= 500, 20_000, 'some acks');
    const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    s.send({ session_id: 'r-race', from: 'earliest' });
    const acks = (await pub.count(n, 60_000)) as { event_id: string }[];
    await s.until(() => eventsOf(s).length >= n, 30_000, 'every event');
    await new Promise((r) => setTimeout(r, 100));
    const got = eventsOf(s);
    assert.equal(got.length, n, 'no duplicates');
    assert.deepEqual(got.map((e) => e.id), acks.map((a) => a.event_id), 'no gap, in order');
    assert.ok(caughtUp(s) !== undefined);
    pub.close();
    s.close();
  });

  test('update_filters with from restarts delivery from there with the new filters', async () => {
    const a = await publishMany(srv, 10, () => event({ session_id: 'r-upd-a' }));
    const b = await publishMany(srv, 10, () => event({ session_id: 'r-upd-b' }));
    const s = await subscribe(srv.wsUrl, { session_id: 'r-upd-a' });
    s.send({ type: 'update_filters', filters: { session_id: 'r-upd-b', from: b[4]?.seq } });
    await s.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
    assert.equal((s.messages[0] as Wire).status, 'filters_updated');
    assert.deepEqual(eventsOf(s).map((e) => e.id), b.slice(5).map((x) => x.event_id));
    assert.ok(a.length === 10);
    s.close();
  });

  test('an invalid from is refused and subscribes to nothing', async () => {
    for (const from of [-1, 'yesterday', { time: 'noon' }, [1], 1.5]) {
      const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
      s.send({ from });
      const reply = (await s.next()) as { status: string; code: string };
      assert.equal(reply.status, 'error', JSON.stringify(from));
      assert.equal(reply.code, 'FILTER_INVALID');
      s.close();
    }
  });
});

describe('resume after history is gone', () => {
  test('a position before deleted history gets an explicit reset, then what is left; a seq beyond the head too', async () => {
    const srv = await startServer();
    try {
      const old = await publishMany(srv, 20, () => event({ session_id: 'r-del' }));
      await new Promise((r) => setTimeout(r, 5));
      const cut = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      const kept = await publishMany(srv, 5, () => event({ session_id: 'r-del' }));
      const del = (await (await fetch(`${srv.url}/api/v1/events?before=${encodeURIComponent(cut)}`, { method: 'DELETE' })).json()) as { deleted: number };
      assert.equal(del.deleted, 20);

      const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
      s.send({ session_id: 'r-del', from: old[3]?.seq });
      await s.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
      const reset = s.messages[1] as Wire;
      assert.equal(reset.type, 'reset');
      assert.equal(reset.reason, 'history_deleted');
      assert.equal(reset.from, old[19]?.seq, 'names the position it serves from');
      assert.deepEqual(eventsOf(s).map((e) => e.id), kept.map((k) => k.event_id));
      s.close();

      const byTime = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
      byTime.send({ session_id: 'r-del', from: { time: '2000-01-01T00:00:00Z' } });
      await byTime.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
      assert.equal((byTime.messages[1] as Wire).reason, 'history_deleted');
      byTime.close();

      const ahead = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
      ahead.send({ session_id: 'r-del', from: 1_000_000 });
      await ahead.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
      assert.equal((ahead.messages[1] as Wire).reason, 'cursor_ahead');
      assert.deepEqual(eventsOf(ahead).map((e) => e.id), kept.map((k) => k.event_id));
      ahead.close();

      const fine = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
      fine.send({ session_id: 'r-del', from: old[19]?.seq });
      await fine.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 10_000, 'caught_up');
      assert.ok(!(fine.messages as Wire[]).some((m) => m.type === 'reset'), 'resuming right at the horizon needs no reset');
      assert.equal(eventsOf(fine).length, 5);
      fine.close();
    } finally {
      await srv.stop();
    }
  });
});

test('a slow consumer that is cut off resumes from its last seq and loses nothing', async () => {
  const srv = await startServer({ MAX_QUEUE_SIZE: '50', SUBSCRIBER_QUEUE_MAX_BYTES: '65536' });
  try {
    const slow = await subscribe(srv.wsUrl, { session_id: 'r-slow' });
    slow.ws.pause();
    const big = 'x'.repeat(2000);
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    let sent = 0;
    while (slow.closeCode === undefined && sent < 20_000) {
      for (let i = 0; i < 500; i++) pub.send(event({ session_id: 'r-slow', payload: { i: sent + i, big } }));
      sent += 500;
      await pub.count(sent, 30_000);
      slow.ws.resume();
      await new Promise((r) => setTimeout(r, 20));
      slow.ws.pause();
    }
    slow.ws.resume();
    assert.equal(await slow.closed, CloseCode.SLOW_CONSUMER);
    const acks = pub.messages as { event_id: string; seq: number }[];
    const have = eventsOf(slow);
    const last = have.at(-1)?.seq ?? 0;
    const again = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    again.send({ session_id: 'r-slow', from: last });
    await again.until((m) => (m as Wire[]).some((x) => x.type === 'caught_up'), 30_000, 'caught_up');
    const all = [...have, ...eventsOf(again)].map((e) => e.id);
    assert.deepEqual(all, acks.map((a) => a.event_id), 'before + after the cut = everything, once');
    again.close();
    pub.close();
  } finally {
    await srv.stop();
  }
});
