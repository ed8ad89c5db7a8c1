/**
 * Reconnect soak: 50 subscribers (every event, one session of ten, or one session and some
 * types) drop their connection at random (a clean close or an abrupt one) and resume from the
 * last seq they received, or stop reading for a while, while 50,000 events flow in from
 * pipelined WebSocket publishers. A subscriber the server cuts off (a slow consumer) resumes
 * the same way. At the end each subscriber's deliveries, concatenated over all its connections,
 * must be exactly the acknowledged events matching its filter, in seq order: no gap, no
 * duplicate, no reset.
 *
 * Publishing is paced (RATE) so that the in-process subscribers can keep up between drops:
 * resumes then switch from catch-up to live while events still flow, hundreds of times, instead
 * of all finishing after the last publish.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import type { EventType } from '../../protocol/event-types.js';
import { startServer, type TestServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

const EVENTS = 50_000;
const PUBLISHERS = 4;
/** Events a publisher sends before it waits for their acks. */
const CHUNK = 250;
const SUBSCRIBERS = 50;
const SESSIONS = 10;
/** One random subscriber is dropped per this many events acknowledged. */
const DROP_EVERY = 50;
/** One random subscriber stops reading for up to MAX_STALL_MS per this many events acknowledged. */
const STALL_EVERY = 25;
const MAX_STALL_MS = 100;
/** A dropped subscriber comes back after up to this long (ms). */
const MAX_AWAY_MS = 40;
/** Subscribers to every event (the first ones); the others follow one session. */
const ALL_EVENTS = 10;
/** Events per second, at most, over all publishers. */
const RATE = 4000;
const DEADLINE_MS = 50_000;
const TYPES = ['quiz_started', 'answer_submitted', 'mastery_updated', 'question_viewed', 'session_ended'] as const satisfies readonly EventType[];

/** A seeded PRNG (mulberry32): the same choices every run; only timing varies. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = prng(0x50a6);
const pick = (n: number): number => Math.floor(random() * n);

interface Sent {
  seq: number;
  id: string;
  session: string;
  type: EventType;
}
interface Filter {
  session_id?: string;
  event_types?: EventType[];
}
interface Incoming {
  id?: string;
  seq?: number;
  type?: string;
  status?: string;
}

/** `publishing`: true while the publishers run. */
const phase = { publishing: false };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(10);
  }
}

/** One logical subscriber over as many connections as it takes. */
class Subscriber {
  readonly seqs: number[] = [];
  readonly ids: string[] = [];
  /** The last seq received: where the next connection resumes. */
  last = 0;
  connects = 0;
  /** Closes the subscriber did not ask for (slow consumer), by code. */
  readonly cutOff: number[] = [];
  readonly unexpected: unknown[] = [];
  caughtUp = false;
  /** caught_up messages received while events were still being published. */
  liveWhilePublishing = 0;
  barrier = false;
  #ws: WebSocket | undefined;
  #stopped = false;

  constructor(
    readonly url: string,
    readonly filter: Filter,
  ) {}

  get connected(): boolean {
    return this.#ws !== undefined;
  }

  connect(): void {
    if (this.#ws !== undefined || this.#stopped) return;
    this.connects++;
    this.caughtUp = false;
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ ...this.filter, from: this.last })));
    ws.on('message', (data: Buffer) => {
      // After a drop, whatever still trickles in from the old socket counts as lost in transit.
      if (this.#ws !== ws) return;
      const m = JSON.parse(data.toString('utf8')) as Incoming;
      if (typeof m.id === 'string' && typeof m.seq === 'number') {
        this.seqs.push(m.seq);
        this.ids.push(m.id);
        this.last = m.seq;
      } else if (m.type === 'caught_up') {
        this.caughtUp = true;
        if (phase.publishing) this.liveWhilePublishing++;
      }
      else if (m.status === 'filters_updated') this.barrier = true;
      else if (m.status !== 'subscribed' && m.type !== 'keepalive') this.unexpected.push(m);
    });
    ws.on('close', (code: number) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      this.cutOff.push(code);
      setTimeout(() => this.connect(), 5);
    });
    ws.on('error', () => undefined);
  }

  /** Stops reading for `ms`: the server's socket backs up, so a catch-up waits for it to drain. */
  stall(ms: number): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    ws.pause();
    setTimeout(() => ws.resume(), ms);
  }

  drop(abrupt: boolean): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    this.#ws = undefined;
    if (abrupt) ws.terminate();
    else ws.close();
  }

  /** Sends filters_updated with the same filters (no `from`): everything queued before arrives first. */
  sendBarrier(): void {
    this.barrier = false;
    this.#ws?.send(JSON.stringify({ type: 'update_filters', filters: this.filter }));
  }

  stop(): void {
    this.#stopped = true;
    this.drop(true);
  }
}

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

test('reconnect soak - 50 subscribers dropping and resuming from their last seq while 50,000 events flow: 0 gaps, 0 duplicates', { timeout: 90_000 }, async (t) => {
  const started = performance.now();
  const subs: Subscriber[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const f: Filter = {};
    if (i >= ALL_EVENTS) f.session_id = `soak-s${i % SESSIONS}`;
    if (i % 5 === 4) f.event_types = [TYPES[i % TYPES.length] as EventType, TYPES[(i + 2) % TYPES.length] as EventType];
    subs.push(new Subscriber(`${srv.wsUrl}/ws/subscribe`, f));
  }
  for (const s of subs) s.connect();
  await waitFor(() => subs.every((s) => s.caughtUp), 10_000, () => 'every subscriber to catch up');

  // As events are acknowledged, drop one random connected subscriber per DROP_EVERY events; it
  // comes back (from its last seq) up to MAX_AWAY_MS later.
  let drops = 0;
  let stalls = 0;
  phase.publishing = true;
  const pubs: TestSocket[] = [];
  const chaos = (async () => {
    while (phase.publishing) {
      await sleep(1);
      const acked = pubs.reduce((n, p) => n + p.messages.length, 0);
      while (stalls < Math.floor(acked / STALL_EVERY)) {
        subs[pick(SUBSCRIBERS)]?.stall(pick(MAX_STALL_MS));
        stalls++;
      }
      while (drops < Math.floor(acked / DROP_EVERY)) {
        const connected = subs.filter((s) => s.connected);
        const s = connected[pick(connected.length)];
        if (s === undefined) break;
        s.drop(random() < 0.5);
        drops++;
        setTimeout(() => s.connect(), pick(MAX_AWAY_MS));
      }
    }
  })();

  // Pipelined publishers: a chunk out, its acks back, the next chunk.
  const sent: Sent[] = [];
  const publish = async (p: number): Promise<void> => {
    const pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
    pubs.push(pub);
    const mine: { session: string; type: EventType }[] = [];
    const n = EVENTS / PUBLISHERS;
    for (let i = 0; i < n; i += CHUNK) {
      for (let j = i; j < Math.min(n, i + CHUNK); j++) {
        const e = { session: `soak-s${pick(SESSIONS)}`, type: TYPES[pick(TYPES.length)] as EventType };
        mine.push(e);
        pub.send({ event_type: e.type, source: 'soak', session_id: e.session, user_id: `u${pick(100)}`, payload: { p, j } });
      }
      await pub.count(mine.length, DEADLINE_MS);
      const ahead = started + (mine.length * PUBLISHERS * 1000) / RATE - performance.now();
      if (ahead > 0) await sleep(ahead);
      if (performance.now() - started > DEADLINE_MS) throw new Error(`publishing took longer than ${DEADLINE_MS} ms`);
    }
    (pub.messages as { status: string; event_id: string; seq: number }[]).forEach((a, i) => {
      assert.equal(a.status, 'ok', JSON.stringify(a));
      const e = mine[i] as { session: string; type: EventType };
      sent.push({ seq: a.seq, id: a.event_id, session: e.session, type: e.type });
    });
    pub.close();
  };
  try {
    await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publish(p)));
  } finally {
    phase.publishing = false;
    await chaos;
  }
  const published = performance.now();
  sent.sort((a, b) => a.seq - b.seq);
  assert.equal(sent.length, EVENTS);
  assert.equal(new Set(sent.map((e) => e.seq)).size, EVENTS, 'every ack has its own seq');

  const owed = (f: Filter): Sent[] =>
    sent.filter((e) => (f.session_id === undefined || e.session === f.session_id) && (f.event_types === undefined || f.event_types.includes(e.type)));
  const expected = subs.map((s) => owed(s.filter));

  // Every subscriber reconnected, caught up and holding its last owed event; then a barrier so
  // that anything extra already queued for it shows up too.
  for (const s of subs) s.connect();
  await waitFor(
    () => subs.every((s, i) => s.connected && s.caughtUp && s.last >= (expected[i]?.at(-1)?.seq ?? 0)),
    DEADLINE_MS,
    () => `every subscriber to receive what it is owed: ${subs.map((s, i) => `${i}:${s.seqs.length}/${expected[i]?.length ?? 0}${s.connected ? '' : ' (away)'}`).join(' ')}`,
  );
  for (const s of subs) s.sendBarrier();
  await waitFor(() => subs.every((s) => s.barrier), 10_000, () => 'the barriers');
  const done = performance.now();

  let gaps = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let extra = 0;
  let wrongIds = 0;
  const idOf = new Map(sent.map((e) => [e.seq, e.id]));
  subs.forEach((s, i) => {
    const want = expected[i] as Sent[];
    const got = new Set(s.seqs);
    const wantSet = new Set(want.map((e) => e.seq));
    const g = want.filter((e) => !got.has(e.seq)).length;
    const d = s.seqs.length - got.size;
    const x = [...got].filter((q) => !wantSet.has(q)).length;
    const o = s.seqs.filter((q, k) => k > 0 && q <= (s.seqs[k - 1] as number)).length;
    const w = s.seqs.filter((q, k) => idOf.get(q) !== s.ids[k]).length;
    gaps += g;
    duplicates += d;
    extra += x;
    outOfOrder += o;
    wrongIds += w;
    if (g + d + x + o + w > 0) {
      const first = s.seqs.findIndex((q, k) => q !== want[k]?.seq);
      t.diagnostic(
        `subscriber ${i} ${JSON.stringify(s.filter)}: ${g} gaps, ${d} duplicates, ${x} extra, ${o} out of order, ${w} wrong ids; ` +
          `first divergence at #${first}: got ${JSON.stringify(s.seqs.slice(Math.max(0, first - 3), first + 3))}, want ${JSON.stringify(want.slice(Math.max(0, first - 3), first + 3).map((e) => e.seq))}; ` +
          `${s.connects} connections`,
      );
    }
  });

  const stats = (await (await fetch(`${srv.url}/api/v1/stats`)).json()) as Record<string, unknown>;
  for (const s of subs) s.stop();
  const deliveries = subs.reduce((n, s) => n + s.seqs.length, 0);
  const reconnects = subs.reduce((n, s) => n + s.connects - 1, 0);
  const cutOff = subs.reduce((n, s) => n + s.cutOff.length, 0);
  const summary = {
    events: sent.length,
    subscribers: SUBSCRIBERS,
    deliveries,
    reconnects,
    chaos_drops: drops,
    stalls,
    caught_up_while_publishing: subs.reduce((n, s) => n + s.liveWhilePublishing, 0),
    server_cut_offs: cutOff,
    gaps,
    duplicates,
    extra,
    out_of_order: outOfOrder,
    wrong_ids: wrongIds,
    publish_s: Number(((published - started) / 1000).toFixed(1)),
    total_s: Number(((done - started) / 1000).toFixed(1)),
    server: { replayed: stats['replayed'], delivered: stats['delivered'], dropped: stats['dropped'], slow_consumer_disconnects: stats['slow_consumer_disconnects'] },
  };
  t.diagnostic(JSON.stringify(summary));
  console.log(`reconnect soak: ${JSON.stringify(summary)}`);

  assert.deepEqual(subs.flatMap((s) => s.unexpected), [], 'no reset, error or other message');
  assert.deepEqual({ gaps, duplicates, extra, outOfOrder, wrongIds }, { gaps: 0, duplicates: 0, extra: 0, outOfOrder: 0, wrongIds: 0 });
  subs.forEach((s, i) => assert.deepEqual(s.seqs, (expected[i] as Sent[]).map((e) => e.seq), `subscriber ${i}: exactly what it is owed, in seq order`));
  assert.ok(drops >= EVENTS / DROP_EVERY - SUBSCRIBERS, `the soak drops subscribers often (${drops})`);
});
