/**
 * Property test of isolation: random credentials (each tenant's scoped key; teachers' tokens
 * narrowed to sessions; students' tokens bound to a user) of several tenants that share the
 * same session and user names try history, guessed and foreign event ids, replay over
 * WebSocket and SSE from foreign positions, and stats, while events keep being published.
 * The truth is built from publish acknowledgements alone. Every read must return exactly
 * what the credential may see, which proves both that nothing crosses a tenant or a token's
 * narrowing and that nothing it may see is missing; live subscribers opened at the start are
 * checked the same way at the end.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import type { EventType } from '../../protocol/event-types.js';
import { mintKey, startServer, type TestServer } from '../support/server.js';
import { SseClient } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';

const RUNS = 2000;
const SEED = 4_242;
const TENANTS = ['default', 'school-a', 'school-b'] as const;
const SESSIONS = ['s1', 's2', 's3'] as const;
const USERS = ['u1', 'u2', 'u3'] as const;
const TYPES = ['quiz_started', 'answer_submitted'] as const satisfies readonly EventType[];
const SECRET = 'a-test-secret-of-at-least-32-characters!';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'rep-test';

type Tenant = (typeof TENANTS)[number];

interface Known {
  id: string;
  seq: number;
  tenant: Tenant;
  type: string;
  session: string | null;
  user: string | null;
}

/** Who asks: a tenant's unrestricted key, or a token narrowed to sessions and/or users. */
interface Cred {
  tenant: Tenant;
  sessions: readonly string[] | null;
  users: readonly string[] | null;
  /** `X-API-Key` or `Authorization: Bearer` value. */
  secret: string;
  label: string;
}

interface Filter {
  session: string | null;
  user: string | null;
  type: string | null;
}

const world: Known[] = [];
const byId = new Map<string, Known>();
let srv: TestServer;
const keys = new Map<Tenant, string>();
const creds: Cred[] = [];
const live: { cred: Cred; filter: Filter; socket: TestSocket }[] = [];

function token(tenant: Tenant, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ tenant, scope: 'publish subscribe read', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(`${tenant}-${JSON.stringify(claims)}`)
    .setIssuedAt()
    .setExpirationTime('30m')
    .sign(new TextEncoder().encode(SECRET));
}

const sees = (c: Cred, e: Known): boolean =>
  e.tenant === c.tenant &&
  (c.sessions === null || (e.session !== null && c.sessions.includes(e.session))) &&
  (c.users === null || (e.user !== null && c.users.includes(e.user)));

const matches = (f: Filter, e: Known): boolean =>
  (f.session === null || e.session === f.session) && (f.user === null || e.user === f.user) && (f.type === null || e.type === f.type);

/** A narrowed credential must name one of its sessions and users; otherwise the read is refused. */
const allowed = (c: Cred, f: Filter): boolean =>
  (c.sessions === null || (f.session !== null && c.sessions.includes(f.session))) && (c.users === null || (f.user !== null && c.users.includes(f.user)));

const expected = (c: Cred, f: Filter, afterSeq: number): string[] =>
  world.filter((e) => e.seq > afterSeq && sees(c, e) && matches(f, e)).map((e) => e.id);

const authHeader = (c: Cred): Record<string, string> => (c.secret.startsWith('rep_') ? { 'X-API-Key': c.secret } : { Authorization: `Bearer ${c.secret}` });

async function publish(c: Cred, items: { type: string; session: string | null; user: string | null }[]): Promise<void> {
  const res = await fetch(`${srv.url}/api/v1/events/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...authHeader(c) },
    body: JSON.stringify(items.map((i) => ({ event_type: i.type, source: 'prop', session_id: i.session, user_id: i.user, payload: { by: c.label } }))),
  });
  assert.equal(res.status, 200);
  const results = (await res.json()) as { status: string; event_id: string; seq: number }[];
  results.forEach((r, k) => {
    assert.equal(r.status, 'ok', JSON.stringify(r));
    const item = items[k]!;
    const e: Known = { id: r.event_id, seq: r.seq, tenant: c.tenant, type: item.type, session: item.session, user: item.user };
    world.push(e);
    byId.set(e.id, e);
  });
}

const query = (f: Filter): string => {
  const q = new URLSearchParams();
  if (f.session !== null) q.set('session_id', f.session);
  if (f.user !== null) q.set('user_id', f.user);
  if (f.type !== null) q.set('event_type', f.type);
  return q.toString();
};

before(async () => {
  srv = await startServer({
    REQUIRE_AUTH: 'true',
    API_KEY: 'shared-admin-key',
    JWT_SECRET: SECRET,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    MAX_WS_CONNECTIONS_PER_CREDENTIAL: '10000',
    SSE_HEARTBEAT_MS: '60000',
  });
  // Keys are made the way the `keys` command makes them: straight into the server's database.
  for (const tenant of TENANTS) {
    const key = await mintKey(srv, tenant, `${tenant}-service`, ['publish', 'subscribe', 'read', 'admin']);
    keys.set(tenant, key);
    creds.push({ tenant, sessions: null, users: null, secret: key, label: `${tenant}/key` });
    creds.push({ tenant, sessions: ['s1'], users: null, secret: await token(tenant, { sessions: ['s1'] }), label: `${tenant}/teacher-s1` });
    creds.push({ tenant, sessions: ['s2', 's3'], users: null, secret: await token(tenant, { sessions: ['s2', 's3'] }), label: `${tenant}/teacher-s2s3` });
    creds.push({ tenant, sessions: null, users: ['u2'], secret: await token(tenant, { user_id: 'u2' }), label: `${tenant}/student-u2` });
  }
  // The same sessions and users in every tenant, so only the tenant tells them apart.
  for (const tenant of TENANTS) {
    const key = creds.find((c) => c.tenant === tenant && c.sessions === null && c.users === null)!;
    const items = [];
    for (let i = 0; i < 24; i++) {
      items.push({ type: TYPES[i % 2]!, session: i % 7 === 0 ? null : SESSIONS[i % 3]!, user: i % 5 === 0 ? null : USERS[(i >> 1) % 3]! });
    }
    await publish(key, items);
  }
  // Live subscribers from the start, each as wide as its credential allows.
  for (const cred of creds) {
    const filter: Filter = { session: cred.sessions?.[0] ?? null, user: cred.users?.[0] ?? null, type: null };
    const socket = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: authHeader(cred) });
    socket.send({ session_id: filter.session, user_id: filter.user });
    await socket.until((m) => m.length >= 1, 5_000, 'subscribed');
    const ack = socket.messages.shift() as { status?: string; head_seq?: number };
    assert.equal(ack.status, 'subscribed', cred.label);
    live.push({ cred, filter, socket });
  }
});
after(async () => {
  for (const l of live) l.socket.close();
  await srv.stop();
});

type Action =
  | { kind: 'publish'; cred: number; items: { type: number; session: number; user: number }[] }
  | { kind: 'history'; cred: number; filter: Filter; after: number; order: 'asc' | 'desc' }
  | { kind: 'byId'; cred: number; pick: number; guess: string | null }
  | { kind: 'replayWs' | 'replaySse'; cred: number; filter: Filter; from: number }
  | { kind: 'stats'; cred: number };

const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null, freq: 3 });
const filterArb: fc.Arbitrary<Filter> = fc.record({
  session: nullable(fc.constantFrom<string>(...SESSIONS)),
  user: nullable(fc.constantFrom<string>(...USERS)),
  type: fc.option(fc.constantFrom<string>(...TYPES), { nil: null, freq: 1 }),
});
const credArb = fc.nat();
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      cred: credArb,
      items: fc.array(fc.record({ type: fc.nat(), session: fc.nat(), user: fc.nat() }), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('history' as const), cred: credArb, filter: filterArb, after: fc.nat(), order: fc.constantFrom('asc' as const, 'desc' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byId' as const), cred: credArb, pick: fc.nat(), guess: fc.option(fc.stringMatching(/^evt_[0-9a-f]{12}$/), { nil: null, freq: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replayWs' as const), cred: credArb, filter: filterArb, from: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replaySse' as const), cred: credArb, filter: filterArb, from: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stats' as const), cred: credArb }) },
);

/** A position to replay from: the seq of any tenant's event (often a foreign one), or 0. */
const positionOf = (n: number): number => (n % 5 === 0 ? 0 : (world[n % world.length]?.seq ?? 0));

async function run(a: Action): Promise<void> {
  const cred = creds[a.cred % creds.length]!;
  switch (a.kind) {
    case 'publish': {
      // A student's token publishes as its own user; everyone else as any user.
      const items = a.items.map((i) => ({
        type: TYPES[i.type % TYPES.length]!,
        session: cred.sessions !== null ? cred.sessions[i.session % cred.sessions.length]! : (SESSIONS[i.session % 3] ?? null),
        user: cred.users !== null ? cred.users[0]! : (USERS[i.user % 3] ?? null),
      }));
      await publish(cred, items);
      return;
    }
    case 'history': {
      const after = positionOf(a.after);
      const res = await fetch(`${srv.url}/api/v1/events?${query(a.filter)}&after_seq=${after}&order=${a.order}&limit=1000`, { headers: authHeader(cred) });
      if (!allowed(cred, a.filter)) {
        assert.equal(res.status, 403, `${cred.label} ${JSON.stringify(a.filter)}`);
        return;
      }
      assert.equal(res.status, 200);
      const got = ((await res.json()) as { id: string }[]).map((e) => e.id);
      const want = expected(cred, a.filter, after);
      assert.deepEqual(got, a.order === 'asc' ? want : want.reverse(), `${cred.label} history ${JSON.stringify(a.filter)} after ${after}`);
      return;
    }
    case 'byId': {
      const target = a.guess ?? world[a.pick % world.length]!.id;
      const res = await fetch(`${srv.url}/api/v1/events/${target}`, { headers: authHeader(cred) });
      const body = (await res.json()) as { id?: string; detail?: string };
      const known = byId.get(target);
      if (known !== undefined && sees(cred, known)) {
        assert.equal(res.status, 200);
        assert.equal(body.id, target);
      } else {
        // A foreign event answers exactly like a missing one.
        assert.equal(res.status, 404, `${cred.label} reading ${target} of ${known?.tenant ?? 'nobody'}`);
        assert.deepEqual(body, { detail: 'Event not found' });
      }
      return;
    }
    case 'replayWs': {
      const from = positionOf(a.from);
      const s = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`, { headers: authHeader(cred) });
      try {
        s.send({ session_id: a.filter.session, user_id: a.filter.user, event_types: a.filter.type === null ? [] : [a.filter.type], from });
        const first = (await s.next()) as { status?: string; code?: string };
        if (!allowed(cred, a.filter)) {
          assert.deepEqual([first.status, first.code], ['error', 'AUTH_FORBIDDEN'], cred.label);
          return;
        }
        assert.equal(first.status, 'subscribed');
        await s.until((m) => m.some((x) => (x as { type?: string }).type === 'caught_up'), 10_000, 'caught_up');
        const events = s.messages.slice(1).filter((x) => (x as { type?: string }).type === undefined) as { id: string }[];
        const done = s.messages.findIndex((x) => (x as { type?: string }).type === 'caught_up');
        const replayed = (s.messages.slice(1, done) as { id?: string; type?: string }[]).map((x) => x.id ?? x.type);
        // Live events of the tenant may follow caught_up; everything before it is the replay.
        assert.deepEqual(replayed, expected(cred, a.filter, from), `${cred.label} replay ${JSON.stringify(a.filter)} from ${from}`);
        for (const e of events) assert.ok(sees(cred, byId.get(e.id)!), `${cred.label} got ${e.id}`);
      } finally {
        s.close();
        await s.closed;
      }
      return;
    }
    case 'replaySse': {
      const from = positionOf(a.from);
      const q = query(a.filter);
      const c = await SseClient.open(`${srv.url}/api/v1/events/stream?${q}`, { ...authHeader(cred), 'Last-Event-ID': String(from) });
      try {
        if (!allowed(cred, a.filter)) {
          assert.equal(c.status, 403, cred.label);
          return;
        }
        assert.equal(c.status, 200);
        await c.until((x) => x.named('caught_up').length === 1, 10_000, 'caught_up');
        const done = c.messages.findIndex((m) => m.event === 'caught_up');
        const replayed = c.messages.slice(0, done).filter((m) => m.event === 'message').map((m) => (JSON.parse(m.data) as { id: string }).id);
        assert.deepEqual(replayed, expected(cred, a.filter, from), `${cred.label} SSE ${q} from ${from}`);
      } finally {
        c.close();
      }
      return;
    }
    case 'stats': {
      const res = await fetch(`${srv.url}/api/v1/stats`, { headers: authHeader(cred) });
      if (cred.sessions !== null || cred.users !== null) {
        assert.equal(res.status, 403);
        return;
      }
      const body = (await res.json()) as { total_events: number; router: { active_subscribers: number }; throughput?: unknown; head_seq?: unknown };
      assert.equal(body.total_events, world.filter((e) => e.tenant === cred.tenant).length, `${cred.label} stats`);
      if (cred.tenant !== 'default') {
        // Its own subscribers (the live ones opened at the start; a replay stream closed just
        // before may take a moment to be noticed), and nothing instance-wide.
        const mine = live.filter((l) => l.cred.tenant === cred.tenant).length;
        let active = body.router.active_subscribers;
        for (let i = 0; i < 40 && active !== mine; i++) {
          await new Promise((r) => setTimeout(r, 25));
          active = ((await (await fetch(`${srv.url}/api/v1/stats`, { headers: authHeader(cred) })).json()) as typeof body).router.active_subscribers;
        }
        assert.equal(active, mine);
        assert.deepEqual([body.throughput, body.head_seq], [undefined, undefined], 'no instance-wide figures for another tenant');
      }
      return;
    }
  }
}

test(`isolation: ${RUNS} random reads, replays and publishes across tenants and narrowed tokens see exactly their own events`, async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(actionArb, async (a) => {
      runs++;
      await run(a);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  assert.equal(runs, RUNS);
  // Every live subscriber got exactly the events of its tenant and narrowing published after it opened.
  for (const l of live) {
    const want = world.filter((e) => sees(l.cred, e) && matches(l.filter, e) && e.seq > 0).map((e) => e.id);
    // Events published before the subscriber opened are not owed to it: drop the seed data.
    const seedHead = Math.max(0, ...world.slice(0, 24 * TENANTS.length).map((e) => e.seq));
    const owed = want.filter((id) => byId.get(id)!.seq > seedHead);
    await l.socket.until((m) => m.length >= owed.length, 10_000, `${l.cred.label} live events`);
    assert.deepEqual((l.socket.messages as { id: string }[]).map((e) => e.id), owed, `${l.cred.label} live`);
  }
});

test("isolation: a tenant's admin deletes, erases, audits and manages keys in its own tenant only", async () => {
  const adminOf = (t: Tenant): Record<string, string> => ({ 'X-API-Key': keys.get(t)! });
  const count = async (t: Tenant): Promise<number> =>
    ((await (await fetch(`${srv.url}/api/v1/stats`, { headers: adminOf(t) })).json()) as { total_events: number }).total_events;
  const own = (t: Tenant): number => world.filter((e) => e.tenant === t).length;
  for (const t of TENANTS) assert.equal(await count(t), own(t));

  // school-a erases u1: default's and school-b's u1 keep every event.
  const erased = await fetch(`${srv.url}/api/v1/users/u1/events`, { method: 'DELETE', headers: adminOf('school-a') });
  assert.deepEqual(await erased.json(), { user_id: 'u1', deleted: world.filter((e) => e.tenant === 'school-a' && e.user === 'u1').length });
  for (const t of ['default', 'school-b'] as const) {
    const res = await fetch(`${srv.url}/api/v1/events?user_id=u1&limit=1000`, { headers: adminOf(t) });
    assert.equal(((await res.json()) as unknown[]).length, world.filter((e) => e.tenant === t && e.user === 'u1').length, t);
  }

  // school-b deletes all of its history: the others keep theirs.
  const deleted = await fetch(`${srv.url}/api/v1/events`, { method: 'DELETE', headers: adminOf('school-b') });
  assert.deepEqual(await deleted.json(), { deleted: own('school-b') });
  assert.equal(await count('school-b'), 0);
  assert.equal(await count('default'), own('default'));

  // Each tenant's audit log holds its own records only.
  const audit = async (t: Tenant): Promise<string[]> =>
    ((await (await fetch(`${srv.url}/api/v1/admin/audit`, { headers: adminOf(t) })).json()) as { action: string }[]).map((r) => r.action);
  assert.deepEqual(await audit('school-a'), ['erase_user']);
  assert.deepEqual(await audit('school-b'), ['delete_events']);
  assert.deepEqual(await audit('default'), []);

  // Keys: listed per tenant; another tenant's key id cannot be revoked (404, as if missing).
  const list = async (t: Tenant): Promise<{ id: string; name: string }[]> =>
    (await (await fetch(`${srv.url}/api/v1/admin/keys`, { headers: adminOf(t) })).json()) as { id: string; name: string }[];
  const aKeys = await list('school-a');
  assert.deepEqual(aKeys.map((k) => k.name), ['school-a-service']);
  const revoke = await fetch(`${srv.url}/api/v1/admin/keys/${aKeys[0]!.id}`, { method: 'DELETE', headers: adminOf('school-b') });
  assert.equal(revoke.status, 404);
  assert.equal((await fetch(`${srv.url}/api/v1/stats`, { headers: adminOf('school-a') })).status, 200, "school-a's key still works");
});
