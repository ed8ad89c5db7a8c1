import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

interface Wire {
  id: string;
  seq: number | null;
  duplicate?: boolean;
}

describe('idempotent publish', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv.stop();
  });

  const count = async (session: string): Promise<number> =>
    ((await (await fetch(`${srv.url}/api/v1/events?session_id=${session}&limit=1000`)).json()) as unknown[]).length;

  test('REST: a retry with the same Idempotency-Key returns the first event marked duplicate, stored and delivered once', async () => {
    const sub = await subscribe(srv.wsUrl, { session_id: 'idem-rest' });
    const body = event({ session_id: 'idem-rest', payload: { answer: 'B' } });
    const first = await postEvent(srv.url, body, { 'Idempotency-Key': 'answer-42' });
    assert.equal(first.status, 201);
    const a = (await first.json()) as Wire;
    assert.equal(a.duplicate, undefined);
    const second = await postEvent(srv.url, body, { 'Idempotency-Key': 'answer-42' });
    assert.equal(second.status, 201);
    const b = (await second.json()) as Wire;
    assert.deepEqual(b, { ...a, duplicate: true });
    assert.equal(await count('idem-rest'), 1);
    await sub.until((m) => m.length >= 1, 5_000, 'the event');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sub.messages.length, 1, 'delivered once');
    sub.close();
  });

  test('REST: the same key with a different event is a 409 naming the key field; nothing is stored', async () => {
    const body = event({ session_id: 'idem-409', payload: { answer: 'A' } });
    assert.equal((await postEvent(srv.url, body, { 'Idempotency-Key': 'k-409' })).status, 201);
    const res = await postEvent(srv.url, { ...body, payload: { answer: 'C' } }, { 'Idempotency-Key': 'k-409' });
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('x-error-code'), 'IDEMPOTENCY_KEY_CONFLICT');
    const detail = ((await res.json()) as { detail: { loc: unknown[] }[] }).detail;
    assert.ok(Array.isArray(detail) && detail.length === 1);
    assert.equal(await count('idem-409'), 1);
  });

  test('a key that is not 1-255 visible ASCII characters is a 422', async () => {
    for (const key of ['x'.repeat(256), 'with space']) {
      const res = await postEvent(srv.url, event({ session_id: 'idem-bad' }), { 'Idempotency-Key': key });
      assert.equal(res.status, 422, key);
    }
    const ws = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    ws.send(event({ session_id: 'idem-bad', idempotency_key: 'clé' }));
    ws.send(event({ session_id: 'idem-bad', idempotency_key: 42 }));
    const replies = (await ws.count(2)) as { status: string }[];
    assert.deepEqual(replies.map((r) => r.status), ['error', 'error']);
    ws.close();
    assert.equal(await count('idem-bad'), 0);
  });

  test('WebSocket: idempotency_key on a message; the retry is acked as a duplicate with the first id and seq', async () => {
    const ws = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    const e = event({ session_id: 'idem-ws', idempotency_key: 'ws-1' });
    ws.send(e);
    ws.send(e);
    ws.send({ ...e, payload: { other: true } });
    type Ack = { status: string; event_id: string; seq: number; duplicate?: boolean; code?: string };
    const [a, b, c] = (await ws.count(3)) as [Ack, Ack, Ack];
    assert.equal(a.status, 'ok');
    assert.deepEqual(b, { status: 'ok', event_id: a.event_id, seq: a.seq, duplicate: true });
    assert.equal(c.status, 'error');
    assert.equal(c.code, 'IDEMPOTENCY_KEY_CONFLICT');
    ws.close();
    assert.equal(await count('idem-ws'), 1);
  });

  test('batch: per-item keys, repeats inside one batch included; results in order', async () => {
    const items = [
      event({ session_id: 'idem-batch', idempotency_key: 'b-1' }),
      event({ session_id: 'idem-batch', idempotency_key: 'b-1' }),
      event({ session_id: 'idem-batch', idempotency_key: 'b-1', payload: { changed: 1 } }),
      event({ session_id: 'idem-batch' }),
    ];
    const res = await fetch(`${srv.url}/api/v1/events/batch`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(items) });
    assert.equal(res.status, 200);
    type Item = { status: string; event_id?: string; duplicate?: boolean; detail?: { loc: unknown[] }[] };
    const [first, retry, changed, plain] = (await res.json()) as [Item, Item, Item, Item];
    assert.deepEqual([first, retry, changed, plain].map((r) => r.status), ['ok', 'ok', 'error', 'ok']);
    assert.equal(retry.duplicate, true);
    assert.equal(retry.event_id, first.event_id);
    assert.deepEqual(changed.detail?.map((d) => d.loc), [['body', 2, 'idempotency_key']]);
    assert.equal(await count('idem-batch'), 2);
    // The same batch again: every keyed item is now a duplicate; the unkeyed one is new.
    const again = (await (await fetch(`${srv.url}/api/v1/events/batch`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(items.slice(0, 2)) })).json()) as { duplicate?: boolean }[];
    assert.deepEqual(again.map((r) => r.duplicate), [true, true]);
  });
});

describe('ephemeral types', () => {
  test('timer_tick by default: acknowledged and delivered live with seq null, never stored, counted in stats', async () => {
    const srv = await startServer();
    try {
      const sub = await subscribe(srv.wsUrl, { session_id: 'eph' });
      const res = await postEvent(srv.url, event({ session_id: 'eph', event_type: 'timer_tick', payload: { remaining: 30 } }));
      assert.equal(res.status, 201);
      const tick = (await res.json()) as Wire;
      assert.equal(tick.seq, null);
      assert.match(tick.id, /^evt_[0-9a-f]{12}$/);
      await sub.until((m) => m.length === 1, 5_000, 'the tick');
      assert.equal((sub.messages[0] as Wire).id, tick.id);
      assert.equal((await fetch(`${srv.url}/api/v1/events/${tick.id}`)).status, 404);
      assert.equal(((await (await fetch(`${srv.url}/api/v1/events?session_id=eph`)).json()) as unknown[]).length, 0);
      const stats = (await (await fetch(`${srv.url}/api/v1/stats`)).json()) as { total_events: number; events_ephemeral: number; events_accepted: number; by_type: unknown[] };
      assert.equal(stats.total_events, 0);
      assert.equal(stats.events_ephemeral, 1);
      assert.equal(stats.events_accepted, 1);
      assert.deepEqual(stats.by_type, []);
      // A replay never includes ticks: they were never stored.
      const replay = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
      replay.send({ session_id: 'eph', from: 'earliest' });
      await replay.until((m) => (m as { type?: string }[]).some((x) => x.type === 'caught_up'), 5_000, 'caught_up');
      assert.equal(replay.messages.length, 2, 'the ack and caught_up only');
      replay.close();
      sub.close();
    } finally {
      await srv.stop();
    }
  });

  test('EPHEMERAL_EVENT_TYPES=none stores every type', async () => {
    const srv = await startServer({ EPHEMERAL_EVENT_TYPES: 'none' });
    try {
      const tick = (await (await postEvent(srv.url, event({ event_type: 'timer_tick' }))).json()) as Wire;
      assert.equal(typeof tick.seq, 'number');
      assert.equal((await fetch(`${srv.url}/api/v1/events/${tick.id}`)).status, 200);
    } finally {
      await srv.stop();
    }
  });
});
