/**
 * @module limits/shared-rate-limits
 * Rate limits across instances. Each instance keeps deciding locally (no network round trip
 * on the request path) and, every `intervalMs`, adds what it took per bucket to a counter in
 * Redis and learns from the counter's new total what the other instances took meanwhile, which
 * it debits from its own bucket. A client spread over N instances thus gets one allowance, give
 * or take what N instances grant within one interval. If Redis is unreachable, each instance
 * goes on limiting alone and catches up with the others' use once Redis is back.
 */
import type { Redis } from 'ioredis';
import type { RateLimiter } from './rate-limiter.js';

export interface SharedRateLimitsOptions {
  redis: Redis;
  prefix: string;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/** How long a bucket that saw no local use is still synchronised. */
const ACTIVE_MS = 60_000;

export class SharedRateLimits {
  readonly #limiter: RateLimiter;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #onError: (err: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  /**
   * Per bucket: the window slot of the counter we last read, its total then, and when we last
   * used the bucket. Counters are per window (`<bucket>:<slot>`), so one never holds more than
   * a window's use.
   */
  readonly #known = new Map<string, { slot: number; total: number; activeMs: number }>();
  #pending = new Map<string, number>();
  #syncing = false;

  constructor(limiter: RateLimiter, options: SharedRateLimitsOptions) {
    this.#limiter = limiter;
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#onError = options.onError ?? (() => undefined);
    limiter.share();
    this.#timer = setInterval(() => void this.sync(), options.intervalMs ?? 100);
    this.#timer.unref();
  }

  /** One exchange with Redis (also run by the timer). */
  async sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const now = Date.now();
      for (const [key, n] of this.#limiter.takeConsumed()) this.#pending.set(key, (this.#pending.get(key) ?? 0) + n);
      for (const key of this.#pending.keys()) {
        const k = this.#known.get(key);
        if (k === undefined) this.#known.set(key, { slot: -1, total: 0, activeMs: now });
        else k.activeMs = now;
      }
      for (const [key, k] of this.#known) if (now - k.activeMs > ACTIVE_MS) this.#known.delete(key);
      const keys = [...this.#known.keys()];
      if (keys.length === 0) return;
      const sent = this.#pending;
      this.#pending = new Map();
      const pipeline = this.#redis.pipeline();
      const slots = keys.map((key) => Math.floor(now / (this.#limiter.windowOf(key) ?? 60_000)));
      keys.forEach((key, i) => {
        const redisKey = `${this.#prefix}:rl:${key}:${String(slots[i])}`;
        pipeline.incrbyfloat(redisKey, sent.get(key) ?? 0);
        pipeline.pexpire(redisKey, 2 * (this.#limiter.windowOf(key) ?? 60_000));
      });
      let results: [Error | null, unknown][] | null;
      try {
        results = await pipeline.exec();
      } catch (err) {
        // Not sent: keep what we took for the next try.
        for (const [key, n] of sent) this.#pending.set(key, (this.#pending.get(key) ?? 0) + n);
        throw err;
      }
      keys.forEach((key, i) => {
        const [err, value] = results?.[2 * i] ?? [new Error('no reply'), null];
        const k = this.#known.get(key);
        if (err !== null || k === undefined) return;
        const total = Number(value);
        const mine = sent.get(key) ?? 0;
        // In a new window (or a bucket new to us) everything else in the counter is the others'.
        const before = k.slot === slots[i] ? k.total : 0;
        const others = total - before - mine;
        k.slot = slots[i] ?? -1;
        k.total = total;
        if (others > 0) this.#limiter.debit(key, others);
      });
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#syncing = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
