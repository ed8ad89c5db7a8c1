import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../protocol/close-codes.js';
import { startChildServer } from '../support/child-server.js';
import { event, postEvent } from '../support/server.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

test('SIGTERM: acknowledged events are stored, in-flight ones answered, sockets closed with 1001, exit 0 (D14)', async () => {
  const srv = await startChildServer();
  try {
    const sub = await subscribe(srv.wsUrl, {});
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    for (let i = 0; i < 2000; i++) pub.send(event({ payload: { i } }));
    await pub.until((m) => m.length >= 100, 10_000, 'first acks');
    srv.kill('SIGTERM');
    const [pubCode, subCode, exit] = await Promise.all([pub.closed, sub.closed, srv.exited]);
    assert.equal(exit, 0);
    assert.equal(pubCode, CloseCode.GOING_AWAY);
    assert.equal(subCode, CloseCode.GOING_AWAY);
    const acked = (pub.messages as { status: string; event_id: string }[]).filter((m) => m.status === 'ok').map((m) => m.event_id);
    assert.ok(acked.length >= 100);
    // Subscribers got every acknowledged event before the close.
    const delivered = new Set((sub.messages as { id: string }[]).map((e) => e.id));
    assert.ok(acked.every((id) => delivered.has(id)), 'every acknowledged event was delivered before 1001');

    const again = await startChildServer({}, srv.dir);
    try {
      const total = ((await (await fetch(`${again.url}/api/v1/stats`)).json()) as { total_events: number }).total_events;
      assert.ok(total >= acked.length);
      for (const id of acked) {
        const r = await fetch(`${again.url}/api/v1/events/${id}`);
        assert.equal(r.status, 200, `acknowledged ${id} survived`);
      }
    } finally {
      await again.cleanup();
    }
  } finally {
    await srv.cleanup();
  }
});

test('kill -9: every acknowledged event is still there after a restart', async () => {
  const srv = await startChildServer();
  try {
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    for (let i = 0; i < 3000; i++) pub.send(event({ payload: { i } }));
    await pub.until((m) => m.length >= 1000, 10_000, 'acks');
    srv.kill('SIGKILL');
    await srv.exited;
    await pub.closed;
    const acked = (pub.messages as { status: string; event_id: string; seq: number }[]).filter((m) => m.status === 'ok');
    const again = await startChildServer({}, srv.dir);
    try {
      for (const a of acked) {
        const r = await fetch(`${again.url}/api/v1/events/${a.event_id}`);
        assert.equal(r.status, 200, `acknowledged ${a.event_id} survived`);
        assert.equal(((await r.json()) as { seq: number }).seq, a.seq);
      }
      const after = (await (await postEvent(again.url, event())).json()) as { seq: number };
      assert.ok(after.seq > Math.max(...acked.map((a) => a.seq)), 'seq continues after the head, never reused');
    } finally {
      await again.cleanup();
    }
  } finally {
    await srv.cleanup();
  }
});

test('invalid configuration: the server refuses to start and names the variable', async () => {
  await assert.rejects(startChildServer({ PORT: 'eighty', RATE_LIMIT_PUBLISH: '10/fortnight' }), (err: Error) => {
    assert.match(err.message, /PORT: must be a whole number/);
    assert.match(err.message, /RATE_LIMIT_PUBLISH: must look like/);
    return true;
  });
});

test('secure default: binding beyond loopback with auth off refuses to start with a clear message', async () => {
  await assert.rejects(startChildServer({ HOST: '0.0.0.0' }), (err: Error) => {
    assert.match(err.message, /HOST: 0\.0\.0\.0 is reachable from other machines and REQUIRE_AUTH is off/);
    return true;
  });
});
