import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(new URL('README.md', `file://${ROOT}`), 'utf8');

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

/** Every `curl` command in the README's bash blocks, continuation lines joined. */
function curlExamples(): string[] {
  const blocks = [...README.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const commands: string[] = [];
  for (const block of blocks) {
    const joined = block.replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) if (line.trim().startsWith('curl ')) commands.push(line.trim());
  }
  return commands;
}

test('README - every curl example works as written (against a test port)', async () => {
  const commands = curlExamples();
  assert.ok(commands.length >= 6);
  for (const cmd of commands) {
    const local = cmd.replaceAll('http://localhost:8001', srv.url).replace(/^curl /, `curl -sS -o /dev/null -w '%{http_code}' `);
    // A streaming example (SSE) runs until its --max-time: curl then exits 28 after a 200.
    const streaming = cmd.includes('--max-time');
    const { stdout } = await run('sh', ['-c', streaming ? local.replace(/--max-time \d+/, '--max-time 1') + ' ; true' : local]);
    assert.match(stdout, /^2\d\d$/, `${cmd} → ${stdout}`);
  }
});

test('README - the Node.js WebSocket examples publish and receive', async () => {
  assert.ok(README.includes('node examples/subscribe.mjs') && README.includes('node examples/publish-ws.mjs'));
  const env = { ...process.env, PIPELINE_URL: srv.wsUrl };
  const sub = spawn(process.execPath, ['examples/subscribe.mjs'], { cwd: ROOT, env });
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    for (let i = 0; i < 100 && !out.includes('subscribed as'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /subscribed as sub_/);
    const pub = await run(process.execPath, ['examples/publish-ws.mjs'], { cwd: ROOT, env });
    const acks = pub.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string });
    assert.deepEqual(acks.map((a) => a.status), ['ok', 'ok', 'ok']);
    for (let i = 0; i < 100 && !out.includes('[quiz_completed]'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /\[quiz_started\][\s\S]*\[answer_submitted\][\s\S]*\[quiz_completed\]/);
  } finally {
    sub.kill();
  }
});

test('README - the resuming subscriber example replays, says caught up, then follows live events', async () => {
  assert.ok(README.includes('node examples/resume.mjs'));
  await fetch(`${srv.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event_type: 'quiz_started', source: 'readme', session_id: 'session-123', user_id: 'student-1' }),
  });
  const sub = spawn(process.execPath, ['examples/resume.mjs'], { cwd: ROOT, env: { ...process.env, PIPELINE_URL: srv.wsUrl } });
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    for (let i = 0; i < 100 && !out.includes('caught up at seq'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /subscribed as sub_[\s\S]*\[quiz_started\] student-1[\s\S]*caught up at seq \d+/);
    await fetch(`${srv.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ event_type: 'quiz_completed', source: 'readme', session_id: 'session-123', user_id: 'student-live' }),
    });
    for (let i = 0; i < 100 && !out.includes('[quiz_completed] student-live'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /caught up at seq \d+[\s\S]*\[quiz_completed\] student-live/);
  } finally {
    sub.kill();
  }
});
