/**
 * Fuzzing generated from our own schemas. Every operation of the served OpenAPI document gets
 * requests whose parameters and bodies start from the documented schema and are then broken
 * (wrong types, huge and non-finite numbers, deep nesting, `__proto__` and `constructor` keys,
 * overlong strings, truncated JSON, raw text, oversize bodies); WebSocket publishers and
 * subscribers get the same bodies as text frames, plus binary, empty and oversize frames.
 * Nothing may answer 5xx, crash or hang; every refusal is a 4xx with a JSON `detail`; and
 * `Object.prototype` is untouched (the server runs in this process).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { CloseCode } from '../../protocol/close-codes.js';
import { startServer, type TestServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

const REST_RUNS = 10_000;
const WS_MESSAGES = 10_000;
const MAX_BODY_BYTES = 100_000;
const MAX_WS_MESSAGE_BYTES = 70_000;
const MAX_WS_FRAME_BYTES = 200_000;

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
};

interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: 'query' | 'path' | 'header'; schema: Schema }[];
  bodies: { contentType: string; schema: Schema | undefined }[];
}

let srv: TestServer;
let operations: Operation[] = [];

before(async () => {
  srv = await startServer({
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_BATCH_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_WS_MESSAGE_BYTES: String(MAX_WS_MESSAGE_BYTES),
    MAX_WS_FRAME_BYTES: String(MAX_WS_FRAME_BYTES),
    SSE_HEARTBEAT_MS: '60000',
  });
  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: Operation['parameters']; requestBody?: { content: Record<string, { schema?: Schema }> } }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      bodies: Object.entries(op.requestBody?.content ?? {}).map(([contentType, c]) => ({ contentType, schema: c.schema })),
    })),
  );
});
after(() => srv.stop());

// ----- Values: documented ones, then hostile ones.

const nested = (depth: number, open: string, close: string, inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);

/** Raw JSON texts no `JSON.stringify` of a plain value produces. */
const hostileJsonText = fc.constantFrom(
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"event_type":"quiz_started","source":"s","payload":{"__proto__":{"polluted":true},"a":1}}',
  '{"event_type":"quiz_started","source":"s","payload":{"constructor":{"prototype":{"polluted":true}}}}',
  '1e400',
  '-1e400',
  '123456789012345678901234567890123456789',
  '{"event_type":"quiz_started","source":"s","payload":{"n":1e400}}',
  '{"limit":99999999999999999999999}',
  nested(200, '[', ']'),
  nested(5000, '[', ']'),
  nested(5000, '{"a":', '}'),
  `{"event_type":"quiz_started","source":"s","payload":${nested(100, '{"a":', '}')}}`,
  '{"event_type":"quiz_started","source":"s","session_id":"\\ud800"}',
  '"\\u0000"',
  '',
  '\u0000',
  '{',
  '[{"event_type":"quiz_started"',
  'null',
  'true',
  '[]',
  '[null, 1, "x", []]',
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -Number.MAX_VALUE, Number.MAX_VALUE, 1e21, -0, 0.1),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constant('x'.repeat(5000)),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
);

function typesOf(schema: Schema): string[] {
  if (schema.enum !== undefined) return ['enum'];
  return Array.isArray(schema.type) ? schema.type : schema.type === undefined ? ['any'] : [schema.type];
}

/** Values the schema documents (a cheap reading of it: enough to get past the first checks). */
function documented(schema: Schema | undefined): fc.Arbitrary<unknown> {
  if (schema === undefined) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    ...typesOf(schema).map((t): fc.Arbitrary<unknown> => {
      switch (t) {
        case 'enum':
          return fc.constantFrom(...(schema.enum as unknown[]));
        case 'null':
          return fc.constant(null);
        case 'string':
          return schema.pattern !== undefined ? fc.stringMatching(new RegExp(schema.pattern)) : fc.string({ maxLength: Math.min(schema.maxLength ?? 40, 40) });
        case 'integer':
          return fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 2000, 2000) });
        case 'number':
          return fc.double({ noNaN: true, noDefaultInfinity: true });
        case 'boolean':
          return fc.boolean();
        case 'array':
          return fc.array(broken(schema.items), { maxLength: 4 });
        case 'object':
          return schema.properties === undefined
            ? fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
            : fc.record(Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, broken(s)])), { requiredKeys: [] });
        default:
          return fc.jsonValue({ maxDepth: 2 });
      }
    }),
  );
}

/** Mostly documented values, sometimes hostile ones, at every level. */
function broken(schema: Schema | undefined): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: documented(schema) }, { weight: 1, arbitrary: hostileValue });
}

/** A body for a schema: JSON of a broken value, truncated JSON, hostile raw JSON, any text, or oversize. */
function bodyText(schema: Schema | undefined): fc.Arbitrary<string> {
  const json = broken(schema).map(toJson);
  return fc.oneof(
    { weight: 10, arbitrary: json },
    { weight: 2, arbitrary: fc.tuple(json, fc.nat()).map(([t, n]) => t.slice(0, n % Math.max(1, t.length))) },
    { weight: 3, arbitrary: hostileJsonText },
    { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * MAX_BODY_BYTES }).map((n) => `{"event_type":"quiz_started","source":"s","payload":{"p":"${'x'.repeat(n)}"}}`) },
  );
}

/** A parameter value as text: documented, or hostile. */
function paramText(schema: Schema): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: documented(schema).map((v) => (typeof v === 'string' ? v : toJson(v))) },
    { weight: 1, arbitrary: fc.constantFrom('', '-1', '0', '1e400', '99999999999999999999', 'NaN', '2026-13-45T99:99:99Z', '../../etc', '%00', '__proto__', 'x'.repeat(3000)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );
}

/** JSON text of a value (`undefined` has none: JSON.stringify returns undefined for it). */
const toJson = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

const headerSafe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '').slice(0, 4000);

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  label: string;
}

function requestArb(op: Operation): fc.Arbitrary<FuzzRequest> {
  const params = fc.record(Object.fromEntries(op.parameters.map((p) => [p.name, fc.option(paramText(p.schema), { nil: undefined, freq: 3 })])));
  const body = op.bodies.length === 0 ? fc.constant(undefined) : fc.oneof(...op.bodies.map((b) => bodyText(b.schema).map((text) => ({ text, contentType: b.contentType }))));
  const contentType = fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-ndjson', 'application/json; charset=latin1', 'multipart/form-data') });
  return fc.record({ params, body, contentType }).map(({ params: values, body: b, contentType: ct }) => {
    let path = op.path;
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    for (const p of op.parameters) {
      const v = values[p.name];
      if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(v ?? 'x'));
      else if (v === undefined) continue;
      else if (p.in === 'query') query.append(p.name, v);
      else headers[p.name] = headerSafe(v);
    }
    if (b !== undefined) headers['Content-Type'] = ct ?? b.contentType;
    const qs = query.toString();
    return { method: op.method, url: `${path}${qs === '' ? '' : `?${qs}`}`, headers, body: b?.text, label: `${op.method} ${op.path}` };
  });
}

test(`fuzz - ${REST_RUNS} requests generated from the OpenAPI document: no 5xx, every refusal a 4xx with a JSON detail`, async (t) => {
  assert.ok(operations.length >= 10, 'the document lists the routes');
  const perStatus = new Map<number, number>();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(...operations.map(requestArb)), async (r) => {
      runs++;
      const controller = new AbortController();
      const res = await fetch(`${srv.url}${r.url}`, { method: r.method, headers: r.headers, body: r.body, signal: controller.signal });
      perStatus.set(res.status, (perStatus.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `${res.status} for ${r.label}: ${r.url} ${r.body?.slice(0, 200) ?? ''}`);
      if (res.headers.get('content-type')?.startsWith('text/event-stream') === true) {
        controller.abort();
        return;
      }
      const text = await res.text();
      if (res.status >= 400) {
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${res.status} for ${r.label}`);
        const detail = (JSON.parse(text) as { detail?: unknown }).detail;
        assert.ok(typeof detail === 'string' || Array.isArray(detail), `a detail for ${res.status} ${r.label}: ${text.slice(0, 200)}`);
      }
    }),
    { numRuns: REST_RUNS, seed: 7, endOnFailure: true },
  );
  assert.equal(runs, REST_RUNS);
  t.diagnostic(`responses by status: ${JSON.stringify(Object.fromEntries([...perStatus].sort((a, b) => a[0] - b[0])))}`);
  // The generator reaches both sides of validation, and the size limit.
  for (const status of [200, 201, 404, 413, 422]) assert.ok((perStatus.get(status) ?? 0) > 0, `some ${status}s among ${JSON.stringify([...perStatus])}`);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
  assert.equal((await fetch(`${srv.url}/health`)).status, 200);
});

test(`fuzz - ${WS_MESSAGES} WebSocket messages (text, binary, empty, oversize) to publishers and subscribers: each answered or ignored, none fatal`, async () => {
  const eventSchema = operations.find((o) => o.method === 'POST' && o.path === '/api/v1/events')?.bodies[0]?.schema;
  const filterSchema: Schema = {
    type: 'object',
    properties: {
      type: { enum: ['update_filters', 'ping', 'auth', 'subscribe'] },
      event_types: { type: 'array', items: { enum: ['quiz_started', 'answer_submitted', 'nope'] } },
      session_id: { type: ['string', 'null'] },
      user_id: { type: ['string', 'null'] },
      from: { type: ['integer', 'string'] },
      filters: { type: 'object', properties: { session_id: { type: 'string' }, from: { type: 'integer' } } },
    },
  };
  type Frame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array } | { kind: 'oversize'; bytes: number };
  const frame = (schema: Schema | undefined): fc.Arbitrary<Frame> =>
    fc.oneof(
      { weight: 20, arbitrary: bodyText(schema).map((text): Frame => ({ kind: 'text', text })) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Frame => ({ kind: 'binary', bytes })) },
      { weight: 1, arbitrary: fc.constant<Frame>({ kind: 'oversize', bytes: MAX_WS_FRAME_BYTES + 1 }) },
    );
  const half = WS_MESSAGES / 2;
  const frames = {
    '/ws/publish': fc.sample(frame(eventSchema), { numRuns: half, seed: 3 }),
    '/ws/subscribe': fc.sample(frame(filterSchema), { numRuns: half, seed: 5 }),
  };
  let sent = 0;
  for (const [path, list] of Object.entries(frames)) {
    let socket = await TestSocket.open(`${srv.wsUrl}${path}`);
    let expectReplies = 0;
    const closes: number[] = [];
    for (const f of list) {
      sent++;
      if (f.kind === 'oversize') {
        // Larger than any frame is read at all: the socket is closed with 1009, and a new one works.
        socket.ws.send(Buffer.alloc(f.bytes, 0x61));
        closes.push(await socket.closed);
        socket = await TestSocket.open(`${srv.wsUrl}${path}`);
        expectReplies = 0;
        continue;
      }
      if (f.kind === 'binary') socket.ws.send(f.bytes, { binary: true });
      else socket.ws.send(f.text);
      expectReplies++;
      if (path === '/ws/publish' && expectReplies % 500 === 0) await socket.count(expectReplies, 30_000);
    }
    assert.ok(closes.length > 0 && closes.every((c) => c === CloseCode.MESSAGE_TOO_BIG), `oversize frames close with 1009: ${JSON.stringify(closes)}`);
    if (path === '/ws/publish') {
      // Every message of the last socket is answered, in order: a result, or an array of them for a batch.
      await socket.count(expectReplies, 30_000);
      const isResult = (m: unknown): boolean => ['ok', 'error'].includes((m as { status?: string }).status ?? '');
      assert.ok(socket.messages.every((m) => (Array.isArray(m) ? m.every(isResult) : isResult(m))));
    } else {
      socket.send({ type: 'ping' });
      await socket.until((m) => m.some((x) => (x as { type?: string }).type === 'pong'), 10_000, 'pong');
    }
    assert.equal(socket.ws.readyState, socket.ws.OPEN, `${path} still open`);
    socket.close();
  }
  assert.equal(sent, WS_MESSAGES);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
  assert.equal((await fetch(`${srv.url}/health`)).status, 200);
});
