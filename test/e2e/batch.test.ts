import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { event, startServer, type TestServer } from '../support/server.js';
import { subscribe, TestSocket } from '../support/ws-client.js';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

type Result = { status: 'ok'; event_id: string; seq: number } | { status: 'error'; detail: { loc: unknown[]; msg: string }[] };

const postBatch = (body: string, contentType = 'application/json') =>
  fetch(`${srv.url}/api/v1/events/batch`, { method: 'POST', headers: { 'Content-Type': contentType }, body });

test('batch - one result per item in order; the valid ones stored together and delivered in order', async () => {
  const sub = await subscribe(srv.wsUrl, { session_id: 'batch-1' });
  const items = [event({ session_id: 'batch-1', payload: { n: 0 } }), { event_type: 'nope', source: 'x' }, event({ session_id: 'batch-1', payload: { n: 2 } }), 5];
  const r = await postBatch(JSON.stringify(items));
  assert.equal(r.status, 200);
  const results = (await r.json()) as Result[];
  assert.deepEqual(results.map((x) => x.status), ['ok', 'error', 'ok', 'error']);
  const [a, bad, c] = results as [Result & { status: 'ok' }, Result & { status: 'error' }, Result & { status: 'ok' }];
  assert.equal(c.seq, a.seq + 1, 'valid items are consecutive: one commit');
  assert.deepEqual(bad.detail[0]?.loc, ['body', 1, 'event_type']);
  const delivered = (await sub.count(2)) as { id: string; payload: { n: number } }[];
  assert.deepEqual(delivered.map((e) => e.id), [a.event_id, c.event_id]);
  const stored = await fetch(`${srv.url}/api/v1/events/${a.event_id}`);
  assert.equal(stored.status, 200);
  sub.close();
});

test('batch - NDJSON, with an unreadable line answered in its place', async () => {
  const body = [JSON.stringify(event()), '{oops', '', JSON.stringify(event({ event_type: 'quiz_completed' }))].join('\n');
  const results = (await (await postBatch(body, 'application/x-ndjson')).json()) as Result[];
  assert.deepEqual(results.map((x) => x.status), ['ok', 'error', 'ok']);
});

test('batch - bounds: an array of at most 1,000 events', async () => {
  assert.equal((await postBatch(JSON.stringify(Array.from({ length: 1001 }, () => event())))).status, 422);
  assert.equal((await postBatch(JSON.stringify(event()))).status, 422, 'an object is not a batch');
  assert.equal((await postBatch('{')).status, 422);
  const full = (await (await postBatch(JSON.stringify(Array.from({ length: 1000 }, (_, i) => event({ payload: { i } }))))).json()) as Result[];
  assert.equal(full.filter((x) => x.status === 'ok').length, 1000);
});

test('batch - over WebSocket, an array frame gets one array of results, in order with other replies', async () => {
  const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
  pub.send(event());
  pub.send([event(), { source: 'x' }, event()]);
  pub.send(event());
  const [first, batch, last] = (await pub.count(3)) as [{ seq: number }, Result[], { seq: number }];
  assert.ok(Array.isArray(batch));
  assert.deepEqual(batch.map((x) => x.status), ['ok', 'error', 'ok']);
  const okSeqs = batch.flatMap((x) => (x.status === 'ok' ? [x.seq] : []));
  assert.ok(first.seq < okSeqs[0]! && okSeqs[1]! < last.seq);
  pub.send(Array.from({ length: 1001 }, () => event()));
  const tooMany = (await pub.count(4))[3] as { status: string; code: string; detail: { type: string }[] };
  assert.deepEqual([tooMany.status, tooMany.code, tooMany.detail[0]?.type], ['error', 'REQUEST_INVALID', 'too_long']);
  pub.close();
});

test('batch - every event counts against the publish rate limit', async () => {
  const limited = await startServer({ RATE_LIMIT_PUBLISH: '10/minute' });
  try {
    const post = (n: number) =>
      fetch(`${limited.url}/api/v1/events/batch`, { method: 'POST', body: JSON.stringify(Array.from({ length: n }, () => event())) });
    assert.equal((await post(8)).status, 200);
    const r = await post(5);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  } finally {
    await limited.stop();
  }
});
