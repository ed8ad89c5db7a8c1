/**
 * Scoped credentials end to end: API keys created, used and revoked over the admin API; JWTs
 * narrowed to sessions and users; WebSocket first-message authentication, its timeout, token
 * expiry closing a socket, per-credential connection limits and the Origin allowlist.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import { event, postEvent, startServer, type TestServer } from '../support/server.js';
import { SseClient } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';

const SHARED = 'shared-admin-key';
const SECRET = 'a-test-secret-of-at-least-32-characters!';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'rep-test';
const AUTH_ENV = { REQUIRE_AUTH: 'true', API_KEY: SHARED, JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };

function token(claims: Record<string, unknown>, options: { expiresIn?: string | number; secret?: string; sub?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(options.sub ?? 'teacher-1')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

async function createKey(srv: TestServer, scopes: string[], name = 'svc'): Promise<{ id: string; key: string }> {
  const res = await fetch(`${srv.url}/api/v1/admin/keys`, {
    method: 'POST',
    headers: { 'X-API-Key': SHARED, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, scopes }),
  });
  assert.equal(res.status, 201);
  return (await res.json()) as { id: string; key: string };
}

/** The HTTP status of a refused upgrade, or 101 when it was accepted. */
function upgradeStatus(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}, protocols?: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', reject);
  });
}

let srv: TestServer;
before(async () => {
  srv = await startServer({ ...AUTH_ENV, CORS_ORIGINS: 'https://dashboard.school.test', MAX_WS_CONNECTIONS_PER_CREDENTIAL: '2', WS_AUTH_TIMEOUT_MS: '300' });
  for (const [session, user] of [['class-a', 'u-1'], ['class-a', 'u-2'], ['class-b', 'u-3']] as const) {
    assert.equal((await postEvent(srv.url, event({ session_id: session, user_id: user }), { 'X-API-Key': SHARED })).status, 201);
  }
});
after(() => srv.stop());

test('keys: created with scopes, listed without secrets, revoked keys stop working at once', async () => {
  const { id, key } = await createKey(srv, ['read'], 'analytics');
  assert.match(key, /^rep_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal((await fetch(`${srv.url}/api/v1/events`, { headers: { 'X-API-Key': key } })).status, 200);
  assert.equal((await postEvent(srv.url, event(), { 'X-API-Key': key })).status, 403);

  const list = (await (await fetch(`${srv.url}/api/v1/admin/keys`, { headers: { 'X-API-Key': SHARED } })).json()) as Record<string, unknown>[];
  const listed = list.find((k) => k['id'] === id);
  assert.deepEqual(listed && { name: listed['name'], scopes: listed['scopes'], revoked_at: listed['revoked_at'] }, { name: 'analytics', scopes: ['read'], revoked_at: null });
  assert.ok(!JSON.stringify(list).includes(key.slice(-43)), 'no secret in the listing');

  const revoke = await fetch(`${srv.url}/api/v1/admin/keys/${id}`, { method: 'DELETE', headers: { 'X-API-Key': SHARED } });
  assert.deepEqual(await revoke.json(), { id, revoked: true });
  assert.equal((await fetch(`${srv.url}/api/v1/events`, { headers: { 'X-API-Key': key } })).status, 401);
  const again = await fetch(`${srv.url}/api/v1/admin/keys/${id}`, { method: 'DELETE', headers: { 'X-API-Key': SHARED } });
  assert.equal(again.status, 404);
  assert.equal(again.headers.get('x-error-code'), 'KEY_NOT_FOUND');
});

test('keys: revoking a key closes the WebSockets (4503) and SSE streams it holds open, at once; other credentials stay', async () => {
  const { id, key } = await createKey(srv, ['subscribe', 'publish'], 'dashboard-backend');
  const sub = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { 'X-API-Key': key } });
  sub.send({ session_id: 'class-a' });
  assert.equal(((await sub.next()) as { status?: string }).status, 'subscribed');
  // Two connections: this server allows two per credential.
  const stream = await SseClient.open(`${srv.url}/api/v1/events/stream?session_id=class-a`, { 'X-API-Key': key });
  await stream.until((x) => x.named('subscribed').length === 1, 5_000, 'subscribed');
  const other = await TestSocket.open(`${srv.wsUrl}/ws/publish`, { headers: { 'X-API-Key': SHARED } });

  const revoke = await fetch(`${srv.url}/api/v1/admin/keys/${id}`, { method: 'DELETE', headers: { 'X-API-Key': SHARED } });
  assert.equal(revoke.status, 200);
  assert.equal(await sub.closed, CloseCode.CREDENTIAL_REVOKED);
  await stream.until((x) => x.ended, 5_000, 'the stream ends');
  assert.deepEqual(stream.named('end'), [{ type: 'end', reason: 'credential_revoked' }]);
  assert.equal(other.ws.readyState, other.ws.OPEN, "another credential's socket stays open");
  other.close();
  await assert.rejects(TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { 'X-API-Key': key } }), /401/);
});

test('keys: bad requests are 422 with field details; keys of another tenant are not the admin API\'s to make', async () => {
  const post = (body: unknown): Promise<Response> =>
    fetch(`${srv.url}/api/v1/admin/keys`, { method: 'POST', headers: { 'X-API-Key': SHARED, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  for (const [body, loc] of [
    [{ name: 'x', scopes: ['root'] }, ['body', 'scopes', 0]],
    [{ name: '', scopes: ['read'] }, ['body', 'name']],
    [{ name: 'x', scopes: [] }, ['body', 'scopes']],
    [{ name: 'x', scopes: ['read'], tenant: 'Not A Tenant' }, ['body', 'tenant']],
  ] as const) {
    const res = await post(body);
    assert.equal(res.status, 422, JSON.stringify(body));
    const detail = ((await res.json()) as { detail: { loc: unknown[] }[] }).detail;
    assert.deepEqual(detail[0]?.loc, loc);
  }
  const foreign = await post({ name: 'x', scopes: ['read'], tenant: 'other-school' });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers.get('x-error-code'), 'AUTH_FORBIDDEN');
});

test('JWT: a teacher token reads only its class sessions; a foreign event id answers 404', async () => {
  const teacher = await token({ scope: 'read subscribe', sessions: ['class-a'] });
  const auth = { Authorization: `Bearer ${teacher}` };
  const own = await fetch(`${srv.url}/api/v1/events?session_id=class-a`, { headers: auth });
  assert.equal(own.status, 200);
  const events = (await own.json()) as { session_id: string }[];
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => e.session_id === 'class-a'));
  assert.equal((await fetch(`${srv.url}/api/v1/events?session_id=class-b`, { headers: auth })).status, 403);
  assert.equal((await fetch(`${srv.url}/api/v1/events`, { headers: auth })).status, 403);
  assert.equal((await fetch(`${srv.url}/api/v1/stats`, { headers: auth })).status, 403);

  const all = (await (await fetch(`${srv.url}/api/v1/events`, { headers: { 'X-API-Key': SHARED } })).json()) as { event_id: string; session_id: string }[];
  const foreign = all.find((e) => e.session_id === 'class-b');
  assert.ok(foreign);
  const res = await fetch(`${srv.url}/api/v1/events/${foreign.event_id}`, { headers: auth });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { detail: 'Event not found' });
});

test('JWT: a student token publishes only as its own user and never gets admin', async () => {
  const student = await token({ scope: 'publish read admin', user_id: 'u-2' }, { sub: 'student-2' });
  const auth = { Authorization: `Bearer ${student}` };
  assert.equal((await postEvent(srv.url, event({ session_id: 'class-a', user_id: 'u-2' }), auth)).status, 201);
  const spoof = await postEvent(srv.url, event({ session_id: 'class-a', user_id: 'u-1' }), auth);
  assert.equal(spoof.status, 403);
  assert.equal(spoof.headers.get('x-error-code'), 'AUTH_FORBIDDEN');
  assert.equal((await fetch(`${srv.url}/api/v1/users/u-1/events`, { method: 'DELETE', headers: auth })).status, 403);
  const mine = (await (await fetch(`${srv.url}/api/v1/events?user_id=u-2`, { headers: auth })).json()) as { user_id: string }[];
  assert.ok(mine.length >= 2 && mine.every((e) => e.user_id === 'u-2'));
  assert.equal((await fetch(`${srv.url}/api/v1/events?user_id=u-1`, { headers: auth })).status, 403);
});

test('JWT: wrong signature, wrong audience, expired, and alg none are all 401', async () => {
  const wrongSecret = await token({ scope: 'read' }, { secret: 'another-secret-that-is-32-characters-long' });
  const expired = await token({ scope: 'read' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 });
  const wrongAud = await new SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience('someone-else')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ scope: 'read', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
  for (const t of [wrongSecret, expired, wrongAud, none]) {
    const res = await fetch(`${srv.url}/api/v1/events`, { headers: { Authorization: `Bearer ${t}` } });
    assert.equal(res.status, 401);
    assert.ok(typeof ((await res.json()) as { detail?: unknown }).detail === 'string');
  }
});

test('WebSocket: a narrowed token may subscribe to its own session only, and receives only it', async () => {
  const teacher = await token({ scope: 'subscribe', sessions: ['class-a'] });
  const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { Authorization: `Bearer ${teacher}` } });
  s.send({ session_id: 'class-b' });
  const refused = (await s.next()) as { status?: string; code?: string };
  assert.deepEqual([refused.status, refused.code], ['error', 'AUTH_FORBIDDEN']);
  s.send({ session_id: 'class-a' });
  assert.equal(((await s.next()) as { status?: string }).status, 'subscribed');
  await postEvent(srv.url, event({ session_id: 'class-b', user_id: 'u-9' }), { 'X-API-Key': SHARED });
  await postEvent(srv.url, event({ session_id: 'class-a', user_id: 'u-8' }), { 'X-API-Key': SHARED });
  const delivered = (await s.next()) as { session_id: string; user_id: string };
  assert.deepEqual([delivered.session_id, delivered.user_id], ['class-a', 'u-8']);
  s.close();
  await s.closed;
});

test('WebSocket: first-message auth; messages sent right behind the auth message are not lost', async () => {
  const { key } = await createKey(srv, ['publish'], 'first-message');
  const s = await TestSocket.open(`${srv.wsUrl}/ws/publish?auth=message`);
  // Send the auth message and two events at once: the events must wait for the verdict.
  s.send({ type: 'auth', token: key });
  s.send(event({ session_id: 'fm', user_id: 'u-fm' }));
  s.send(event({ session_id: 'fm', user_id: 'u-fm' }));
  const [authed, a, b] = (await s.count(3)) as { type?: string; status?: string; seq?: number }[];
  assert.equal(authed?.type, 'authenticated');
  assert.deepEqual([a?.status, b?.status], ['ok', 'ok']);
  assert.ok((a?.seq ?? 0) < (b?.seq ?? 0));
  s.close();
  await s.closed;
});

test('WebSocket: first-message auth closes 4502 on a bad credential and 4501 when none arrives', async () => {
  const bad = await TestSocket.open(`${srv.wsUrl}/ws/subscribe?auth=message`);
  bad.send({ type: 'auth', token: 'rep_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  assert.equal(await bad.closed, CloseCode.AUTH_FAILED);
  assert.equal((bad.messages[0] as { code?: string }).code, 'AUTH_REQUIRED');

  const notAuth = await TestSocket.open(`${srv.wsUrl}/ws/subscribe?auth=message`);
  notAuth.send({ event_types: ['quiz_started'] });
  assert.equal(await notAuth.closed, CloseCode.AUTH_FAILED);

  const silent = await TestSocket.open(`${srv.wsUrl}/ws/subscribe?auth=message`);
  assert.equal(await silent.closed, CloseCode.AUTH_TIMEOUT);

  // Without the opt-in, a missing credential is refused before the upgrade.
  assert.equal(await upgradeStatus(`${srv.wsUrl}/ws/subscribe`), 401);
});

test('WebSocket: a token that expires closes its socket with 4002', async () => {
  const shortLived = await token({ scope: 'subscribe' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
  const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: { Authorization: `Bearer ${shortLived}` } });
  s.send({});
  assert.equal(((await s.next()) as { status?: string }).status, 'subscribed');
  assert.equal(await s.closed, CloseCode.TOKEN_EXPIRED);
});

test('WebSocket: the bearer subprotocol authenticates and the plain protocol offered is selected', async () => {
  const { key } = await createKey(srv, ['subscribe'], 'browser');
  const ws = new WebSocket(`${srv.wsUrl}/ws/subscribe`, ['events.v1', `bearer.${key}`]);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  assert.equal(ws.protocol, 'events.v1');
  ws.close();
});

test('WebSocket: connections per credential are limited; Origin must be on the allowlist', async () => {
  const { key } = await createKey(srv, ['subscribe'], 'limited');
  const headers = { 'X-API-Key': key };
  const first = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers });
  const second = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers });
  assert.equal(await upgradeStatus(`${srv.wsUrl}/ws/subscribe`, { headers }), 429);
  // Another credential is not affected by this one's limit.
  assert.equal(await upgradeStatus(`${srv.wsUrl}/ws/subscribe`, { headers: { 'X-API-Key': SHARED } }), 101);
  first.close();
  await first.closed;
  await waitFor(async () => (await upgradeStatus(`${srv.wsUrl}/ws/subscribe`, { headers })) === 101);
  second.close();

  assert.equal(await upgradeStatus(`${srv.wsUrl}/ws/subscribe`, { headers: { 'X-API-Key': SHARED, Origin: 'https://evil.test' } }), 403);
  assert.equal(await upgradeStatus(`${srv.wsUrl}/ws/subscribe`, { headers: { 'X-API-Key': SHARED, Origin: 'https://dashboard.school.test' } }), 101);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
