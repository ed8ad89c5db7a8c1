import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { event, startServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

test('logs: JSON lines with the configuration (never the key) and slow-consumer disconnects (never payloads)', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const srv = await startServer({ REQUIRE_AUTH: 'true', API_KEY: 'top-secret-key', MAX_QUEUE_SIZE: '5', SUBSCRIBER_QUEUE_MAX_BYTES: '2048' }, { log });
  try {
    const config = lines.find((l) => l['msg'] === 'configuration');
    assert.ok(config);
    assert.equal(config['apiKey'], '(set)');
    const slow = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { 'x-api-key': 'top-secret-key' } });
    slow.send({});
    await slow.next();
    slow.ws.pause();
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`, { headers: { 'x-api-key': 'top-secret-key' } });
    const secret = 'student-answer-' + 'x'.repeat(4000);
    // How much the kernel's socket buffers absorb before the server's queue fills varies with
    // the machine, so publish in rounds until the paused subscriber is cut (bounded at ~16 MB).
    const isWarn = (l: Record<string, unknown>): boolean => l['msg'] === 'slow consumer disconnected';
    for (let sent = 0; sent < 4000 && !lines.some(isWarn); sent += 200) {
      for (let i = 0; i < 200; i++) pub.send(event({ payload: { secret } }));
      await pub.count(sent + 200, 20_000);
    }
    const warn = lines.find(isWarn);
    assert.ok(warn, 'the disconnect is logged');
    assert.equal(warn['level'], 'warning');
    assert.ok(Number(warn['dropped_frames']) > 0);
    const everything = JSON.stringify(lines);
    assert.ok(!everything.includes('top-secret-key'), 'no credentials in logs');
    assert.ok(!everything.includes('student-answer-'), 'no payloads in logs');
    pub.close();
    slow.close();
  } finally {
    await srv.stop();
  }
});
