/**
 * @module bus/redis/redis-bus
 * Fan-out between instances through Redis pub/sub. Every instance publishes the events it
 * committed on one channel and subscribes to it; an {@link OrderedFeed} merges its own commits
 * with everyone else's into one gapless stream in `seq` order for local delivery. Redis is the
 * fast path only: a message lost, or Redis down or restarted, shows up as a gap or as a store
 * head ahead of the feed, and the feed reads the missing events from the store (PostgreSQL).
 *
 * While Redis is unreachable, publishing fails fast (no unbounded offline queue): this
 * instance still delivers its own commits at once and everyone else's from the store within
 * a poll or two. Ephemeral events (never stored) travel only through Redis: while it is down,
 * other instances do not get them.
 */
import { Redis } from 'ioredis';
import type { LiveEvent } from '../../domain/event.js';
import type { EventStore } from '../../storage/event-store.js';
import type { Bus, BusHandler } from '../bus.js';
import { OrderedFeed, type OrderedFeedOptions } from '../ordered-feed.js';

export interface RedisBusOptions {
  url: string;
  /** Channel prefix shared by the instances of one cluster. */
  prefix: string;
  store: Pick<EventStore, 'tail' | 'readHeadSeq' | 'headSeq'>;
  feed?: OrderedFeedOptions;
  onError: (err: unknown) => void;
  /** Called with true when the subscriber connection is (re)established, false when lost. */
  onConnection?: (up: boolean) => void;
}

/** What travels on the channel: the event as delivery needs it. */
type WireEvent = [seq: number | null, id: string, tenant: string, eventType: string, sessionId: string | null, userId: string | null, timestampUs: number, json: string];

const toWire = (e: LiveEvent): WireEvent => [e.seq, e.id, e.tenant, e.eventType, e.sessionId, e.userId, e.timestampUs, e.json];
const fromWire = (w: WireEvent): LiveEvent =>
  ({ seq: w[0], id: w[1], tenant: w[2], eventType: w[3], sessionId: w[4], userId: w[5], timestampUs: w[6], json: w[7] }) as LiveEvent;

export class RedisBus implements Bus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #handlers = new Set<BusHandler>();
  readonly #feed: OrderedFeed;
  readonly #onError: (err: unknown) => void;
  #subscribed = false;

  private constructor(options: RedisBusOptions) {
    this.#channel = `${options.prefix}:events`;
    this.#onError = options.onError;
    const common = { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(50 * times, 1_000) };
    this.#pub = new Redis(options.url, { ...common, enableOfflineQueue: false });
    this.#sub = new Redis(options.url, { ...common, enableOfflineQueue: true });
    this.#feed = new OrderedFeed(options.store, options.store.headSeq(), (events) => this.#emit(events), { ...options.feed, onError: options.onError });
    this.#pub.on('error', () => undefined);
    this.#sub.on('error', () => undefined);
    this.#sub.on('message', (_channel: string, message: string) => {
      try {
        this.#feed.offer((JSON.parse(message) as WireEvent[]).map(fromWire));
      } catch (err) {
        this.#onError(err);
      }
    });
    // A subscriber that reconnects missed whatever was published meanwhile: read it now.
    this.#sub.on('ready', () => {
      if (this.#subscribed) void this.#feed.catchUp();
      options.onConnection?.(true);
    });
    this.#sub.on('close', () => options.onConnection?.(false));
  }

  /**
   * Connects and subscribes. Redis being down at start does not stop the instance: it
   * delivers from the store (the feed's poll) and keeps reconnecting; once the subscription is
   * in place it reads whatever it missed.
   */
  static async open(options: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(options);
    bus.#feed.start();
    try {
      await Promise.all([bus.#pub.connect(), bus.#sub.connect()]);
    } catch (err) {
      options.onError(err);
      options.onConnection?.(false);
    }
    // Queued by the subscriber connection until it is connected.
    bus.#sub.subscribe(bus.#channel).then(
      () => {
        bus.#subscribed = true;
        // Anything committed between reading the head and subscribing.
        void bus.#feed.catchUp();
      },
      (err: unknown) => options.onError(err),
    );
    return bus;
  }

  publish(events: readonly LiveEvent[]): void {
    // Our own stored events go out here at once; the copy coming back from Redis is dropped
    // as a duplicate. Ephemeral ones come back through Redis, like everyone else's.
    const stored = events.filter((e) => e.seq !== null);
    if (stored.length > 0) this.#feed.offer(stored);
    this.#pub.publish(this.#channel, JSON.stringify(events.map(toWire))).catch(() => {
      // Redis is down: others read our stored events from the store; ephemeral ones are lost.
      if (stored.length < events.length) this.#feed.offer(events.filter((e) => e.seq === null));
    });
  }

  onEvents(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** The last `seq` handed to delivery on this instance. */
  get position(): number {
    return this.#feed.position;
  }

  /** Events this instance had to read from the store because Redis did not bring them. */
  get filledFromStore(): number {
    return this.#feed.filledFromStore;
  }

  /** Rejects when Redis does not answer. */
  async ping(): Promise<void> {
    await this.#pub.ping();
  }

  async close(): Promise<void> {
    await this.#feed.stop();
    this.#handlers.clear();
    this.#sub.disconnect();
    await this.#pub.quit().catch(() => this.#pub.disconnect());
  }

  #emit(events: readonly LiveEvent[]): void {
    for (const h of this.#handlers) {
      try {
        h(events);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
