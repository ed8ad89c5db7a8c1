/**
 * @module bus/ordered-feed
 * One node's view of the commit stream when several nodes write one store: events arrive from
 * this node's commits and from other nodes over a lossy bus, in any order, possibly twice, or
 * not at all. The feed hands them on in `seq` order, each exactly once, with no gap:
 *
 * - Events come out strictly in `seq` order from where the node started; an event below the
 *   position is a duplicate and dropped.
 * - An event that cannot go out because an earlier `seq` is missing waits at most `gapWaitMs`
 *   for the bus to bring the missing one; then the missing range is read from the store.
 * - Every `pollMs` the store's head is read; if the feed is still behind a head it saw on the
 *   previous poll (a message lost at the end of a burst, a bus that is down), it reads the
 *   missing range from the store. So the bus is only the fast path: the store is the record.
 * - A `seq` the store does not have although a later one is committed was deleted (a DELETE,
 *   an erasure, retention): appends hold the store's append lock until they commit, so every
 *   `seq` up to a committed one is committed too, and a missing one will never appear.
 * - Ephemeral events (no `seq`) are not ordered: they go out as they arrive.
 */
import type { LiveEvent, Seq, StoredEvent } from '../domain/event.js';
import type { EventStore } from '../storage/event-store.js';

export interface OrderedFeedOptions {
  /** Wait this long for a missing event before reading it from the store (default 20 ms). */
  gapWaitMs?: number;
  /** Read the store's head this often (default 200 ms). */
  pollMs?: number;
  /** Events held out of order beyond which the store is read at once (default 10,000). */
  maxPending?: number;
  /** Events per store read (default 1,000). */
  pageSize?: number;
  onError?: (err: unknown) => void;
}

export class OrderedFeed {
  readonly #store: Pick<EventStore, 'tail' | 'readHeadSeq'>;
  readonly #deliver: (events: readonly LiveEvent[]) => void;
  readonly #gapWaitMs: number;
  readonly #pollMs: number;
  readonly #maxPending: number;
  readonly #pageSize: number;
  readonly #onError: (err: unknown) => void;
  /** The next `seq` to hand on. */
  #next: Seq;
  readonly #pending = new Map<Seq, LiveEvent>();
  #gapTimer: NodeJS.Timeout | undefined;
  #poller: NodeJS.Timeout | undefined;
  #filling: Promise<void> | undefined;
  #refill = false;
  /** The store's head as read by the previous poll. */
  #seenHead = 0;
  #stopped = false;
  /** Events read from the store because the bus had not brought them (for stats and tests). */
  filledFromStore = 0;

  constructor(store: Pick<EventStore, 'tail' | 'readHeadSeq'>, startAfter: Seq, deliver: (events: readonly LiveEvent[]) => void, options: OrderedFeedOptions = {}) {
    this.#store = store;
    this.#deliver = deliver;
    this.#next = startAfter + 1;
    this.#seenHead = startAfter;
    this.#gapWaitMs = options.gapWaitMs ?? 20;
    this.#pollMs = options.pollMs ?? 200;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#pageSize = options.pageSize ?? 1_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** The last `seq` handed on. */
  get position(): Seq {
    return this.#next - 1;
  }

  start(): void {
    this.#poller = setInterval(() => this.#poll(), this.#pollMs);
    this.#poller.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poller);
    clearTimeout(this.#gapTimer);
    await this.#filling;
  }

  /** Events from anywhere, in any order, duplicates allowed. */
  offer(events: readonly LiveEvent[]): void {
    if (this.#stopped) return;
    const ephemeral: LiveEvent[] = [];
    for (const e of events) {
      if (e.seq === null) ephemeral.push(e);
      else if (e.seq >= this.#next) this.#pending.set(e.seq, e);
    }
    if (ephemeral.length > 0) this.#deliver(ephemeral);
    this.#drain();
  }

  /** Reads whatever the store has beyond the position now (after the bus reconnects, say). */
  catchUp(): Promise<void> {
    return this.#fill();
  }

  #drain(): void {
    const out: LiveEvent[] = [];
    for (let e = this.#pending.get(this.#next); e !== undefined; e = this.#pending.get(this.#next)) {
      this.#pending.delete(this.#next);
      out.push(e);
      this.#next++;
    }
    if (out.length > 0) this.#deliver(out);
    if (this.#pending.size === 0) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
    } else if (this.#pending.size >= this.#maxPending) {
      void this.#fill();
    } else if (this.#gapTimer === undefined) {
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = undefined;
        if (this.#pending.size > 0) void this.#fill();
      }, this.#gapWaitMs);
      this.#gapTimer.unref();
    }
  }

  #poll(): void {
    if (this.#stopped || this.#filling !== undefined) return;
    this.#store.readHeadSeq().then(
      (head) => {
        // Behind a head already seen one poll ago: the bus lost or has not brought it.
        if (this.#seenHead >= this.#next) void this.#fill();
        this.#seenHead = head;
      },
      (err: unknown) => this.#onError(err),
    );
  }

  /** Single flight: reads the store from the position up to its head, skipping deleted seqs. */
  #fill(): Promise<void> {
    if (this.#filling !== undefined) {
      this.#refill = true;
      return this.#filling;
    }
    this.#filling = (async () => {
      try {
        do {
          this.#refill = false;
          await this.#fillOnce();
          // Asked for again while this pass ran (a method call: the flag changes across the await).
        } while (this.#refillRequested() && !this.#stopped);
      } catch (err) {
        this.#onError(err);
      } finally {
        this.#filling = undefined;
      }
      this.#drain();
    })();
    return this.#filling;
  }

  #refillRequested(): boolean {
    return this.#refill;
  }

  async #fillOnce(): Promise<void> {
    const head = await this.#store.readHeadSeq();
    // Every seq up to the highest one known committed is committed or deleted.
    const target = Math.max(head, this.#pending.size > 0 ? Math.max(...this.#pending.keys()) : 0);
    while (this.#next <= target && !this.#stopped) {
      const page: StoredEvent[] = await this.#store.tail(this.#next - 1, this.#pageSize);
      for (const e of page) {
        if (e.seq >= this.#next && !this.#pending.has(e.seq)) {
          this.#pending.set(e.seq, e);
          this.filledFromStore++;
        }
      }
      const last = page.length > 0 ? (page[page.length - 1] as StoredEvent).seq : 0;
      const covered = page.length >= this.#pageSize ? last : Math.max(target, last);
      const out: LiveEvent[] = [];
      while (this.#next <= covered) {
        const e = this.#pending.get(this.#next);
        if (e !== undefined) {
          this.#pending.delete(this.#next);
          out.push(e);
        }
        this.#next++;
      }
      if (out.length > 0) this.#deliver(out);
      if (page.length < this.#pageSize) break;
    }
  }
}
