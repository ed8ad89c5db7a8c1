/**
 * Model-based property test of resume. Each run is a short random script against one server:
 * publishes over REST, WebSocket, and both batch forms, with idempotency keys (new ones, retries
 * of the same event, reuses for a different event); subscribers opened from every kind of
 * position; disconnects (close or abrupt) followed by a resume from the last seq received;
 * `update_filters` with `from`; and deletes of a history prefix. After each run every logical
 * subscriber (a chain of connections, each starting where the previous one stopped) is checked
 * against a model built only from the publish acknowledgements: exactly the stored matching
 * events after each start, in seq order, with no gap and no duplicate, or an explicit reset
 * exactly where deleted history or a cursor ahead of the head calls for one.
 *
 * Runs share the server, so each run uses its own sessions, users and keys. The model also
 * tracks two server-wide facts from acknowledgements alone: the head (newest seq acknowledged)
 * and the deletion horizon (a delete before the timestamp of event X removes every event
 * stored before X). A delete waits until every open subscriber has caught up, so a delete
 * never races a catch-up read: the model then knows exactly what each subscriber is owed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { EventType } from '../../protocol/event-types.js';
import { startServer, type TestServer } from '../support/server.js';
import { TestSocket } from '../support/ws-client.js';

const TYPES = ['quiz_started', 'answer_submitted', 'mastery_updated', 'question_viewed'] as const satisfies readonly EventType[];
type StoredType = (typeof TYPES)[number];
const WAIT_MS = 5_000;
const RUNS = 1000;
const SEED = 20_250_611;

// ----- Commands: abstract; `pick` indexes are resolved against the model when the command runs.

type Via = 'rest' | 'ws' | 'wsBatch' | 'restBatch';
type KeySpec = { mode: 'none' } | { mode: 'new' } | { mode: 'same' | 'diff'; pick: number };
interface EventSpec {
  type: number;
  session: number;
  user: number;
  key: KeySpec;
}
type FromSpec = { kind: 'none' | 'latest' | 'earliest' | 'zero' | 'ahead' } | { kind: 'seq' | 'time'; pick: number };
interface TargetSpec {
  by: 'session' | 'user';
  idx: number;
  types: number[] | null;
}
type Command =
  | { c: 'publish'; via: Via; events: EventSpec[] }
  | { c: 'subscribe'; target: TargetSpec; from: FromSpec; pipelined: { target: TargetSpec; from: FromSpec } | null }
  | { c: 'resume'; pick: number; terminate: boolean }
  | { c: 'update'; pick: number; target: TargetSpec; from: FromSpec }
  | { c: 'delete'; pick: number };

const keyArb: fc.Arbitrary<KeySpec> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ mode: 'none' as const }) },
  { weight: 3, arbitrary: fc.constant({ mode: 'new' as const }) },
  { weight: 2, arbitrary: fc.record({ mode: fc.constant('same' as const), pick: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ mode: fc.constant('diff' as const), pick: fc.nat(99) }) },
);
const eventArb: fc.Arbitrary<EventSpec> = fc.record({ type: fc.nat(TYPES.length - 1), session: fc.nat(1), user: fc.nat(1), key: keyArb });
const fromArb = (withNone: boolean): fc.Arbitrary<FromSpec> =>
  fc.oneof(
    { weight: withNone ? 2 : 0, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'latest' as const }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'earliest' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'zero' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'ahead' as const }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('seq' as const), pick: fc.nat(99) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('time' as const), pick: fc.nat(99) }) },
  );
const targetArb: fc.Arbitrary<TargetSpec> = fc.record({
  by: fc.constantFrom('session' as const, 'user' as const),
  idx: fc.nat(1),
  types: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.uniqueArray(fc.nat(TYPES.length - 1), { minLength: 1, maxLength: 3 }) }),
});
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      c: fc.constant('publish' as const),
      via: fc.constantFrom('rest' as const, 'ws' as const, 'wsBatch' as const, 'restBatch' as const),
      events: fc.array(eventArb, { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      c: fc.constant('subscribe' as const),
      target: targetArb,
      from: fromArb(true),
      pipelined: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.record({ target: targetArb, from: fromArb(false) }) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('resume' as const), pick: fc.nat(99), terminate: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('update' as const), pick: fc.nat(99), target: targetArb, from: fromArb(false) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('delete' as const), pick: fc.nat(99) }) },
);
const scriptArb = fc.array(commandArb, { minLength: 4, maxLength: 12 });

// ----- The model.

/** A stored event of this run, as its acknowledgement describes it. */
interface RunEvent {
  seq: number;
  id: string;
  type: StoredType;
  session: string;
  user: string;
  /** Known for REST single publishes (the response is the stored event). */
  timestamp?: string;
  /** The server-wide head just before this event: the newest event stored before it. */
  prevHead?: number;
}
type Expect = { kind: 'stored'; ev: RunEvent } | { kind: 'duplicate'; of: RunEvent } | { kind: 'conflict' };
interface Planned {
  body: Record<string, unknown>;
  key: string | undefined;
  expect: Expect;
}
interface Ack {
  status?: string;
  event_id?: string;
  seq?: number | null;
  duplicate?: boolean;
  code?: string;
  detail?: { type?: string }[];
}
interface Msg {
  id?: string;
  seq?: number;
  type?: string;
  status?: string;
  reason?: string;
  from?: number;
  event_type?: string;
  session_id?: string | null;
  user_id?: string | null;
  head_seq?: number;
  filters?: unknown;
}
interface Filter {
  session_id?: string;
  user_id?: string;
  event_types?: StoredType[];
}
type Wire = number | 'earliest' | 'latest' | { time: string } | undefined;
interface Position {
  wire: Wire;
  /** For a time position: the event whose timestamp it is. */
  timeOf?: RunEvent;
}
interface Conn {
  sock: TestSocket;
  /** head_seq of the subscribed ack. */
  ackHead: number;
}
interface Segment {
  conn: Conn;
  /** Index of this segment's first message in `conn.sock.messages`. */
  start: number;
  /** Index of the `filters_updated` that ends it, if one does. */
  end: number | undefined;
  filter: Filter;
  position: Position;
  /** Events with a greater seq are owed (once a reset, if any, is taken into account). */
  after: number;
  reset: { reason: string; from: number } | undefined;
  headAtStart: number;
}
interface Subscriber {
  segments: Segment[];
}

/** Server-wide facts, carried across runs. */
const world = { head: 0, purged: 0, stored: [] as number[] };
const stats = { runs: 0, commands: 0, stored: 0, duplicates: 0, conflicts: 0, subscribes: 0, resumes: 0, updates: 0, deletes: 0, deleted: 0, resets: 0, delivered: 0 };

let srv: TestServer;
let runNo = 0;

function matches(f: Filter, e: RunEvent): boolean {
  return (
    (f.event_types === undefined || f.event_types.includes(e.type)) &&
    (f.session_id === undefined || f.session_id === e.session) &&
    (f.user_id === undefined || f.user_id === e.user)
  );
}

function filterWire(f: Filter): { event_types: string[]; session_id: string | null; user_id: string | null } {
  return { event_types: f.event_types ?? [], session_id: f.session_id ?? null, user_id: f.user_id ?? null };
}

const isEvent = (m: Msg): boolean => typeof m.id === 'string';
const lastOf = <T>(xs: readonly T[]): T => xs[xs.length - 1] as T;

/** What the server must do for a start position, given what the model knows now. */
function resolvePosition(pos: Position): { after: number; reset: Segment['reset'] } {
  const { head, purged } = world;
  const w = pos.wire;
  if (w === undefined || w === 'latest') return { after: head, reset: undefined };
  if (w === 'earliest') return { after: purged, reset: undefined };
  if (typeof w === 'number') {
    if (w > head) return { after: purged, reset: { reason: 'cursor_ahead', from: purged } };
    if (w < purged) return { after: purged, reset: { reason: 'history_deleted', from: purged } };
    return { after: w, reset: undefined };
  }
  const x = pos.timeOf as RunEvent;
  // Timestamps rise strictly across separate commits (a microsecond clock, one round trip apart),
  // so "received at or after X" is "seq >= X.seq"; X gone means history at that time is gone.
  if (x.seq <= purged) return { after: purged, reset: { reason: 'history_deleted', from: purged } };
  return { after: x.seq - 1, reset: undefined };
}

async function waitIndex(sock: TestSocket, from: number, pred: (m: Msg) => boolean, what: string): Promise<number> {
  let idx = -1;
  await sock.until(
    (ms) => {
      idx = (ms as Msg[]).findIndex((m, i) => i >= from && pred(m));
      return idx >= 0;
    },
    WAIT_MS,
    what,
  );
  return idx;
}

class Run {
  readonly prefix: string;
  readonly startHead = world.head;
  readonly events: RunEvent[] = [];
  readonly keys: { key: string; body: Record<string, unknown>; ev: RunEvent }[] = [];
  readonly seqs: number[] = [];
  readonly subs: Subscriber[] = [];
  readonly sockets: TestSocket[] = [];
  #pub: TestSocket | undefined;
  #n = 0;

  constructor() {
    this.prefix = `m${++runNo}-`;
  }

  session(i: number): string {
    return `${this.prefix}s${i}`;
  }

  user(i: number): string {
    return `${this.prefix}u${i}`;
  }

  async exec(cmd: Command): Promise<void> {
    stats.commands++;
    switch (cmd.c) {
      case 'publish':
        await this.publish(cmd.via, cmd.events.map((e) => this.plan(e)));
        return;
      case 'subscribe':
        await this.subscribe(cmd.target, cmd.from, cmd.pipelined);
        return;
      case 'resume':
        await this.resume(cmd.pick, cmd.terminate);
        return;
      case 'update':
        await this.update(cmd.pick, cmd.target, cmd.from);
        return;
      case 'delete':
        await this.delete(cmd.pick);
        return;
    }
  }

  // ----- Publishing.

  plan(spec: EventSpec): Planned {
    const n = this.#n++;
    const fresh = (): Record<string, unknown> => ({
      event_type: TYPES[spec.type],
      source: 'model',
      session_id: this.session(spec.session),
      user_id: this.user(spec.user),
      payload: { n },
    });
    const stored = (body: Record<string, unknown>): RunEvent => ({
      seq: 0,
      id: '',
      type: body['event_type'] as StoredType,
      session: body['session_id'] as string,
      user: body['user_id'] as string,
    });
    const known = this.keys.length === 0 ? undefined : this.keys[('pick' in spec.key ? spec.key.pick : 0) % this.keys.length];
    if (spec.key.mode === 'none') {
      const body = fresh();
      return { body, key: undefined, expect: { kind: 'stored', ev: stored(body) } };
    }
    if (spec.key.mode === 'new' || known === undefined) {
      const body = fresh();
      const ev = stored(body);
      const key = `${this.prefix}k${n}`;
      this.keys.push({ key, body, ev });
      return { body, key, expect: { kind: 'stored', ev } };
    }
    if (spec.key.mode === 'same') return { body: structuredClone(known.body), key: known.key, expect: { kind: 'duplicate', of: known.ev } };
    return { body: { ...known.body, payload: { n, other: true } }, key: known.key, expect: { kind: 'conflict' } };
  }

  async publisher(): Promise<TestSocket> {
    if (this.#pub === undefined) {
      this.#pub = await TestSocket.open(`${srv.wsUrl}/ws/publish`);
      this.sockets.push(this.#pub);
    }
    return this.#pub;
  }

  async publish(via: Via, planned: Planned[]): Promise<void> {
    const item = (p: Planned): Record<string, unknown> => (p.key === undefined ? p.body : { ...p.body, idempotency_key: p.key });
    switch (via) {
      case 'rest':
        for (const p of planned) {
          const headers: Record<string, string> = { 'Content-Type': 'application/json' };
          if (p.key !== undefined) headers['Idempotency-Key'] = p.key;
          const r = await fetch(`${srv.url}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify(p.body) });
          const body = (await r.json()) as Ack & Msg & { timestamp?: string };
          if (p.expect.kind === 'conflict') {
            assert.equal(r.status, 409, `REST reuse of a key for another event: ${JSON.stringify(body)}`);
            this.apply(p, { status: 'error', detail: [{ type: 'idempotency_conflict' }] });
            continue;
          }
          assert.equal(r.status, 201, JSON.stringify(body));
          if (p.expect.kind === 'stored') {
            p.expect.ev.timestamp = body.timestamp;
            p.expect.ev.prevHead = world.head;
          } else if (p.expect.of.timestamp !== undefined) {
            assert.equal(body.timestamp, p.expect.of.timestamp, 'a duplicate answers with the event first stored');
          }
          this.apply(p, { status: 'ok', event_id: body.id, seq: body.seq, duplicate: body.duplicate });
        }
        return;
      case 'ws': {
        const pub = await this.publisher();
        const base = pub.messages.length;
        for (const p of planned) pub.send(item(p));
        const acks = (await pub.count(base + planned.length, WAIT_MS)).slice(base) as Ack[];
        planned.forEach((p, i) => this.apply(p, acks[i] as Ack));
        return;
      }
      case 'wsBatch': {
        const pub = await this.publisher();
        const base = pub.messages.length;
        pub.send(planned.map(item));
        const results = (await pub.count(base + 1, WAIT_MS))[base] as Ack[];
        assert.ok(Array.isArray(results), JSON.stringify(results));
        assert.equal(results.length, planned.length);
        planned.forEach((p, i) => this.apply(p, results[i] as Ack));
        return;
      }
      case 'restBatch': {
        const r = await fetch(`${srv.url}/api/v1/events/batch`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(planned.map(item)) });
        const results = (await r.json()) as Ack[];
        assert.equal(r.status, 200, JSON.stringify(results));
        assert.equal(results.length, planned.length);
        planned.forEach((p, i) => this.apply(p, results[i] as Ack));
        return;
      }
    }
  }

  apply(p: Planned, ack: Ack): void {
    switch (p.expect.kind) {
      case 'stored': {
        assert.equal(ack.status, 'ok', JSON.stringify(ack));
        assert.equal(ack.duplicate, undefined, `a new event is not a duplicate: ${JSON.stringify(ack)}`);
        const seq = ack.seq;
        assert.ok(typeof seq === 'number' && seq > world.head, `seq ${String(seq)} after head ${world.head}: seqs rise in commit order`);
        assert.equal(typeof ack.event_id, 'string');
        p.expect.ev.seq = seq;
        p.expect.ev.id = ack.event_id as string;
        world.head = seq;
        world.stored.push(seq);
        this.events.push(p.expect.ev);
        this.seqs.push(seq);
        stats.stored++;
        return;
      }
      case 'duplicate':
        assert.equal(ack.status, 'ok', JSON.stringify(ack));
        assert.equal(ack.duplicate, true, `a retry under a known key is a duplicate: ${JSON.stringify(ack)}`);
        assert.equal(ack.event_id, p.expect.of.id, 'the duplicate names the event first stored');
        assert.equal(ack.seq, p.expect.of.seq);
        this.seqs.push(p.expect.of.seq);
        stats.duplicates++;
        return;
      case 'conflict':
        assert.equal(ack.status, 'error', `a key reused for another event is refused: ${JSON.stringify(ack)}`);
        assert.equal(ack.detail?.[0]?.type, 'idempotency_conflict', JSON.stringify(ack));
        stats.conflicts++;
        return;
    }
  }

  // ----- Subscribing.

  filter(t: TargetSpec): Filter {
    const f: Filter = t.by === 'session' ? { session_id: this.session(t.idx) } : { user_id: this.user(t.idx) };
    if (t.types !== null) f.event_types = t.types.map((i) => TYPES[i] as StoredType);
    return f;
  }

  position(s: FromSpec): Position {
    switch (s.kind) {
      case 'none':
        return { wire: undefined };
      case 'latest':
      case 'earliest':
        return { wire: s.kind };
      case 'zero':
        return { wire: 0 };
      case 'ahead':
        return { wire: world.head + 1000 };
      case 'seq': {
        const seqs = [this.startHead, ...this.seqs];
        return { wire: seqs[s.pick % seqs.length] };
      }
      case 'time': {
        const timed = this.events.filter((e) => e.timestamp !== undefined);
        const x = timed[s.pick % Math.max(1, timed.length)];
        return x === undefined ? { wire: 'earliest' } : { wire: { time: x.timestamp as string }, timeOf: x };
      }
    }
  }

  segment(conn: Conn, start: number, filter: Filter, position: Position): Segment {
    return { conn, start, end: undefined, filter, position, ...resolvePosition(position), headAtStart: world.head };
  }

  /** Opens a connection with `filter` from `position`; the first segment starts after the ack. */
  async connect(filter: Filter, position: Position, then?: { filter: Filter; position: Position }): Promise<Segment[]> {
    const sock = await TestSocket.open(`${srv.wsUrl}/ws/subscribe`);
    this.sockets.push(sock);
    const conn: Conn = { sock, ackHead: world.head };
    sock.send(position.wire === undefined ? filter : { ...filter, from: position.wire });
    const segments = [this.segment(conn, 1, filter, position)];
    if (then !== undefined) {
      // Sent without waiting for the ack: the update can overtake the first catch-up.
      sock.send({ type: 'update_filters', filters: { ...then.filter, from: then.position.wire } });
      const at = await waitIndex(sock, 1, (m) => m.status === 'filters_updated', 'filters_updated');
      (segments[0] as Segment).end = at;
      segments.push(this.segment(conn, at + 1, then.filter, then.position));
      stats.updates++;
    }
    await sock.until((m) => m.length >= 1, WAIT_MS, 'subscribed ack');
    const ack = sock.messages[0] as Msg;
    assert.equal(ack.status, 'subscribed', JSON.stringify(ack));
    assert.equal(ack.head_seq, conn.ackHead, 'the ack carries the head');
    assert.deepEqual(ack.filters, filterWire(filter));
    return segments;
  }

  async subscribe(target: TargetSpec, from: FromSpec, pipelined: { target: TargetSpec; from: FromSpec } | null): Promise<void> {
    stats.subscribes++;
    const then = pipelined === null ? undefined : { filter: this.filter(pipelined.target), position: this.position(pipelined.from) };
    this.subs.push({ segments: await this.connect(this.filter(target), this.position(from), then) });
  }

  messagesOf(s: Segment): Msg[] {
    return (s.conn.sock.messages.slice(s.start, s.end) as Msg[]).filter((m) => m.type !== 'keepalive' && m.type !== 'pong');
  }

  async caughtUp(s: Segment): Promise<void> {
    if (s.position.wire === undefined) return;
    await waitIndex(s.conn.sock, s.start, (m) => m.type === 'caught_up', 'caught_up');
  }

  /** Disconnects a subscriber and resumes it on a new connection from the last seq it received. */
  async resume(pick: number, terminate: boolean): Promise<void> {
    const sub = this.subs[pick % Math.max(1, this.subs.length)];
    if (sub === undefined) return;
    stats.resumes++;
    const seg = lastOf(sub.segments);
    const sock = seg.conn.sock;
    // "latest" names no seq to come back to: take the position from caught_up.
    if (seg.position.wire === 'latest' && !this.messagesOf(seg).some((m) => isEvent(m) || m.type === 'caught_up')) await this.caughtUp(seg);
    if (terminate) sock.ws.terminate();
    else sock.close();
    await sock.closed;
    const got = this.messagesOf(seg);
    const lastEvent = got.filter(isEvent).at(-1);
    const caught = got.find((m) => m.type === 'caught_up');
    let position: Position;
    if (lastEvent !== undefined) position = { wire: lastEvent.seq };
    else if (caught !== undefined) position = { wire: caught.seq };
    else if (seg.position.wire === undefined) position = { wire: seg.conn.ackHead };
    else position = seg.position;
    sub.segments.push(...(await this.connect(seg.filter, position)));
  }

  async update(pick: number, target: TargetSpec, from: FromSpec): Promise<void> {
    const sub = this.subs[pick % Math.max(1, this.subs.length)];
    if (sub === undefined) return;
    stats.updates++;
    const seg = lastOf(sub.segments);
    const filter = this.filter(target);
    const position = this.position(from);
    seg.conn.sock.send({ type: 'update_filters', filters: { ...filter, from: position.wire } });
    const at = await waitIndex(seg.conn.sock, seg.start, (m) => m.status === 'filters_updated', 'filters_updated');
    assert.deepEqual((seg.conn.sock.messages[at] as Msg).filters, filterWire(filter));
    seg.end = at;
    sub.segments.push(this.segment(seg.conn, at + 1, filter, position));
  }

  /** Deletes the history before a stored event's timestamp (server-wide: a prefix in seq order). */
  async delete(pick: number): Promise<void> {
    const timed = this.events.filter((e) => e.timestamp !== undefined);
    const x = timed[pick % Math.max(1, timed.length)];
    if (x === undefined) return;
    stats.deletes++;
    // No delete while a catch-up reads: what a subscriber is owed stays exact.
    for (const sub of this.subs) await this.caughtUp(lastOf(sub.segments));
    const cut = x.prevHead as number;
    const expected = world.stored.filter((s) => s > world.purged && s <= cut).length;
    const r = await fetch(`${srv.url}/api/v1/events?before=${encodeURIComponent(x.timestamp as string)}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { deleted: expected }, 'deletes every event received before the instant, and only those');
    if (expected > 0) world.purged = cut;
    stats.deleted += expected;
  }

  // ----- The end of a run: everything owed arrives, then the model's verdict.

  async finish(): Promise<void> {
    for (const [i, sub] of this.subs.entries()) {
      const seg = lastOf(sub.segments);
      await this.caughtUp(seg);
      // A barrier in order with events: everything acked so far was queued before it.
      seg.conn.sock.send({ type: 'update_filters', filters: seg.filter });
      seg.end = await waitIndex(seg.conn.sock, seg.start, (m) => m.status === 'filters_updated', `barrier of subscriber ${i}`);
    }
    for (const [i, sub] of this.subs.entries()) {
      sub.segments.forEach((seg, j) => this.check(seg, j === sub.segments.length - 1, `${this.prefix} subscriber ${i} segment ${j}`));
    }
  }

  check(s: Segment, final: boolean, label: string): void {
    const msgs = this.messagesOf(s);
    const where = `${label} (filter ${JSON.stringify(s.filter)}, from ${JSON.stringify(s.position.wire)}, owed after ${s.after}): ${JSON.stringify(msgs.map((m) => (isEvent(m) ? m.seq : m)))}`;
    let i = 0;
    if (msgs[0]?.type === 'reset') {
      assert.ok(s.reset !== undefined, `unexpected reset: ${where}`);
      assert.deepEqual({ reason: msgs[0].reason, from: msgs[0].from }, s.reset, `reset: ${where}`);
      stats.resets++;
      i = 1;
    } else if (s.reset !== undefined) {
      assert.ok(!final && msgs.length === 0, `missing reset (${JSON.stringify(s.reset)}): ${where}`);
    }
    const got: Msg[] = [];
    let caught: number | undefined;
    for (const m of msgs.slice(i)) {
      if (isEvent(m)) {
        if (caught !== undefined) assert.ok((m.seq as number) > caught, `an event at or before caught_up after it: ${where}`);
        got.push(m);
      } else if (m.type === 'caught_up') {
        assert.ok(s.position.wire !== undefined, `caught_up without from: ${where}`);
        assert.equal(caught, undefined, `two caught_up: ${where}`);
        const at = m.seq as number;
        assert.ok(at >= s.headAtStart, `caught_up below the head at start: ${where}`);
        if (got.length > 0) assert.ok(at >= (lastOf(got).seq as number), `caught_up below an event sent before it: ${where}`);
        caught = at;
      } else {
        assert.fail(`unexpected message ${JSON.stringify(m)}: ${where}`);
      }
    }
    if (final && s.position.wire !== undefined) assert.ok(caught !== undefined, `no caught_up: ${where}`);
    const owed = this.events.filter((e) => e.seq > s.after && matches(s.filter, e));
    const gotKeys = got.map((m) => `${String(m.seq)}:${String(m.id)}:${String(m.event_type)}:${String(m.session_id)}:${String(m.user_id)}`);
    const owedKeys = owed.map((e) => `${e.seq}:${e.id}:${e.type}:${e.session}:${e.user}`);
    if (final) assert.deepEqual(gotKeys, owedKeys, `delivered != owed: ${where}`);
    else assert.deepEqual(gotKeys, owedKeys.slice(0, gotKeys.length), `delivered is not a prefix of owed: ${where}`);
    stats.delivered += got.length;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sockets) s.ws.terminate();
    await Promise.all(this.sockets.map((s) => s.closed));
  }
}

before(async () => {
  // Two events per replay page: catch-ups cross many page boundaries.
  srv = await startServer({ REPLAY_PAGE_SIZE: '2' });
});
after(() => srv.stop());

test('resume model - random publishes, subscribes, resumes, re-filters and deletes: every subscriber gets exactly what it is owed', async (t) => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(scriptArb, async (script) => {
      stats.runs++;
      const run = new Run();
      try {
        for (const cmd of script) await run.exec(cmd);
        await run.finish();
      } finally {
        await run.cleanup();
      }
    }),
    { numRuns: RUNS, seed: SEED, includeErrorInReport: true },
  );
  const ms = performance.now() - started;
  t.diagnostic(`${stats.runs} runs in ${(ms / 1000).toFixed(1)} s (${(ms / stats.runs).toFixed(1)} ms/run): ${JSON.stringify(stats)}`);
});

/**
 * Found while writing the model above (which therefore never deletes during a catch-up): the
 * horizon is read once, when a catch-up starts. A delete that lands while the catch-up waits
 * for the subscriber's socket to drain removes events it has not sent yet, and the next page
 * silently skips them: a gap with no `reset`, although "a position that can no longer be
 * served gets an explicit reset, never a silent skip" (delivery/catchup.ts).
 */
test('resume - a delete while a catch-up waits on a slow socket: the events it removes before they are sent come with a reset, not a silent gap', async () => {
  const gapSrv = await startServer({ REPLAY_PAGE_SIZE: '10' });
  try {
    const big = 'x'.repeat(40_000);
    const ev = (i: number): Record<string, unknown> => ({ event_type: 'quiz_started', source: 'gap', session_id: 'gap', payload: { i, big } });
    // 595 events, then X (over REST: its response carries its timestamp), then 4 more.
    const pub = await TestSocket.open(`${gapSrv.wsUrl}/ws/publish`);
    for (let i = 0; i < 595; i++) pub.send(ev(i));
    await pub.count(595, 30_000);
    const x = (await (await fetch(`${gapSrv.url}/api/v1/events`, { method: 'POST', body: JSON.stringify(ev(595)) })).json()) as { seq: number; timestamp: string };
    for (let i = 596; i < 600; i++) pub.send(ev(i));
    await pub.count(599, 30_000);
    pub.close();

    // A subscriber from the beginning that does not read: the replay stalls once its socket is full.
    const sub = await TestSocket.open(`${gapSrv.wsUrl}/ws/subscribe`);
    sub.send({ session_id: 'gap', from: 'earliest' });
    sub.ws.pause();
    const replayed = async (): Promise<number> => ((await (await fetch(`${gapSrv.url}/api/v1/stats`)).json()) as { replayed: number }).replayed;
    let before = -1;
    for (let now = await replayed(); now !== before; now = await replayed()) {
      before = now;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(before < 500, `precondition: the replay stalls well before the events about to be deleted (it stalled after ${before})`);

    const del = (await (await fetch(`${gapSrv.url}/api/v1/events?before=${encodeURIComponent(x.timestamp)}`, { method: 'DELETE' })).json()) as { deleted: number };
    assert.equal(del.deleted, 595);
    sub.ws.resume();
    await sub.until((m) => (m as Msg[]).some((k) => k.type === 'caught_up'), 30_000, 'caught_up');
    const stream = (sub.messages as Msg[]).slice(1);
    const seqs = stream.filter(isEvent).map((m) => m.seq as number);
    assert.deepEqual(seqs.slice(-5), [x.seq, x.seq + 1, x.seq + 2, x.seq + 3, x.seq + 4], 'what is left arrives');
    // Two events next to each other in the stream must be next to each other in seq order
    // (every seq here is one event of this session); a reset between them explains a jump.
    let skipped: { after: number; next: number } | undefined;
    for (let i = 1; i < stream.length && skipped === undefined; i++) {
      const [a, b] = [stream[i - 1] as Msg, stream[i] as Msg];
      if (isEvent(a) && isEvent(b) && b.seq !== (a.seq as number) + 1) skipped = { after: a.seq as number, next: b.seq as number };
    }
    assert.equal(
      skipped,
      undefined,
      `silent gap: event ${String(skipped?.after)} is followed by ${String(skipped?.next)} with no reset between them ` +
        `(${(skipped?.next ?? 0) - (skipped?.after ?? 0) - 1} deleted events skipped; resets received: ${JSON.stringify(stream.filter((m) => m.type === 'reset'))})`,
    );
    sub.close();
  } finally {
    await gapSrv.stop();
  }
});
