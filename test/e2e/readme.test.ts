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
    const { stdout } = await run('sh', ['-c', local]);
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
