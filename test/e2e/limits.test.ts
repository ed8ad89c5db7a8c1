import assert from 'node:assert/strict';
import { test } from 'node:test';
import { event, postEvent, startServer } from '../support/server.js';
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
