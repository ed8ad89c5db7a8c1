import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../protocol/event-types.js';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

const get = (path: string, init?: RequestInit) => fetch(`${srv.url}${path}`, init);
const body = async (r: Response): Promise<unknown> => r.json();

describe('REST contract', () => {
  test('POST /events stores and returns the event with 201, id, fixed-width timestamp and seq', async () => {
    const r = await postEvent(srv.url, event({ payload: { quiz_id: 'math-101' } }));
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'application/json');
    const e = (await r.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(e), ['id', 'event_type', 'source', 'session_id', 'user_id', 'payload', 'timestamp', 'seq']);
    assert.match(e['id'] as string, /^evt_[0-9a-f]{12}$/);
    assert.match(e['timestamp'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(typeof e['seq'], 'number');
    const again = (await body(await get(`/api/v1/events/${String(e['id'])}`))) as Record<string, unknown>;
    assert.deepEqual(again, e);
  });

  test('every route answers identically under /api/v1 and unversioned', async () => {
    const a = (await body(await postEvent(srv.url, event()))) as { id: string };
    for (const path of ['/events?limit=1', `/events/${a.id}`, '/event-types', '/health']) {
      const [x, y] = await Promise.all([get(path), get(`/api/v1${path}`)]);
      assert.equal(x.status, 200, path);
      assert.equal(y.status, 200, path);
      assert.deepEqual(await x.json(), await y.json(), path);
    }
    const r = await fetch(`${srv.url}/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event()) });
    assert.equal(r.status, 201);
  });

  test('security headers on every response, including errors', async () => {
    for (const r of [await get('/health'), await get('/nope'), await postEvent(srv.url, '{')]) {
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    }
  });

  test('GET /health and /readiness', async () => {
    assert.deepEqual(await body(await get('/health')), { status: 'ok', service: 'event-pipeline', version: '0.1.0' });
    const r = (await body(await get('/readiness'))) as Record<string, unknown>;
    assert.equal(r['ready'], true);
    assert.equal(r['database'], 'connected');
    assert.deepEqual(Object.keys(r['router'] as object), ['active_subscribers', 'queue_size']);
  });

  test('GET /event-types lists the 15 types in order with descriptions', async () => {
    const types = (await body(await get('/api/v1/event-types'))) as Record<string, string>;
    assert.deepEqual(Object.keys(types), [...EVENT_TYPES]);
    assert.equal(types['timer_tick'], 'Timer update (every second)');
  });

  test('422 for invalid bodies with one detail entry per field; malformed JSON too', async () => {
    const r = await postEvent(srv.url, { event_type: 'quiz_begun', source: 'x y', session_id: 1 });
    assert.equal(r.status, 422);
    const d = (await r.json()) as { detail: { loc: unknown[]; msg: string; type: string }[] };
    assert.deepEqual(d.detail.map((i) => i.loc), [['body', 'event_type'], ['body', 'source'], ['body', 'session_id']]);
    assert.match(d.detail[0]?.msg ?? '', /quiz_begun.*quiz_started/);
    for (const bad of ['{', '', 'null', '[]', '"x"', '{"event_type":']) {
      const m = await postEvent(srv.url, bad);
      assert.equal(m.status, 422, bad);
      const j = (await m.json()) as { detail: unknown[] };
      assert.ok(Array.isArray(j.detail) && j.detail.length > 0, bad);
    }
  });

  test('413 with a JSON body for a request body over the limit (above the 64 KiB payload limit)', async () => {
    const big = JSON.stringify(event({ payload: { t: 'x'.repeat(1_100_000) } }));
    const r = await postEvent(srv.url, big);
    assert.equal(r.status, 413);
    assert.match(((await r.json()) as { detail: string }).detail, /larger than/);
    const payloadTooBig = await postEvent(srv.url, event({ payload: { t: 'x'.repeat(70_000) } }));
    assert.equal(payloadTooBig.status, 422, 'a payload over 64 KiB inside an accepted body is a 422');
  });

  test('404 for unknown event and route, 405 for a wrong method', async () => {
    const r = await get('/api/v1/events/evt_000000000000');
    assert.equal(r.status, 404);
    assert.deepEqual(await r.json(), { detail: 'Event not found' });
    const n = await get('/api/v1/nothing');
    assert.equal(n.status, 404);
    assert.deepEqual(await n.json(), { detail: 'Not Found' });
    const m = await fetch(`${srv.url}/api/v1/events`, { method: 'PUT' });
    assert.equal(m.status, 405);
    assert.deepEqual(await m.json(), { detail: 'Method Not Allowed' });
    assert.match(m.headers.get('allow') ?? '', /GET/);
  });

  test('GET /events validates limit (1..1000) and since (400 for non-ISO)', async () => {
    for (const limit of ['0', '1001', 'abc', '-1', '1.5']) {
      const r = await get(`/api/v1/events?limit=${limit}`);
      assert.equal(r.status, 422, limit);
      const d = (await r.json()) as { detail: { loc: unknown[] }[] };
      assert.deepEqual(d.detail[0]?.loc, ['query', 'limit']);
    }
    const s = await get('/api/v1/events?since=yesterday');
    assert.equal(s.status, 400);
    assert.deepEqual(await s.json(), { detail: "Invalid ISO 8601 timestamp for 'since'" });
    const b = await fetch(`${srv.url}/api/v1/events?before=nope`, { method: 'DELETE' });
    assert.equal(b.status, 400);
    assert.deepEqual(await b.json(), { detail: "Invalid ISO 8601 timestamp for 'before'" });
    assert.equal((await get('/api/v1/events?event_type=nope')).status, 422);
  });

  test('filters AND together, an empty value means no filter, newest first', async () => {
    const session = `sess-${Date.now()}`;
    const ids: string[] = [];
    for (const [type, user] of [['quiz_started', 'a'], ['answer_submitted', 'a'], ['answer_submitted', 'b']] as const) {
      ids.push(((await body(await postEvent(srv.url, event({ event_type: type, session_id: session, user_id: user })))) as { id: string }).id);
    }
    const q = async (qs: string) => ((await body(await get(`/api/v1/events?session_id=${session}&${qs}`))) as { id: string }[]).map((e) => e.id);
    assert.deepEqual(await q(''), [...ids].reverse());
    assert.deepEqual(await q('event_type=answer_submitted'), [ids[2], ids[1]]);
    assert.deepEqual(await q('event_type=answer_submitted&user_id=a'), [ids[1]]);
    assert.deepEqual(await q('user_id=&event_type='), [...ids].reverse());
    assert.deepEqual(await q('limit=1'), [ids[2]]);
  });

  test('since is an instant: offsets honoured, exclusive, no same-second loss (D3)', async () => {
    const session = `since-${Date.now()}`;
    const first = (await body(await postEvent(srv.url, event({ session_id: session })))) as { timestamp: string; id: string };
    const second = (await body(await postEvent(srv.url, event({ session_id: session })))) as { id: string };
    const q = async (since: string) =>
      ((await body(await get(`/api/v1/events?session_id=${session}&since=${encodeURIComponent(since)}`))) as { id: string }[]).map((e) => e.id);
    assert.deepEqual(await q(first.timestamp), [second.id], 'exclusive of the first, keeps the same-second second');
    const t = new Date(Date.parse(first.timestamp) - 1000);
    const shifted = new Date(t.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    assert.deepEqual(await q(shifted), [second.id, first.id], 'a +02:00 offset is the same instant');
    assert.deepEqual(await q(first.timestamp.replace('Z', '000+00:00')), [second.id], '31-character values are fine');
  });

  test('stats: totals, last hour, by_type consistent after partial delete, and our additions (D1, D4)', async () => {
    const s0 = (await body(await get('/api/v1/stats'))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(s0).slice(0, 4), ['total_events', 'events_last_hour', 'by_type', 'router']);
    for (const k of ['throughput', 'events_accepted', 'delivered', 'dropped', 'slow_consumer_disconnects', 'active_publishers', 'uptime_seconds', 'head_seq']) {
      assert.ok(k in s0, k);
    }
    assert.deepEqual(Object.keys(s0['throughput'] as object), ['events_per_second_1s', 'events_per_second_10s', 'events_per_second_60s']);
    const total = (await body(await get('/api/v1/events?limit=1000'))) as unknown[];
    assert.equal(s0['total_events'], total.length);
    assert.equal(s0['events_last_hour'], total.length);
    const byType = s0['by_type'] as { event_type: string; count: number; last_seen: string }[];
    assert.equal(byType.reduce((n, t) => n + t.count, 0), total.length);
    assert.ok(byType.every((t, i) => i === 0 || (byType[i - 1]?.count ?? 0) >= t.count), 'highest count first');
  });

  test('DELETE /events?before deletes older events only; counts stay exact', async () => {
    const mid = (await body(await postEvent(srv.url, event({ event_type: 'session_ended' })))) as { timestamp: string };
    await postEvent(srv.url, event({ event_type: 'session_ended' }));
    const r = await fetch(`${srv.url}/api/v1/events?before=${encodeURIComponent(mid.timestamp)}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    const { deleted } = (await r.json()) as { deleted: number };
    assert.ok(deleted > 0);
    const left = (await body(await get('/api/v1/events?limit=1000'))) as { event_type: string; timestamp: string }[];
    assert.ok(left.every((e) => e.timestamp >= mid.timestamp));
    const stats = (await body(await get('/api/v1/stats'))) as { total_events: number; by_type: { event_type: string; count: number }[] };
    assert.equal(stats.total_events, left.length);
    for (const t of stats.by_type) assert.equal(t.count, left.filter((e) => e.event_type === t.event_type).length, t.event_type);
    const all = await fetch(`${srv.url}/events`, { method: 'DELETE' });
    assert.deepEqual(await all.json(), { deleted: left.length });
    assert.deepEqual(((await body(await get('/api/v1/stats'))) as { by_type: unknown[] }).by_type, []);
  });

  test('OpenAPI lists every versioned route with the validating schemas; /docs renders from local assets', async () => {
    const spec = (await body(await get('/openapi.json'))) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> };
    assert.equal(spec.openapi, '3.1.0');
    for (const p of ['/api/v1/events', '/api/v1/events/{id}', '/api/v1/stats', '/api/v1/event-types', '/api/v1/health', '/api/v1/readiness']) assert.ok(p in spec.paths, p);
    const schema = spec.paths['/api/v1/events']?.['post']?.requestBody?.content['application/json']?.schema;
    assert.deepEqual(Object.keys(schema?.properties ?? {}), ['event_type', 'source', 'session_id', 'user_id', 'payload']);
    const page = await (await get('/docs')).text();
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(assets.length >= 3);
    for (const a of assets) {
      assert.ok(a.startsWith('/'), `asset ${a} is served by us, not a CDN`);
      assert.equal((await get(a)).status, 200, a);
    }
  });
});
