import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { event, startServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

test('a browser EventSource on another (allowed) origin replays, catches up and reads ids as seqs', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env['CI'] === 'true') assert.fail('chromium is required in CI (.ci/run installs it)');
    t.skip(`${CHROMIUM} not installed (apt-get install chromium)`);
    return;
  }
  // The dashboard page is served from its own origin; the pipeline allows it through CORS_ORIGINS.
  let pageUrl = '';
  let streamUrl = '';
  const page = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<html><body><pre id="out"></pre><script>
      const out = document.getElementById('out');
      const es = new EventSource(${JSON.stringify(streamUrl)});
      es.onmessage = (m) => { out.textContent += 'EV ' + m.lastEventId + ' ' + JSON.parse(m.data).seq + '\\n'; };
      es.addEventListener('caught_up', (m) => { out.textContent += 'CAUGHT ' + JSON.parse(m.data).seq + '\\n'; es.close(); });
      es.onerror = () => { out.textContent += 'ERROR\\n'; es.close(); };
    </script></body></html>`);
  });
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  pageUrl = `http://127.0.0.1:${String((page.address() as AddressInfo).port)}`;
  const srv = await startServer({ CORS_ORIGINS: pageUrl });
  streamUrl = `${srv.url}/api/v1/events/stream?session_id=browser&from=earliest`;
  const profile = mkdtempSync(join(tmpdir(), 'rep-chromium-'));
  try {
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${srv.url}/api/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(event({ session_id: 'browser' })) });
      seqs.push(((await res.json()) as { seq: number }).seq);
    }
    const { stdout } = await run(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=5000', '--dump-dom', pageUrl],
      { timeout: 60_000, maxBuffer: 8 * 1024 * 1024 },
    );
    const out = /<pre id="out">([^<]*)<\/pre>/.exec(stdout)?.[1] ?? '';
    const expected = [...seqs.map((s) => `EV ${String(s)} ${String(s)}`), `CAUGHT ${String(seqs.at(-1))}`].join('\n') + '\n';
    assert.equal(out, expected);
  } finally {
    rmSync(profile, { recursive: true, force: true });
    await srv.stop();
    await new Promise((r) => page.close(r));
  }
});
