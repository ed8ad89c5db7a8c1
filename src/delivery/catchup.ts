/**
 * @module delivery/catchup
 * Resume without gap or duplicate: a subscription that starts in the past reads the stored
 * matching events in `seq` order, then switches to live delivery.
 *
 * How it stays exact while publishers run at full speed:
 * 1. The subscription is in the router *before* the first read, in catch-up mode: live events
 *    that match are held here (not sent), so every event committed from then on is either
 *    held or, if it committed before a read began, found by that read.
 * 2. Pages are read after the cursor (the last `seq` sent), oldest first, and sent as the
 *    socket drains, so a long replay never fills the subscriber's queue.
 * 3. When a page comes back short, and no held event was dropped since that read began, every
 *    matching event up to the store's head has been sent or is held. Held events above the
 *    cursor go out in order, the subscription turns live, and `caught_up` names the position.
 * Held events are bounded: past the bound they are dropped and the replay simply reads on from
 * the store, where they are (ephemeral events, never stored, are not held at all).
 *
 * A position that can no longer be served (deleted history, or a `seq` beyond the head) gets an
 * explicit `reset` naming the position served instead, never a silent skip. The deletion
 * horizon is read before and after every page, so a delete racing the replay is reported too.
 */
import { seqOfEventJson, type EventJson, type LiveEvent, type Seq } from '../domain/event.js';
import type { Filter } from '../domain/filter.js';
import { startPositionToWire, type StartPosition } from '../domain/position.js';
import type { InstantUs } from '../domain/timestamp.js';
import type { EventStore } from '../storage/event-store.js';
import type { Subscription } from './router.js';

/** Why a start position could not be honoured. */
export type ResetReason = 'history_deleted' | 'cursor_ahead';

export interface CatchupDeps {
  store: Pick<EventStore, 'query' | 'horizon' | 'readHeadSeq'>;
  /** The highest `seq` handed to delivery so far (the bus's position). */
  head: () => Seq;
  pageSize: number;
  onReplayed: (n: number) => void;
}

export class Catchup {
  /** The last `seq` sent (or passed over) to this subscriber. */
  cursor: Seq = 0;
  /** Only events received at or after this instant (a `from` time). */
  fromUs: InstantUs | undefined;
  #held: LiveEvent[] = [];
  #heldBytes = 0;
  #drops = 0;
  #cancelled = false;
  readonly #maxHeld: number;
  readonly #maxHeldBytes: number;

  /** Holds at most `maxHeld` live events and `maxHeldBytes` of their JSON (the send-queue bounds). */
  constructor(maxHeld: number, maxHeldBytes: number) {
    this.#maxHeld = maxHeld;
    this.#maxHeldBytes = maxHeldBytes;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  cancel(): void {
    this.#cancelled = true;
    this.#held = [];
    this.#heldBytes = 0;
  }

  /** Times held events were dropped for lack of room; the replay reads those from the store. */
  get drops(): number {
    return this.#drops;
  }

  /** A live event matching the subscription, while it catches up. */
  hold(event: LiveEvent): void {
    if (event.seq === null || event.seq <= this.cursor || this.#cancelled) return;
    if (this.#held.length >= this.#maxHeld || this.#heldBytes + event.json.length > this.#maxHeldBytes) {
      this.#held = [];
      this.#heldBytes = 0;
      this.#drops++;
      return;
    }
    this.#held.push(event);
    this.#heldBytes += event.json.length;
  }

  /** Takes the held events (in `seq` order, as the bus delivered them). */
  takeHeld(): LiveEvent[] {
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    return held;
  }
}

/**
 * Runs a catch-up for `sub` from `from` until it is live, cancelled or
 * its connection closes. `sub.catchup` must already be set to `c` and `sub` be in the router.
 */
export async function runCatchup(sub: Subscription, c: Catchup, from: StartPosition, deps: CatchupDeps): Promise<void> {
  const send = (kind: string, body: Record<string, unknown>): void => sub.queue.pushControl(sub.sink.encodeMessage(kind, JSON.stringify(body)));
  // A function, not a property read: the answer changes across every await below.
  const stopped = (): boolean => c.cancelled || sub.queue.closed;
  const horizon = await deps.store.horizon(sub.tenant);
  if (stopped()) return;
  let sinceUs: InstantUs | undefined;
  let reset: ResetReason | undefined;
  switch (from.kind) {
    case 'earliest':
      c.cursor = horizon.purgedSeq;
      break;
    case 'latest':
      c.cursor = deps.head();
      break;
    case 'seq':
      // A position another instance handed out may be ahead of this one's delivery for a
      // moment: wait for delivery to reach it rather than call it ahead.
      if (from.seq > deps.head() && from.seq <= (await deps.store.readHeadSeq())) await reached(deps, from.seq, stopped);
      if (stopped()) return;
      if (from.seq > deps.head()) reset = 'cursor_ahead';
      else if (from.seq < horizon.purgedSeq) reset = 'history_deleted';
      c.cursor = reset === undefined ? from.seq : horizon.purgedSeq;
      break;
    case 'time':
      if (horizon.purgedSeq > 0 && horizon.purgedUntilUs >= from.us) reset = 'history_deleted';
      c.cursor = horizon.purgedSeq;
      c.fromUs = from.us;
      sinceUs = from.us - 1;
      break;
  }
  if (reset !== undefined) {
    send('reset', { type: 'reset', reason: reset, requested: startPositionToWire(from), from: c.cursor, head_seq: deps.head() });
  }

  for (;;) {
    const drops = c.drops;
    // History deleted since the last page (a DELETE or retention purge racing the replay):
    // say so rather than skip it, then go on from the new horizon.
    const before = await deps.store.horizon(sub.tenant);
    if (stopped()) return;
    if (before.purgedSeq > c.cursor) {
      send('reset', { type: 'reset', reason: 'history_deleted', requested: c.cursor, from: before.purgedSeq, head_seq: deps.head() });
      c.cursor = before.purgedSeq;
    }
    const filter: Filter = sub.filter;
    const page = await deps.store.query({
      tenant: sub.tenant,
      eventTypes: [...filter.eventTypes],
      sessionId: filter.sessionId ?? undefined,
      userId: filter.userId ?? undefined,
      afterSeq: c.cursor,
      // Never past what delivery has handed on: in a cluster the store may hold events this
      // instance has not delivered yet; those arrive live, and are held like any other.
      beforeSeq: deps.head() + 1,
      sinceUs,
      order: 'asc',
      limit: deps.pageSize,
    });
    if (stopped()) return;
    // A delete that landed while the page was read may have cut into it: read it again.
    if ((await deps.store.horizon(sub.tenant)).purgedSeq !== before.purgedSeq) continue;
    if (stopped()) return;
    if (!(await sendPage(sub, c, page, stopped, deps.onReplayed))) return;
    if (page.length < deps.pageSize && c.drops === drops) break;
    // Let commits, acks and other subscribers run between pages: a long replay never holds the loop.
    await new Promise((resolve) => setImmediate(resolve));
    if (stopped()) return;
  }

  // Everything stored up to the head is sent or held: send the held ones above the cursor, go
  // live. Each event was matched against the filters current when it was read or held.
  for (const event of c.takeHeld()) {
    if (event.seq === null || event.seq <= c.cursor) continue;
    if (c.fromUs !== undefined && event.timestampUs < c.fromUs) continue;
    if (!sub.queue.push(sub.sink.encode(event))) return;
    c.cursor = event.seq;
  }
  sub.catchup = undefined;
  send('caught_up', { type: 'caught_up', seq: Math.max(c.cursor, deps.head()) });
}

/** Waits (a few seconds at most) until delivery has handed on `seq`. */
async function reached(deps: CatchupDeps, seq: Seq, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + HEAD_WAIT_MS;
  while (deps.head() < seq && !stopped() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** Longest wait for this instance's delivery to reach a position another instance handed out. */
const HEAD_WAIT_MS = 5_000;

/**
 * Writes one page of stored events, corked so a page costs a few writes rather than one per
 * event, and pausing whenever the socket is full. Resolves false when the subscriber went away.
 */
async function sendPage(sub: Subscription, c: Catchup, page: readonly EventJson[], stopped: () => boolean, onReplayed: (n: number) => void): Promise<boolean> {
  let sent = 0;
  let corked = false;
  const cork = (on: boolean): void => {
    if (on === corked) return;
    corked = on;
    if (on) sub.sink.cork?.();
    else sub.sink.uncork?.();
  };
  try {
    for (const json of page) {
      if (sub.queue.backlogged) {
        cork(false);
        await sub.queue.writable();
        if (stopped()) return false;
      }
      cork(true);
      const seq = seqOfEventJson(json);
      if (!sub.queue.push(sub.sink.encode({ json, seq }))) return false;
      c.cursor = seq;
      sent++;
    }
    return true;
  } finally {
    cork(false);
    onReplayed(sent);
  }
}
