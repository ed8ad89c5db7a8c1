import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';
import { SseClient } from '../support/sse-client.js';

async function publish(srv: TestServer, n: number, overrides: Record<string, unknown>): Promise<{ id: string; seq: number }[]> {
  const res = await fetch(`${srv.url}/api/v1/events/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(Array.from({ length: n }, (_, i) => event({ payload: { i }, ...overrides }))),
  });
  const results = (await res.json()) as { status: string; event_id: string; seq: number }[];
  assert.ok(results.every((r) => r.status === 'ok'));
  return results.map((r) => ({ id: r.event_id, seq: r.seq }));
}

describe('Server-Sent Events', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ SSE_HEARTBEAT_MS: '100' });
  });
  after(async () => {
    await srv.stop();
  });

  test('replays stored events with id = seq, says caught_up, then streams live ones', async () => {
    const stored = await publish(srv, 30, { session_id: 'sse-a' });
    const c = await SseClient.open(`${srv.url}/api/v1/events/stream?session_id=sse-a&from=earliest`);
    assert.equal(c.status, 200);
    assert.match(String(c.headers['content-type']), /^text\/event-stream/);
    assert.equal(c.headers['cache-control'], 'no-store');
    await c.until((x) => x.named('caught_up').length === 1, 10_000, 'caught_up');
    assert.equal(c.named('subscribed').length, 1);
    assert.deepEqual(c.events.map((e) => e.id), stored.map((s) => s.id));
    assert.deepEqual(
      c.messages.filter((m) => m.event === 'message').map((m) => m.id),
      stored.map((s) => String(s.seq)),
      'the SSE id is the seq',
    );
    const live = await publish(srv, 3, { session_id: 'sse-a' });
    await publish(srv, 3, { session_id: 'sse-other' });
    await c.until((x) => x.events.length === 33, 5_000, 'live events');
    assert.deepEqual(c.events.slice(30).map((e) => e.id), live.map((s) => s.id));
    c.close();
  });

  test('Last-Event-ID (header or parameter) resumes right after that seq, with no gap and no duplicate', async () => {
    const stored = await publish(srv, 20, { session_id: 'sse-b' });
    const c = await SseClient.open(`${srv.url}/events/stream?session_id=sse-b`, { 'Last-Event-ID': String(stored[11]?.seq) });
    await c.until((x) => x.named('caught_up').length === 1, 10_000, 'caught_up');
    assert.deepEqual(c.events.map((e) => e.id), stored.slice(12).map((s) => s.id));
    c.close();
    const p = await SseClient.open(`${srv.url}/api/v1/events/stream?session_id=sse-b&last_event_id=${String(stored[17]?.seq)}`);
    await p.until((x) => x.named('caught_up').length === 1, 10_000, 'caught_up');
    assert.deepEqual(p.events.map((e) => e.id), stored.slice(18).map((s) => s.id));
    p.close();
  });

  test('event_type filters repeated or comma-separated; without a position only live events arrive', async () => {
    await publish(srv, 2, { session_id: 'sse-c', event_type: 'quiz_started' });
    const c = await SseClient.open(`${srv.url}/api/v1/events/stream?session_id=sse-c&event_type=quiz_started,quiz_completed&event_type=mastery_updated`);
    await c.until((x) => x.named('subscribed').length === 1, 5_000, 'subscribed');
    const sub = c.named('subscribed')[0] as { filters: { event_types: string[] } };
    assert.deepEqual(sub.filters.event_types.sort(), ['mastery_updated', 'quiz_completed', 'quiz_started']);
    for (const t of ['quiz_started', 'answer_submitted', 'mastery_updated', 'quiz_completed']) await publish(srv, 1, { session_id: 'sse-c', event_type: t });
    await c.until((x) => x.events.length === 3, 5_000, 'three matching events');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.events.length, 3);
    assert.equal(c.named('caught_up').length, 0, 'no replay was asked for');
    c.close();
  });

  test('ephemeral events stream without an id, so they never move the resume position', async () => {
    const c = await SseClient.open(`${srv.url}/api/v1/events/stream?session_id=sse-d`);
    await c.until((x) => x.named('subscribed').length === 1, 5_000, 'subscribed');
    assert.equal((await postEvent(srv.url, event({ session_id: 'sse-d', event_type: 'timer_tick' }))).status, 201);
    await c.until((x) => x.events.length === 1, 5_000, 'the tick');
    assert.equal(c.messages.find((m) => m.event === 'message')?.id, undefined);
    assert.equal(c.events[0]?.seq, null);
    c.close();
  });

  test('a quiet stream gets heartbeat comments', async () => {
    const c = await SseClient.open(`${srv.url}/api/v1/events/stream?session_id=sse-quiet`);
    await c.until((x) => x.comments.includes('heartbeat'), 5_000, 'a heartbeat');
    c.close();
  });

  test('bad filters or positions are a 422 with a JSON body, before any stream starts', async () => {
    for (const q of ['event_type=nope', 'from=yesterday', 'last_event_id=abc', `session_id=${'x'.repeat(201)}`]) {
      const c = await SseClient.open(`${srv.url}/api/v1/events/stream?${q}`);
      await c.until((x) => x.ended, 5_000, 'the response');
      assert.equal(c.status, 422, q);
      assert.ok(Array.isArray((JSON.parse(c.body) as { detail: unknown }).detail), q);
    }
    const bad = await SseClient.open(`${srv.url}/api/v1/events/stream`, { 'Last-Event-ID': '-5' });
    await bad.until((x) => x.ended, 5_000, 'the response');
    assert.equal(bad.status, 422);
  });
});

test('SSE: the key may come as api_key (EventSource cannot set headers); without it 401; shutdown ends the stream', async () => {
  const srv = await startServer({ REQUIRE_AUTH: 'true', API_KEY: 'sse-key' });
  try {
    const denied = await SseClient.open(`${srv.url}/api/v1/events/stream`);
    await denied.until((x) => x.ended, 5_000, 'the response');
    assert.equal(denied.status, 401);
    const c = await SseClient.open(`${srv.url}/api/v1/events/stream?api_key=sse-key`);
    assert.equal(c.status, 200);
    await c.until((x) => x.named('subscribed').length === 1, 5_000, 'subscribed');
    const stopping = srv.stop();
    await c.until((x) => x.ended, 10_000, 'the stream to end');
    await stopping;
  } catch (err) {
    await srv.stop();
    throw err;
  }
});
