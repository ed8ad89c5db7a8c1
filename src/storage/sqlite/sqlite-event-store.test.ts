import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { appendAll, draft, eventStoreContract, TENANT } from '../event-store.contract.js';
import { MIGRATIONS } from './migrations/index.js';
import { SqliteEventStore } from './sqlite-event-store.js';

function tempPath(): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rep-sqlite-'));
  return { dir, path: join(dir, 'nested', 'events.db') };
}

eventStoreContract('sqlite', (options) => {
  const { dir, path } = tempPath();
  const store = new SqliteEventStore({ path, ...options });
  return Promise.resolve({
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

test('sqlite - creates the folder and a file only its owner can read', async () => {
  const { dir, path } = tempPath();
  const store = new SqliteEventStore({ path });
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite - events, counts and the head seq survive a reopen', async () => {
  const { dir, path } = tempPath();
  try {
    const a = new SqliteEventStore({ path });
    const stored = await appendAll(a, [draft(), draft({ eventType: 'quiz_started' })]);
    await a.deleteBefore(TENANT);
    await a.append([draft()]);
    await a.close();
    const b = new SqliteEventStore({ path });
    assert.equal(b.headSeq(), 3);
    assert.equal((await b.stats(TENANT, 0)).totalEvents, 1);
    const [next] = await appendAll(b, [draft({ receivedAtUs: 0 })]);
    assert.equal(next!.seq, 4);
    assert.ok(next!.timestampUs >= stored[1]!.timestampUs, 'timestamps stay monotonic across restarts');
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite - history queries walk a tenant-led index, never scan or sort the table', async () => {
  const { dir, path } = tempPath();
  const store = new SqliteEventStore({ path });
  try {
    const cols = 'SELECT seq, id, body FROM events';
    const plan = (where: string, ...params: unknown[]) =>
      store.explain(`${cols} WHERE tenant = ? AND ${where} ORDER BY seq DESC LIMIT 100`, 't', ...params).join(' | ');
    assert.match(plan('session_id = ?', 's'), /USING INDEX events_tenant_session_seq/);
    assert.match(plan('user_id = ?', 'u'), /USING INDEX events_tenant_user_seq/);
    assert.match(plan('event_type = ?', 'quiz_started'), /USING INDEX events_tenant_type_seq/);
    for (const w of ['session_id = ?', 'user_id = ?', 'event_type = ?']) assert.doesNotMatch(plan(w, 'x'), /TEMP B-TREE|SCAN events/);
    assert.match(plan('seq > ?', 0), /USING INDEX events_tenant_seq/);
    assert.doesNotMatch(plan('seq > ?', 0), /TEMP B-TREE/);
    const count = store.explain('SELECT count(*) FROM events WHERE tenant = ? AND ts_us >= ? AND ts_us < ?', 't', 0, 1).join(' | ');
    assert.match(count, /COVERING INDEX events_tenant_ts/);
    const timeToSeq = store
      .explain('SELECT seq FROM events WHERE tenant = ? AND ts_us <= ? ORDER BY ts_us DESC, seq DESC LIMIT 1', 't', 0)
      .join(' | ');
    assert.match(timeToSeq, /COVERING INDEX events_tenant_ts/);
    assert.doesNotMatch(timeToSeq, /TEMP B-TREE/);
    assert.doesNotMatch(plan('session_id = ? AND seq > ?', 's', 5).replace('DESC', 'ASC'), /TEMP B-TREE/);
    assert.match(store.explain('SELECT body FROM events WHERE id = ?', 'evt_x').join(' | '), /USING INDEX sqlite_autoindex_events_1/);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite - a schema newer than the server is refused with a clear message', async () => {
  const { dir, path } = tempPath();
  try {
    const a = new SqliteEventStore({ path });
    await a.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => new SqliteEventStore({ path }), /schema version 99 is newer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite - a version-1 database migrates: its events join the default tenant with counts, per-second counts and indexes', async () => {
  const { dir, path } = tempPath();
  try {
    const T = Date.UTC(2026, 0, 1) * 1000;
    const Database = (await import('better-sqlite3')).default;
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.exec(MIGRATIONS[0] as string);
    const insert = db.prepare('INSERT INTO events (seq, id, event_type, session_id, user_id, ts_us, body) VALUES (?, ?, ?, ?, ?, ?, ?)');
    [T, T + 10, T + 2_000_000].forEach((ts, i) => {
      const id = `evt_00000000000${String(i + 1)}`;
      insert.run(i + 1, id, 'quiz_started', 's1', 'u1', ts, JSON.stringify({ id, seq: i + 1 }));
    });
    db.exec(`INSERT INTO type_stats VALUES ('quiz_started', 3, ${String(T + 2_000_000)}); UPDATE meta SET value = 3 WHERE key = 'head_seq'; UPDATE meta SET value = ${String(T + 2_000_000)} WHERE key = 'last_ts_us'`);
    db.pragma('user_version = 1');
    db.close();
    const b = new SqliteEventStore({ path });
    assert.equal((await b.stats(TENANT, T)).eventsSince, 2);
    assert.equal((await b.stats(TENANT, T - 1)).eventsSince, 3);
    assert.deepEqual((await b.stats(TENANT, 0)).byType.map((t) => [t.eventType, t.count]), [['quiz_started', 3]]);
    assert.equal((await b.getById(TENANT, 'evt_000000000002'))?.tenant, TENANT);
    assert.equal((await b.query({ tenant: TENANT, sessionId: 's1', limit: 10 })).length, 3);
    assert.equal((await b.query({ tenant: 'other', limit: 10 })).length, 0);
    const [next] = await appendAll(b, [draft()]);
    assert.equal(next?.seq, 4);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite - the background checkpointer keeps the WAL small under steady writes; without it the WAL grows', async () => {
  const walAfterSteadyWrites = async (options: { checkpointIntervalMs: number; walAutocheckpointPages?: number }): Promise<number> => {
    const { dir, path } = tempPath();
    const store = new SqliteEventStore({ path, ...options });
    try {
      // One small commit at a time, as a quiet classroom produces them: about 7 pages each.
      for (let i = 0; i < 1500; i++) {
        await appendAll(store, [draft({ payloadJson: `{"i":${i}}` })]);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 100));
      await appendAll(store, [draft()]);
      return statSync(`${path}-wal`).size;
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const unchecked = await walAfterSteadyWrites({ checkpointIntervalMs: 0, walAutocheckpointPages: 1_000_000 });
  const checked = await walAfterSteadyWrites({ checkpointIntervalMs: 20 });
  assert.ok(unchecked > 8 * 1024 * 1024, `without checkpoints the WAL grew to ${unchecked} bytes`);
  assert.ok(checked < unchecked / 4, `with the checkpointer the WAL stayed at ${checked} bytes (vs ${unchecked})`);
});
