import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

/** Sends raw bytes and returns everything the server answers before closing or going quiet. */
function raw(request: string): Promise<string> {
  const { port } = new URL(srv.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString()));
    const done = (): void => {
      socket.destroy();
      resolve(out);
    };
    socket.on('end', done);
    socket.on('error', done);
    setTimeout(done, 1000);
  });
}

test('targets no URL parser accepts are a 400, for requests and upgrades, never a 5xx or a crash', async () => {
  for (const target of ['//x:99999/events', 'http://[bad/events']) {
    const res = await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(res, /^HTTP\/1\.1 400 /, target);
    assert.match(res, /"detail":"Bad Request"/);
    const up = await raw(
      `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    assert.match(up, /^HTTP\/1\.1 400 /, `upgrade ${target}`);
  }
  assert.equal((await fetch(`${srv.url}/health`)).status, 200, 'the server is still up');
});

test('malformed HTTP is a 400 with a JSON body', async () => {
  const res = await raw('NOT HTTP AT ALL\r\n\r\n');
  assert.match(res, /^HTTP\/1\.1 400 /);
  assert.match(res, /"detail":"Bad Request"/);
});
