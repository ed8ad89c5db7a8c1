import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventValidator, seqOfEventJson, serializeEvent, utf8ByteLength, type EventDraft } from './event.js';
import { PipelineError } from './errors.js';

const validate = createEventValidator({ maxPayloadKeys: 50, maxPayloadBytes: 65_536, maxPayloadDepth: 32 });
const NOW = 1_700_000_000_000_000;

function issues(input: unknown): { type: string; loc: (string | number)[]; msg: string }[] {
  const r = validate(input, 'default', NOW);
  assert.ok(r instanceof PipelineError, 'expected a validation error');
  assert.equal(r.httpStatus, 422);
  return [...(r.issues ?? [])];
}

function ok(input: unknown): EventDraft {
  const r = validate(input, 'default', NOW);
  if (r instanceof PipelineError) assert.fail(JSON.stringify(r.issues));
  return r;
}

test('event - accepts the minimal event with defaults', () => {
  const d = ok({ event_type: 'quiz_started', source: 'quiz_engine' });
  assert.deepEqual(d, { eventType: 'quiz_started', source: 'quiz_engine', sessionId: null, userId: null, payloadJson: '{}', receivedAtUs: NOW, tenant: 'default' });
});

test('event - ignores unknown and server-owned fields', () => {
  const d = ok({ event_type: 'quiz_started', source: 'a', id: 'evt_000000000000', timestamp: 'x', seq: 5, extra: true });
  assert.equal(d.payloadJson, '{}');
  assert.equal(Object.keys(d).includes('id'), false);
});

test('event - one issue per failed field, with loc and type', () => {
  const list = issues({ event_type: 'quiz_begun', source: 'bad source!', session_id: 123, payload: [] });
  assert.deepEqual(
    list.map((i) => [i.loc.join('.'), i.type]),
    [
      ['body.event_type', 'enum'],
      ['body.source', 'string_pattern_mismatch'],
      ['body.session_id', 'string_type'],
      ['body.payload', 'dict_type'],
    ],
  );
  assert.match(list[0]?.msg ?? '', /'quiz_begun'.*quiz_started.*error_occurred/);
});

test('event - missing required fields', () => {
  assert.deepEqual(
    issues({}).map((i) => [i.loc.join('.'), i.type, i.msg]),
    [
      ['body.event_type', 'missing', 'Field required'],
      ['body.source', 'missing', 'Field required'],
    ],
  );
});

test('event - types are exact and case-sensitive; strings are not coerced', () => {
  issues({ event_type: 'Quiz_Started', source: 'a' });
  issues({ event_type: 'quiz_started', source: 5 });
  issues({ event_type: 'quiz_started', source: 'a', user_id: true });
  issues({ event_type: 'quiz_started', source: 'a', payload: null });
  issues({ event_type: 'quiz_started', source: 'a', payload: 'x' });
});

test('event - source length and alphabet', () => {
  ok({ event_type: 'quiz_started', source: 'A-z_0.9' });
  ok({ event_type: 'quiz_started', source: 'x'.repeat(100) });
  assert.equal(issues({ event_type: 'quiz_started', source: 'x'.repeat(101) })[0]?.type, 'string_too_long');
  assert.equal(issues({ event_type: 'quiz_started', source: '' })[0]?.type, 'string_too_short');
});

test('event - session and user ids at most 200 characters, null allowed', () => {
  ok({ event_type: 'quiz_started', source: 'a', session_id: 's'.repeat(200), user_id: null });
  assert.equal(issues({ event_type: 'quiz_started', source: 'a', session_id: 's'.repeat(201) })[0]?.type, 'string_too_long');
});

test('event - payload of at most 50 top-level keys', () => {
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  ok({ event_type: 'quiz_started', source: 'a', payload: keys(50) });
  assert.equal(issues({ event_type: 'quiz_started', source: 'a', payload: keys(51) })[0]?.loc.join('.'), 'body.payload');
});

test('event - payload bytes are UTF-8 of compact JSON (D10)', () => {
  // {"t":"…"} is 8 bytes of JSON around the string.
  const ascii = 'a'.repeat(65_536 - 8);
  ok({ event_type: 'quiz_started', source: 'a', payload: { t: ascii } });
  issues({ event_type: 'quiz_started', source: 'a', payload: { t: ascii + 'a' } });
  // "é" is 2 bytes in UTF-8: half as many fit.
  const accents = 'é'.repeat((65_536 - 8) / 2);
  ok({ event_type: 'quiz_started', source: 'a', payload: { t: accents } });
  const list = issues({ event_type: 'quiz_started', source: 'a', payload: { t: accents + 'é' } });
  assert.equal(list[0]?.type, 'too_large');
});

test('event - payload nesting depth is bounded, deep input never overflows the stack', () => {
  let nested: Record<string, unknown> = {};
  const root = nested;
  for (let i = 1; i < 32; i++) nested = nested['n'] = {};
  ok({ event_type: 'quiz_started', source: 'a', payload: root });
  nested['n'] = {};
  assert.equal(issues({ event_type: 'quiz_started', source: 'a', payload: root })[0]?.type, 'too_deep');
  const deep = JSON.parse('{"a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}') as Record<string, unknown>;
  assert.equal(issues({ event_type: 'quiz_started', source: 'a', payload: deep })[0]?.type, 'too_deep');
});

test('event - numbers that overflowed to Infinity are refused, not stored as null', () => {
  const payload = JSON.parse('{"big": 1e400}') as Record<string, unknown>;
  assert.equal(issues({ event_type: 'quiz_started', source: 'a', payload })[0]?.type, 'finite_number');
});

test('event - a __proto__ key is plain data and pollutes nothing', () => {
  const payload = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  const d = ok({ event_type: 'quiz_started', source: 'a', payload });
  assert.equal(d.payloadJson, '{"__proto__":{"polluted":true}}');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('event - non-object bodies', () => {
  for (const body of [null, [], 'x', 5, true]) assert.equal(issues(body)[0]?.type, 'model_attributes_type');
});

test('event - serialised with keys in contract order', () => {
  const d = ok({ event_type: 'answer_submitted', source: 'q', session_id: 's', user_id: 'u', payload: { a: 'é"' } });
  const json = serializeEvent(7, 'evt_0123456789ab', d, Date.UTC(2026, 0, 1) * 1000);
  assert.equal(json, '{"id":"evt_0123456789ab","event_type":"answer_submitted","source":"q","session_id":"s","user_id":"u","payload":{"a":"é\\""},"timestamp":"2026-01-01T00:00:00.000000Z","seq":7}');
  assert.deepEqual(Object.keys(JSON.parse(json) as object), ['id', 'event_type', 'source', 'session_id', 'user_id', 'payload', 'timestamp', 'seq']);
});

test('event - utf8ByteLength agrees with Buffer.byteLength', () => {
  for (const s of ['', 'abc', 'é', '€', '😀', 'a😀é€\u0000', '\ud800']) assert.equal(utf8ByteLength(s), Buffer.byteLength(s), s);
});

test('event - seqOfEventJson reads the seq back from the wire form', () => {
  const d = ok({ event_type: 'quiz_started', source: 'q', payload: { seq: 1, 'a:b': '"seq":2}' } });
  assert.equal(seqOfEventJson(serializeEvent(123456789, 'evt_0123456789ab', d, 0)), 123456789);
});
