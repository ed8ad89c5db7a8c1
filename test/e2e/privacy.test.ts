import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { event, postEvent, startServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

interface Audit {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  count: number;
}

test('erasing a student removes their events from history, stats and replay for good, and is audited', async () => {
  const srv = await startServer({ REQUIRE_AUTH: 'true', API_KEY: 'admin-key' });
  const key = { 'X-API-Key': 'admin-key' };
  try {
    for (const user of ['erase-me', 'keep-me', 'erase-me']) {
      assert.equal((await postEvent(srv.url, event({ session_id: 'priv', user_id: user, payload: { answer: 'B' } }), { ...key, 'Idempotency-Key': `k-${user}-${String(Math.random())}` })).status, 201);
    }
    assert.equal((await fetch(`${srv.url}/api/v1/users/erase-me/events`, { method: 'DELETE' })).status, 401, 'admin only');
    const res = await fetch(`${srv.url}/api/v1/users/erase-me/events`, { method: 'DELETE', headers: key });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { user_id: 'erase-me', deleted: 2 });
    const left = (await (await fetch(`${srv.url}/api/v1/events?session_id=priv`, { headers: key })).json()) as { user_id: string }[];
    assert.deepEqual(left.map((e) => e.user_id), ['keep-me']);
    const stats = (await (await fetch(`${srv.url}/api/v1/stats`, { headers: key })).json()) as { total_events: number; events_last_hour: number };
    assert.equal(stats.total_events, 1);
    assert.equal(stats.events_last_hour, 1);
    const replay = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { 'x-api-key': 'admin-key' } });
    replay.send({ session_id: 'priv', from: 'earliest' });
    await replay.until((m) => (m as { type?: string }[]).some((x) => x.type === 'caught_up'), 5_000, 'caught_up');
    assert.deepEqual((replay.messages as { user_id?: string }[]).filter((m) => m.user_id !== undefined).map((m) => m.user_id), ['keep-me']);
    replay.close();
    await fetch(`${srv.url}/api/v1/events?before=2000-01-01T00:00:00Z`, { method: 'DELETE', headers: key });
    const audit = (await (await fetch(`${srv.url}/api/v1/admin/audit`, { headers: key })).json()) as Audit[];
    assert.deepEqual(
      audit.map((a) => [a.action, a.target, a.count]),
      [
        ['delete_events', '2000-01-01T00:00:00.000000Z', 0],
        ['erase_user', 'erase-me', 2],
      ],
    );
    assert.match(audit[1]?.actor ?? '', /^api-key@127\.0\.0\.1$/);
    assert.ok(!JSON.stringify(audit).includes('admin-key'), 'never the key itself');
    assert.equal((await fetch(`${srv.url}/api/v1/admin/audit`)).status, 401);
    assert.equal((await fetch(`${srv.url}/api/v1/admin/audit?limit=0`, { headers: key })).status, 422);
  } finally {
    await srv.stop();
  }
});

test('erasure survives a restart; RETENTION_DAYS purges old events at start, audited as retention', async () => {
  let now = Date.UTC(2026, 0, 10) * 1000;
  const clock = () => now;
  const first = await startServer({}, { clock });
  const databasePath = join(first.dir, 'events.db');
  await postEvent(first.url, event({ user_id: 'gone' }));
  await postEvent(first.url, event({ user_id: 'old' }));
  await fetch(`${first.url}/api/v1/users/gone/events`, { method: 'DELETE' });
  await first.app.stop();
  now += 3 * 86_400_000_000;
  const second = await startServer({ DATABASE_PATH: databasePath, RETENTION_DAYS: '2' }, { clock });
  try {
    let audit: Audit[] = [];
    for (let i = 0; i < 100 && !audit.some((a) => a.action === 'retention_purge'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      audit = (await (await fetch(`${second.url}/api/v1/admin/audit`)).json()) as Audit[];
    }
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.target, a.count]),
      [
        ['retention_purge', 'retention', '2026-01-11T00:00:00.000000Z', 1],
        ['erase_user', 'anonymous@127.0.0.1', 'gone', 1],
      ],
    );
    assert.equal(((await (await fetch(`${second.url}/api/v1/events`)).json()) as unknown[]).length, 0);
  } finally {
    await second.stop();
    await first.stop();
  }
});
