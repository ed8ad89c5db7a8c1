import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloseCode } from '../../protocol/close-codes.js';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

let srv: TestServer;
before(async () => {
  srv = await startServer({ MAX_SUBSCRIBERS: '20' });
});
after(() => srv.stop());

describe('/ws/publish', () => {
  test('answers every message in order, ack only after the event is stored', async () => {
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    pub.send(event({ session_id: 'p-order' }));
    pub.send('{not json');
    pub.send(event({ event_type: 'nope' }));
    pub.send(event({ session_id: 'p-order' }));
    const replies = (await pub.count(4)) as { status: string; event_id?: string; seq?: number; message?: string }[];
    assert.deepEqual(replies.map((r) => r.status), ['ok', 'error', 'error', 'ok']);
    assert.equal(replies[1]?.message, 'Invalid JSON');
    assert.match(replies[2]?.message ?? '', /nope/);
    assert.ok((replies[3]?.seq ?? 0) > (replies[0]?.seq ?? Infinity));
    const stored = (await (await fetch(`${srv.url}/api/v1/events/${replies[0]?.event_id ?? ''}`)).json()) as { seq: number };
    assert.equal(stored.seq, replies[0]?.seq);
    assert.equal(pub.ws.readyState, pub.ws.OPEN, 'errors leave the connection open');
    pub.close();
  });

  test('a message over the size limit is refused and the connection stays open; binary frames too', async () => {
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    pub.send(JSON.stringify(event({ payload: { t: 'x'.repeat(1_100_000) } })));
    pub.ws.send(Buffer.from(JSON.stringify(event())), { binary: true });
    pub.send(event());
    const replies = (await pub.count(3)) as { status: string; message?: string }[];
    assert.deepEqual(replies.map((r) => r.status), ['error', 'error', 'ok']);
    assert.equal(replies[0]?.message, 'Message too large');
    pub.close();
  });
});

describe('/ws/subscribe', () => {
  test('subscribed ack with normalised filters, then matching events as bare objects', async () => {
    const sub = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    sub.send({ event_types: ['quiz_started'], session_id: 'ws-1' });
    const ack = (await sub.next()) as Record<string, unknown>;
    assert.equal(ack['status'], 'subscribed');
    assert.match(ack['subscriber_id'] as string, /^sub_[0-9a-f]{8}$/);
    assert.deepEqual(ack['filters'], { event_types: ['quiz_started'], session_id: 'ws-1', user_id: null });
    await postEvent(srv.url, event({ event_type: 'answer_submitted', session_id: 'ws-1' }));
    await postEvent(srv.url, event({ event_type: 'quiz_started', session_id: 'ws-2' }));
    const published = (await (await postEvent(srv.url, event({ event_type: 'quiz_started', session_id: 'ws-1' }))).json());
    assert.deepEqual(await sub.next(), published);
    sub.close();
  });

  test('ping → pong; update_filters replaces the filters', async () => {
    const sub = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    sub.send({ session_id: 'upd-1' });
    await sub.next();
    sub.send({ type: 'ping' });
    assert.deepEqual(await sub.next(), { type: 'pong' });
    sub.send({ type: 'update_filters', filters: { session_id: 'upd-2' } });
    assert.deepEqual(await sub.next(), { status: 'filters_updated', filters: { event_types: [], session_id: 'upd-2', user_id: null } });
    await postEvent(srv.url, event({ session_id: 'upd-1' }));
    const e = (await (await postEvent(srv.url, event({ session_id: 'upd-2' }))).json()) as { id: string };
    assert.equal(((await sub.next()) as { id: string }).id, e.id);
    sub.close();
  });

  test('an invalid config gets an error and subscribes to nothing; a valid one afterwards works (D8)', async () => {
    const sub = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    for (const bad of ['5', '"all"', '[]', '{"event_types":"quiz_started"}', '{"event_types":["nope"]}', '{bad json']) {
      sub.send(bad);
      const r = (await sub.next()) as { status: string; message: string };
      assert.equal(r.status, 'error', bad);
    }
    await postEvent(srv.url, event({ session_id: 'inv-1' }));
    const stats = (await (await fetch(`${srv.url}/api/v1/stats`)).json()) as { router: { active_subscribers: number } };
    const before = stats.router.active_subscribers;
    sub.send({ session_id: 'inv-1' });
    assert.equal(((await sub.next()) as { status: string }).status, 'subscribed');
    const after = (await (await fetch(`${srv.url}/api/v1/stats`)).json()) as { router: { active_subscribers: number } };
    assert.equal(after.router.active_subscribers, before + 1);
    sub.send({ type: 'update_filters', filters: 5 });
    assert.equal(((await sub.next()) as { status: string }).status, 'error');
    const e = (await (await postEvent(srv.url, event({ session_id: 'inv-1' }))).json()) as { id: string };
    assert.equal(((await sub.next()) as { id: string }).id, e.id, 'a bad update_filters keeps the current filters');
    sub.close();
  });

  test('invalid JSON after subscribing is ignored and the connection stays open', async () => {
    const sub = await subscribe(srv.wsUrl, { session_id: 'ign-1' });
    sub.send('{oops');
    sub.send('[1,2]');
    sub.send({ type: 'ping' });
    assert.deepEqual(await sub.next(), { type: 'pong' });
    sub.close();
  });

  test('a quiet subscriber gets keepalives; no filter config in time closes with the timeout code', async () => {
    const quick = await startServer({ KEEPALIVE_INTERVAL_MS: '200', SUBSCRIBE_TIMEOUT_MS: '400' });
    try {
      const sub = await subscribe(quick.wsUrl, { session_id: 'quiet' });
      assert.deepEqual(await sub.next(2000), { type: 'keepalive' });
      sub.close();
      const silent = await TestSocket.open(`${quick.wsUrl}/ws/subscribe`);
      assert.equal(await silent.closed, CloseCode.SUBSCRIBE_TIMEOUT);
    } finally {
      await quick.stop();
    }
  });

  test('past MAX_SUBSCRIBERS a subscriber is refused with an error and close 4001', async () => {
    const subs = await Promise.all(Array.from({ length: 20 }, () => subscribe(srv.wsUrl, { session_id: 'cap' }).catch(() => undefined)));
    const extra = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    extra.send({ session_id: 'cap' });
    assert.equal(await extra.closed, CloseCode.TOO_MANY_SUBSCRIBERS);
    assert.equal((extra.messages[0] as { status: string }).status, 'error');
    for (const s of subs) s?.close();
  });

  test('unknown WebSocket paths are refused before the upgrade', async () => {
    await assert.rejects(TestSocket.open(`${srv.wsUrl}/ws/nothing`), /404/);
  });
});

describe('heartbeat', () => {
  test('a peer that stops answering pings is disconnected; one that answers stays', async () => {
    const quick = await startServer({ WS_PING_INTERVAL_MS: '150' });
    try {
      const dead = await TestSocket.open(`${quick.wsUrl}/ws/subscribe`, { autoPong: false });
      const alive = await subscribe(quick.wsUrl, { session_id: 'hb' });
      dead.send({ session_id: 'hb' });
      assert.equal(await dead.closed, 1006, 'cut without a close handshake');
      assert.equal(alive.ws.readyState, alive.ws.OPEN);
      alive.close();
    } finally {
      await quick.stop();
    }
  });
});
