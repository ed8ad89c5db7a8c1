import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

test('/docs renders the API in a real browser from local assets only (D11)', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env['CI'] === 'true') assert.fail('chromium is required in CI (.ci/run installs it)');
    t.skip(`${CHROMIUM} not installed (apt-get install chromium)`);
    return;
  }
  const srv = await startServer();
  const profile = mkdtempSync(join(tmpdir(), 'rep-chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=10000',
        '--dump-dom',
        `${srv.url}/docs`,
      ],
      { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
    );
    // Swagger UI builds these elements only after its script ran and fetched /openapi.json.
    assert.match(stdout, /class="opblock opblock-post/);
    assert.match(stdout, /\/api\/v1\/events/);
    assert.match(stdout, /realtime-event-pipeline/);
  } finally {
    rmSync(profile, { recursive: true, force: true });
    await srv.stop();
  }
});
