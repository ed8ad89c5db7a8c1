/**
 * The scope × route matrix: every REST route (checked against the OpenAPI document, so a new
 * route cannot slip out of the matrix) and every WebSocket action, for every kind of
 * credential. A credential with the route's scope succeeds; one without it gets 403; a missing
 * or invalid one gets 401; public routes answer everyone. WebSocket refusals happen before the
 * upgrade (no 101), and first-message authentication closes with 4502 instead.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import type { Scope } from '../../src/auth/principal.js';
import { event, mintKey, startServer, type TestServer } from '../support/server.js';
import { SseClient } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';

const SHARED = 'shared-admin-key';
const SECRET = 'a-test-secret-of-at-least-32-characters!';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'rep-test';

interface Credential {
  name: string;
  headers: Record<string, string>;
  /** The scopes it holds; null: none at all (missing or invalid: 401). */
  scopes: ReadonlySet<Scope> | null;
}

interface RestCase {
  method: string;
  /** The OpenAPI path it exercises. */
  path: string;
  scope: Scope | null;
  /** Builds the request (fresh targets where the action consumes one). */
  request: () => Promise<{ url: string; body?: string; contentType?: string }>;
  ok: number;
}

let srv: TestServer;
let storedId = '';
const credentials: Credential[] = [];

function jwt(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('matrix')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

async function newKeyId(): Promise<string> {
  const res = await fetch(`${srv.url}/api/v1/admin/keys`, {
    method: 'POST',
    headers: { 'X-API-Key': SHARED, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'to-revoke', scopes: ['read'] }),
  });
  return ((await res.json()) as { id: string }).id;
}

const CASES: RestCase[] = [
  { method: 'POST', path: '/api/v1/events', scope: 'publish', ok: 201, request: () => Promise.resolve({ url: '/api/v1/events', body: JSON.stringify(event()), contentType: 'application/json' }) },
  { method: 'POST', path: '/api/v1/events/batch', scope: 'publish', ok: 200, request: () => Promise.resolve({ url: '/api/v1/events/batch', body: JSON.stringify([event(), event()]), contentType: 'application/json' }) },
  { method: 'GET', path: '/api/v1/events', scope: 'read', ok: 200, request: () => Promise.resolve({ url: '/api/v1/events?limit=5' }) },
  { method: 'GET', path: '/api/v1/events/{id}', scope: 'read', ok: 200, request: () => Promise.resolve({ url: `/api/v1/events/${storedId}` }) },
  { method: 'DELETE', path: '/api/v1/events', scope: 'admin', ok: 200, request: () => Promise.resolve({ url: '/api/v1/events?before=2000-01-01T00:00:00Z' }) },
  { method: 'GET', path: '/api/v1/events/stream', scope: 'subscribe', ok: 200, request: () => Promise.resolve({ url: '/api/v1/events/stream' }) },
  { method: 'GET', path: '/api/v1/stats', scope: 'read', ok: 200, request: () => Promise.resolve({ url: '/api/v1/stats' }) },
  { method: 'GET', path: '/api/v1/event-types', scope: null, ok: 200, request: () => Promise.resolve({ url: '/api/v1/event-types' }) },
  { method: 'GET', path: '/api/v1/health', scope: null, ok: 200, request: () => Promise.resolve({ url: '/health' }) },
  { method: 'GET', path: '/api/v1/readiness', scope: null, ok: 200, request: () => Promise.resolve({ url: '/readiness' }) },
  { method: 'POST', path: '/api/v1/admin/keys', scope: 'admin', ok: 201, request: () => Promise.resolve({ url: '/api/v1/admin/keys', body: JSON.stringify({ name: 'm', scopes: ['read'] }), contentType: 'application/json' }) },
  { method: 'GET', path: '/api/v1/admin/keys', scope: 'admin', ok: 200, request: () => Promise.resolve({ url: '/api/v1/admin/keys' }) },
  { method: 'DELETE', path: '/api/v1/admin/keys/{key_id}', scope: 'admin', ok: 200, request: async () => ({ url: `/api/v1/admin/keys/${await newKeyId()}` }) },
  { method: 'DELETE', path: '/api/v1/users/{user_id}/events', scope: 'admin', ok: 200, request: () => Promise.resolve({ url: '/api/v1/users/nobody/events' }) },
  { method: 'GET', path: '/api/v1/admin/audit', scope: 'admin', ok: 200, request: () => Promise.resolve({ url: '/api/v1/admin/audit' }) },
];

before(async () => {
  srv = await startServer({ REQUIRE_AUTH: 'true', API_KEY: SHARED, JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, SSE_HEARTBEAT_MS: '60000' });
  const res = await fetch(`${srv.url}/api/v1/events`, { method: 'POST', headers: { 'X-API-Key': SHARED, 'Content-Type': 'application/json' }, body: JSON.stringify(event()) });
  storedId = ((await res.json()) as { id: string }).id;
  const all: Scope[] = ['publish', 'subscribe', 'read', 'admin'];
  for (const scope of all) {
    const key = await mintKey(srv, 'default', `only-${scope}`, [scope]);
    credentials.push({ name: `key with ${scope}`, headers: { 'X-API-Key': key }, scopes: new Set([scope]) });
  }
  credentials.push(
    { name: 'shared API_KEY', headers: { 'X-API-Key': SHARED }, scopes: new Set(all) },
    { name: 'JWT (publish subscribe read; admin is never granted)', headers: { Authorization: `Bearer ${await jwt({ scope: 'publish subscribe read admin' })}` }, scopes: new Set<Scope>(['publish', 'subscribe', 'read']) },
    { name: 'missing', headers: {}, scopes: null },
    { name: 'wrong shared key', headers: { 'X-API-Key': 'not-the-key' }, scopes: null },
    { name: 'unknown scoped key', headers: { 'X-API-Key': `rep_000000000000_${'A'.repeat(43)}` }, scopes: null },
    { name: 'JWT signed with another secret', headers: { Authorization: `Bearer ${await jwt({ scope: 'read' }, 'another-secret-of-at-least-32-characters')}` }, scopes: null },
  );
});
after(() => srv.stop());

const expectedStatus = (c: Credential, scope: Scope | null, ok: number): number => (scope === null ? ok : c.scopes === null ? 401 : c.scopes.has(scope) ? ok : 403);

test('matrix: the cases cover every route of the OpenAPI document', async () => {
  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  const covered = new Set(CASES.map((c) => `${c.method} ${c.path}`));
  assert.deepEqual(documented.filter((r) => !covered.has(r)), [], 'routes missing from the matrix');
});

test('matrix: every REST route × every credential kind: success, 403 without the scope, 401 when missing or invalid', async () => {
  let checked = 0;
  for (const c of CASES) {
    for (const cred of credentials) {
      const want = expectedStatus(cred, c.scope, c.ok);
      const r = await c.request();
      const headers = { ...cred.headers, ...(r.contentType === undefined ? {} : { 'Content-Type': r.contentType }) };
      let status: number;
      let body: string;
      if (c.path.endsWith('/stream')) {
        const sse = await SseClient.open(`${srv.url}${r.url}`, headers);
        status = sse.status;
        if (status === 200) await sse.until((x) => x.named('subscribed').length === 1, 5_000, 'subscribed');
        body = status === 200 ? '{}' : sse.body;
        sse.close();
      } else {
        const res = await fetch(`${srv.url}${r.url}`, { method: c.method, headers, ...(r.body === undefined ? {} : { body: r.body }) });
        status = res.status;
        body = await res.text();
      }
      assert.equal(status, want, `${c.method} ${r.url} with ${cred.name}: ${body.slice(0, 200)}`);
      if (status >= 400) assert.equal(typeof (JSON.parse(body) as { detail?: unknown }).detail, 'string', 'a JSON error body');
      checked++;
    }
  }
  assert.equal(checked, CASES.length * credentials.length);
});

/** The HTTP status of the upgrade (101 when accepted), and the socket when accepted. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', reject);
  });
}

const nextMessage = (ws: WebSocket): Promise<Record<string, unknown>> =>
  new Promise((resolve) => ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString('utf8')) as Record<string, unknown>)));

test('matrix: every WebSocket action × every credential kind, by header: refused before the upgrade or done', async () => {
  const actions: { path: string; scope: Scope; act: (ws: WebSocket) => Promise<void> }[] = [
    {
      path: '/ws/publish',
      scope: 'publish',
      act: async (ws) => {
        const reply = nextMessage(ws);
        ws.send(JSON.stringify(event()));
        assert.equal((await reply)['status'], 'ok');
        const batch = nextMessage(ws);
        ws.send(JSON.stringify([event(), event()]));
        assert.ok(Array.isArray(await batch));
      },
    },
    {
      path: '/ws/subscribe',
      scope: 'subscribe',
      act: async (ws) => {
        const ack = nextMessage(ws);
        ws.send(JSON.stringify({ session_id: 's-1' }));
        assert.equal((await ack)['status'], 'subscribed');
        const updated = nextMessage(ws);
        ws.send(JSON.stringify({ type: 'update_filters', filters: { session_id: 's-2' } }));
        assert.equal((await updated)['status'], 'filters_updated');
      },
    },
  ];
  for (const a of actions) {
    for (const cred of credentials) {
      const want = expectedStatus(cred, a.scope, 101);
      const { status, ws } = await upgrade(`${srv.wsUrl}${a.path}`, cred.headers);
      assert.equal(status, want, `${a.path} with ${cred.name}`);
      if (ws !== undefined) {
        await a.act(ws);
        ws.close();
      }
    }
  }
});

test('matrix: first-message authentication: the right scope works, a wrong or invalid credential closes 4502', async () => {
  for (const [path, scope] of [['/ws/publish', 'publish'], ['/ws/subscribe', 'subscribe']] as const) {
    for (const cred of credentials) {
      if (cred.scopes === null && Object.keys(cred.headers).length === 0) continue; // nothing to send
      const token = Object.values(cred.headers)[0]!.replace(/^Bearer /, '');
      const s = await TestSocket.open(`${srv.wsUrl}${path}?auth=message`);
      s.send({ type: 'auth', token });
      if (cred.scopes?.has(scope) === true) {
        const ok = (await s.next()) as { type?: string };
        assert.equal(ok.type, 'authenticated', `${path} with ${cred.name}`);
        s.close();
      } else {
        assert.equal(await s.closed, CloseCode.AUTH_FAILED, `${path} with ${cred.name}`);
      }
    }
  }
});
