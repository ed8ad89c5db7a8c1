import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendAll, draft, eventStoreContract } from '../event-store.contract.js';
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
    await a.deleteBefore();
    await a.append([draft()]);
    await a.close();
    const b = new SqliteEventStore({ path });
    assert.equal(b.headSeq(), 3);
    assert.equal((await b.stats(0)).totalEvents, 1);
    const [next] = await appendAll(b, [draft({ receivedAtUs: 0 })]);
    assert.equal(next!.seq, 4);
    assert.ok(next!.timestampUs >= stored[1]!.timestampUs, 'timestamps stay monotonic across restarts');
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite - history queries walk an index, never scan or sort the table', async () => {
  const { dir, path } = tempPath();
  const store = new SqliteEventStore({ path });
  try {
    const cols = 'SELECT seq, id, body FROM events';
    const plan = (where: string, ...params: unknown[]) => store.explain(`${cols} WHERE ${where} ORDER BY seq DESC LIMIT 100`, ...params).join(' | ');
    assert.match(plan('session_id = ?', 's'), /USING INDEX events_session_seq/);
    assert.match(plan('user_id = ?', 'u'), /USING INDEX events_user_seq/);
    assert.match(plan('event_type = ?', 'quiz_started'), /USING INDEX events_type_seq/);
    for (const w of ['session_id = ?', 'user_id = ?', 'event_type = ?']) assert.doesNotMatch(plan(w, 'x'), /TEMP B-TREE/);
    assert.doesNotMatch(store.explain(`${cols} ORDER BY seq DESC LIMIT 100`).join(' | '), /TEMP B-TREE/);
    assert.match(store.explain('SELECT count(*) FROM events WHERE ts_us > ?', 0).join(' | '), /COVERING INDEX events_ts/);
    const timeToSeq = store.explain('SELECT seq FROM events WHERE ts_us <= ? ORDER BY ts_us DESC, seq DESC LIMIT 1', 0).join(' | ');
    assert.match(timeToSeq, /COVERING INDEX events_ts/);
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

test('sqlite - migrating a version-1 database backfills the per-second counts', async () => {
  const { dir, path } = tempPath();
  try {
    const a = new SqliteEventStore({ path });
    const T = Date.UTC(2026, 0, 1) * 1000;
    await a.append([draft({ receivedAtUs: T }), draft({ receivedAtUs: T + 10 }), draft({ receivedAtUs: T + 2_000_000 })]);
    await a.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path);
    db.exec("DROP TABLE second_counts; DROP TABLE idempotency_keys; DROP TABLE audit_log; DROP TABLE api_keys; DELETE FROM meta WHERE key IN ('purged_seq', 'purged_ts_us')");
    db.pragma('user_version = 1');
    db.close();
    const b = new SqliteEventStore({ path });
    assert.equal((await b.stats(T)).eventsSince, 2);
    assert.equal((await b.stats(T - 1)).eventsSince, 3);
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
