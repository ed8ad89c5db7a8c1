import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { SseClient } from '../support/sse-client.js';
import { event, mintKey, postEvent, startServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

test('REQUIRE_AUTH: REST needs X-API-Key (checked before the body), WebSockets a header or api_key', async () => {
  const srv = await startServer({ REQUIRE_AUTH: 'true', API_KEY: 's3cret' });
  try {
    const no = await postEvent(srv.url, '{not even json');
    assert.equal(no.status, 401, 'auth comes before body validation');
    assert.deepEqual(await no.json(), { detail: 'Invalid or missing API key' });
    assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': 'wrong' })).status, 401);
    assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': 's3cret' })).status, 201);
    assert.equal((await fetch(`${srv.url}/api/v1/events`)).status, 401);
    assert.equal((await fetch(`${srv.url}/stats`)).status, 401);
    assert.equal((await fetch(`${srv.url}/events`, { method: 'DELETE' })).status, 401);
    assert.equal((await fetch(`${srv.url}/health`)).status, 200, 'probes stay open');
    await assert.rejects(TestSocket.open(`${srv.wsUrl}/ws/subscribe`), /401/);
    await assert.rejects(TestSocket.open(`${srv.wsUrl}/ws/publish?api_key=wrong`), /401/);
    const byQuery = await TestSocket.open(`${srv.wsUrl}/ws/publish?api_key=s3cret`);
    const byHeader = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { 'x-api-key': 's3cret' } });
    byQuery.close();
    byHeader.close();
  } finally {
    await srv.stop();
  }
});

test('rate limits count every request of a client, across aliases, invalid bodies and WebSocket publish, with Retry-After (D12)', async () => {
  const srv = await startServer({ RATE_LIMIT_PUBLISH: '5/minute', RATE_LIMIT_QUERY: '3/minute', RATE_LIMIT_ADMIN: '1/minute' });
  try {
    assert.equal((await postEvent(srv.url, event())).status, 201);
    assert.equal((await postEvent(srv.url, '{bad')).status, 422, 'an invalid request still counts');
    assert.equal((await fetch(`${srv.url}/events`, { method: 'POST', body: JSON.stringify(event()) })).status, 201, 'the alias shares the bucket');
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    pub.send(event());
    pub.send(event());
    pub.send(event());
    const replies = (await pub.count(3)) as { status: string; message?: string; retry_after?: number }[];
    assert.deepEqual(replies.map((r) => r.status), ['ok', 'ok', 'error']);
    assert.equal(replies[2]?.message, 'Rate limit exceeded. Try again later.');
    assert.ok(replies[2].retry_after! >= 1);
    pub.close();
    const limited = await postEvent(srv.url, event());
    assert.equal(limited.status, 429);
    assert.deepEqual(await limited.json(), { detail: 'Rate limit exceeded. Try again later.' });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);

    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${srv.url}/api/v1/events`)).status, 200);
    assert.equal((await fetch(`${srv.url}/events`)).status, 429, 'queries have their own bucket');
    assert.equal((await fetch(`${srv.url}/health`)).status, 200, 'health probes are never limited');
    assert.equal((await fetch(`${srv.url}/events`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${srv.url}/events`, { method: 'DELETE' })).status, 429);
  } finally {
    await srv.stop();
  }
});

test('WebSocket connections per address are capped before the upgrade (429)', async () => {
  const srv = await startServer({ MAX_WS_CONNECTIONS_PER_IP: '2' });
  try {
    const a = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    const b = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    await assert.rejects(TestSocket.open(`${srv.wsUrl}/ws/publish`), /429/);
    a.close();
    await a.closed;
    await new Promise((r) => setTimeout(r, 50));
    const c = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    b.close();
    c.close();
  } finally {
    await srv.stop();
  }
});

test('CORS is closed by default and open only to configured origins', async () => {
  const closed = await startServer();
  try {
    const r = await fetch(`${closed.url}/api/v1/events`, { headers: { Origin: 'https://school.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal((await fetch(`${closed.url}/api/v1/events`, { method: 'OPTIONS' })).status, 405);
  } finally {
    await closed.stop();
  }
  const open = await startServer({ CORS_ORIGINS: 'https://school.example, https://district.example' });
  try {
    const ok = await fetch(`${open.url}/api/v1/events`, { headers: { Origin: 'https://district.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://district.example');
    const other = await fetch(`${open.url}/api/v1/events`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const pre = await fetch(`${open.url}/api/v1/events`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://school.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /X-API-Key/);
  } finally {
    await open.stop();
  }
});

test('per-credential rate limits: one noisy key is limited, another key and the same key on WebSocket share nothing else', async () => {
  const srv = await startServer({ REQUIRE_AUTH: 'true', API_KEY: 'shared-admin-key', RATE_LIMIT_PUBLISH: '3/minute' });
  try {
    const noisy = await mintKey(srv, 'default', 'noisy', ['publish']);
    const quiet = await mintKey(srv, 'default', 'quiet', ['publish']);
    for (let i = 0; i < 3; i++) assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': noisy })).status, 201);
    const limited = await postEvent(srv.url, event(), { 'X-API-Key': noisy });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`, { headers: { 'X-API-Key': noisy } });
    pub.send(event());
    assert.equal(((await pub.next()) as { code?: string }).code, 'RATE_LIMITED', 'the same bucket over WebSocket');
    pub.close();
    // Same address, another credential: its own bucket.
    for (let i = 0; i < 3; i++) assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': quiet })).status, 201);
  } finally {
    await srv.stop();
  }
});

test('SSE streams count against the per-address connection limit, with WebSockets (429 CONNECTION_LIMIT_REACHED)', async () => {
  const srv = await startServer({ MAX_WS_CONNECTIONS_PER_IP: '2', SSE_HEARTBEAT_MS: '60000' });
  try {
    const a = await SseClient.open(`${srv.url}/api/v1/events/stream`);
    const b = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    assert.equal(a.status, 200);
    const c = await SseClient.open(`${srv.url}/api/v1/events/stream`);
    assert.equal(c.status, 429);
    assert.equal(c.headers['x-error-code'], 'CONNECTION_LIMIT_REACHED');
    assert.match((JSON.parse(c.body) as { detail: string }).detail, /limit 2/);
    await assert.rejects(TestSocket.open(`${srv.wsUrl}/ws/publish`), /429/);
    a.close();
    await waitFor(async () => (await SseClient.open(`${srv.url}/api/v1/events/stream`).then((d) => (d.close(), d.status))) === 200, 'a slot frees when a stream ends');
    b.close();
  } finally {
    await srv.stop();
  }
});

/** Sends raw bytes on a fresh connection; resolves with what the server sent until it closed, and when. */
function rawExchange(port: number, chunks: string[], gapMs: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    let i = 0;
    const next = (): void => {
      if (i >= chunks.length || socket.destroyed) return;
      socket.write(chunks[i++]!);
      setTimeout(next, gapMs);
    };
    socket.on('connect', next);
  });
}

test('slowloris: headers or a body that trickle in past their timeouts get 408 and the connection is closed; idle keep-alive connections are closed', async () => {
  const srv = await startServer({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '600', HTTP_KEEP_ALIVE_TIMEOUT_MS: '200' });
  try {
    const port = Number(new URL(srv.url).port);
    // One header line every 100 ms, never finishing.
    const headers = await rawExchange(port, ['GET /api/v1/events HTTP/1.1\r\n', ...Array.from({ length: 50 }, (_, i) => `X-Slow-${i}: 1\r\n`)], 100);
    assert.match(headers.text, /^HTTP\/1\.1 408 /);
    assert.match(headers.text, /"detail":"Request Timeout"/);
    assert.ok(headers.closedAfterMs < 3_000, `closed after ${headers.closedAfterMs} ms`);
    // Headers in time, the body a byte at a time.
    const body = await rawExchange(
      port,
      ['POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', ...Array.from({ length: 60 }, () => ' ')],
      50,
    );
    assert.match(body.text, /408|^$/, 'a 408, or a cut connection');
    assert.ok(body.closedAfterMs < 3_000, `closed after ${body.closedAfterMs} ms`);
    // A finished request, then silence: the keep-alive connection is closed by the server.
    const idle = await rawExchange(port, ['GET /health HTTP/1.1\r\nHost: x\r\n\r\n'], 0);
    assert.match(idle.text, /^HTTP\/1\.1 200 /);
    assert.ok(idle.closedAfterMs < 2_000, `idle connection closed after ${idle.closedAfterMs} ms`);
  } finally {
    await srv.stop();
  }
});

test('history page size: limit above MAX_PAGE_SIZE (1,000 by default) is a 422 naming the parameter', async () => {
  for (const [env, max] of [[{}, 1000], [{ MAX_PAGE_SIZE: '50' }, 50]] as const) {
    const srv = await startServer(env);
    try {
      const res = await fetch(`${srv.url}/api/v1/events?limit=${max + 1}`);
      assert.equal(res.status, 422);
      const detail = ((await res.json()) as { detail: { loc: unknown[] }[] }).detail;
      assert.deepEqual(detail[0]?.loc, ['query', 'limit']);
      assert.equal((await fetch(`${srv.url}/api/v1/events?limit=${max}`)).status, 200);
    } finally {
      await srv.stop();
    }
  }
});

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
