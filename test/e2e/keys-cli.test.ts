/**
 * The `keys` command against a real database: create a key in a tenant (printed once), list
 * (never a secret), use it against a server on the same database, revoke it (it stops working
 * at once), and clear usage errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { event, postEvent, startServer } from '../support/server.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

async function keys(dbPath: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_PATH: dbPath } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test('keys CLI: create in a tenant, list without secrets, use, revoke; usage errors exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rep-keys-'));
  const db = join(dir, 'events.db');
  try {
    const created = await keys(db, 'create', '--name', 'quiz-engine', '--scopes', 'publish,read', '--tenant', 'school-a');
    assert.equal(created.code, 0, created.stderr);
    const record = JSON.parse(created.stdout.slice(0, created.stdout.lastIndexOf('}') + 1)) as { id: string; key: string; tenant: string; scopes: string[] };
    assert.match(record.key, /^rep_[0-9a-f]{12}_/);
    assert.deepEqual([record.tenant, record.scopes], ['school-a', ['publish', 'read']]);
    const listed = await keys(db, 'list');
    assert.ok(listed.stdout.includes(record.id) && !listed.stdout.includes(record.key), 'listed, never with its secret');

    const srv = await startServer({ DATABASE_PATH: db, REQUIRE_AUTH: 'true', API_KEY: 'shared-admin-key' });
    try {
      assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': record.key })).status, 201);
      const own = (await (await fetch(`${srv.url}/api/v1/events`, { headers: { 'X-API-Key': record.key } })).json()) as unknown[];
      assert.equal(own.length, 1);
      const shared = (await (await fetch(`${srv.url}/api/v1/events`, { headers: { 'X-API-Key': 'shared-admin-key' } })).json()) as unknown[];
      assert.equal(shared.length, 0, "the default tenant does not see school-a's event");
      assert.equal((await keys(db, 'revoke', record.id)).code, 0);
      assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': record.key })).status, 401, 'revoked keys stop working at once');
    } finally {
      await srv.stop();
    }

    const bad = await keys(db, 'create', '--name', 'x', '--scopes', 'root');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scopes/);
    assert.equal((await keys(db, 'revoke', 'ffffffffffff')).code, 2);
    assert.equal((await keys(db, 'frobnicate')).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
