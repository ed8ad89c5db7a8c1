import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineError } from './errors.js';
import { filterToWire, matches, parseFilter, type Filter } from './filter.js';

function parse(input: unknown): Filter {
  const f = parseFilter(input);
  if (f instanceof PipelineError) assert.fail(JSON.stringify(f.issues));
  return f;
}

const ev = (eventType: 'quiz_started' | 'answer_submitted', sessionId: string | null, userId: string | null) => ({ eventType, sessionId, userId });

test('filter - an empty config matches everything', () => {
  const f = parse({});
  assert.ok(matches(f, ev('quiz_started', null, null)));
  assert.ok(matches(f, ev('answer_submitted', 's', 'u')));
  assert.deepEqual(filterToWire(f), { event_types: [], session_id: null, user_id: null });
});

test('filter - keys are ANDed; a null event field never matches a set filter', () => {
  const f = parse({ event_types: ['answer_submitted'], session_id: 's1', user_id: 'u1' });
  assert.ok(matches(f, ev('answer_submitted', 's1', 'u1')));
  assert.ok(!matches(f, ev('quiz_started', 's1', 'u1')));
  assert.ok(!matches(f, ev('answer_submitted', 's2', 'u1')));
  assert.ok(!matches(f, ev('answer_submitted', 's1', null)));
  assert.ok(!matches(parse({ session_id: 's1' }), ev('quiz_started', null, 'u1')));
});

test('filter - empty or null values mean "any"', () => {
  const f = parse({ event_types: [], session_id: '', user_id: null });
  assert.ok(matches(f, ev('quiz_started', 'x', 'y')));
});

test('filter - invalid configurations are refused, naming the problem (D8)', () => {
  for (const bad of [5, 'all', [], null, { event_types: 'quiz_started' }, { event_types: ['nope'] }, { session_id: 5 }, { user_id: {} }]) {
    const r = parseFilter(bad);
    assert.ok(r instanceof PipelineError, JSON.stringify(bad));
    assert.equal(r.code, 'FILTER_INVALID');
    assert.ok((r.issues?.length ?? 0) > 0);
  }
  const r = parseFilter({ event_types: ['quiz_started', 'nope'] });
  assert.ok(r instanceof PipelineError);
  assert.match(r.issues?.[0]?.msg ?? '', /'nope'/);
  assert.deepEqual(r.issues?.[0]?.loc, ['filters', 'event_types', 1]);
});
