import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES } from '../../protocol/event-types.js';
import { postEvent, startServer, type TestServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

/** Bodies near the schema (right keys, wrong values) and far from it (any JSON, any text). */
const nearEvent = fc.record(
  {
    event_type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string(), fc.integer(), fc.constant(null)),
    source: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,100}$/), fc.string({ maxLength: 150 }), fc.integer()),
    session_id: fc.oneof(fc.string({ maxLength: 250 }), fc.constant(null), fc.integer(), fc.array(fc.string())),
    user_id: fc.oneof(fc.string({ maxLength: 250 }), fc.constant(null), fc.boolean()),
    payload: fc.oneof(fc.object(), fc.jsonValue(), fc.constant({ __proto__: { polluted: true } })),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(nearEvent.map((e) => JSON.stringify(e)), fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)));

test('fuzz - no REST body makes a 5xx; every refusal is a 4xx with a JSON detail', async () => {
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const r = await postEvent(srv.url, text);
      assert.ok(r.status === 201 || (r.status >= 400 && r.status < 500), `${r.status} for ${text.slice(0, 200)}`);
      const json = (await r.json()) as Record<string, unknown>;
      if (r.status !== 201) assert.ok('detail' in json);
    }),
    { numRuns: 400, seed: 7 },
  );
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
});

test('fuzz - no query string makes a 5xx', async () => {
  const param = fc.constantFrom('event_type', 'session_id', 'user_id', 'since', 'limit', 'before', 'x');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(param, fc.string({ maxLength: 40 })), { maxLength: 4 }), async (pairs) => {
      const qs = new URLSearchParams(pairs).toString();
      const r = await fetch(`${srv.url}/api/v1/events?${qs}`);
      assert.ok(r.status < 500, `${r.status} for ${qs}`);
      await r.arrayBuffer();
    }),
    { numRuns: 300, seed: 11 },
  );
});

test('fuzz - no WebSocket message breaks a publisher or a subscriber socket', async () => {
  const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
  const sub = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
  const samples = fc.sample(body, { numRuns: 300, seed: 3 });
  for (const text of samples) {
    pub.send(text);
    sub.send(text);
  }
  await pub.count(samples.length, 20_000);
  const isResult = (m: unknown): boolean => ['ok', 'error'].includes((m as { status?: string }).status ?? '');
  // An array frame is a batch, answered by an array of results.
  assert.ok(pub.messages.every((m) => (Array.isArray(m) ? m.every(isResult) : isResult(m))));
  sub.send({ type: 'ping' });
  await sub.until((m) => m.some((x) => (x as { type?: string }).type === 'pong'), 5_000, 'pong');
  assert.equal(pub.ws.readyState, pub.ws.OPEN);
  assert.equal(sub.ws.readyState, sub.ws.OPEN);
  pub.close();
  sub.close();
});
