/**
 * @module limits/rate-limiter
 * Token buckets per client and per class of request (publish, query, admin). Every request
 * counts, valid or not, whatever the route alias or transport, so a client cannot double its
 * allowance through `/events` and `/api/v1/events` or through WebSocket publish.
 */

export type RateClass = 'publish' | 'query' | 'admin';

/** `count` requests per `windowMs`, refilled continuously. */
export interface RateLimit {
  readonly count: number;
  readonly windowMs: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets idle this long are full again and forgotten. */
const SWEEP_INTERVAL_MS = 60_000;

export class RateLimiter {
  readonly #limits: Readonly<Record<RateClass, RateLimit | null>>;
  readonly #buckets = new Map<string, Bucket>();
  /** Tokens taken since the last {@link takeConsumed}, by bucket (kept only when shared). */
  readonly #consumed = new Map<string, number>();
  #shared = false;
  readonly #now: () => number;
  #lastSweep: number;

  /** A class whose limit is null is unlimited. */
  constructor(limits: Readonly<Record<RateClass, RateLimit | null>>, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#lastSweep = now();
  }

  take(client: string, cls: RateClass, n = 1): RateDecision {
    const limit = this.#limits[cls];
    if (limit === null) return { ok: true };
    const now = this.#now();
    this.#sweep(now);
    const key = cls + ' ' + client;
    const ratePerMs = limit.count / limit.windowMs;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: limit.count, updatedMs: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(limit.count, b.tokens + (now - b.updatedMs) * ratePerMs);
      b.updatedMs = now;
    }
    if (b.tokens >= n) {
      b.tokens -= n;
      if (this.#shared) this.#consumed.set(key, (this.#consumed.get(key) ?? 0) + n);
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((n - b.tokens) / ratePerMs / 1000)) };
  }

  /**
   * Sharing with other instances (limits/shared-rate-limits.ts): from now on, what this
   * instance takes is kept for {@link takeConsumed}, and other instances' use arrives through
   * {@link debit}.
   */
  share(): void {
    this.#shared = true;
  }

  /** Tokens taken per bucket since the last call, keyed `<class> <client>`; clears them. */
  takeConsumed(): Map<string, number> {
    const out = new Map(this.#consumed);
    this.#consumed.clear();
    return out;
  }

  /**
   * Takes `n` tokens other instances used from the bucket `key` (as {@link takeConsumed} names
   * it). A bucket may go below zero by at most one window's worth: it then refills from there.
   */
  debit(key: string, n: number): void {
    const limit = this.#limits[key.slice(0, key.indexOf(' ')) as RateClass];
    if (limit === null || n <= 0) return;
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: limit.count, updatedMs: now };
    b.tokens = Math.min(limit.count, b.tokens + (now - b.updatedMs) * (limit.count / limit.windowMs));
    b.updatedMs = now;
    b.tokens = Math.max(-limit.count, b.tokens - n);
    this.#buckets.set(key, b);
  }

  /** The window of a bucket's class, in ms (null: unlimited). */
  windowOf(key: string): number | null {
    return this.#limits[key.slice(0, key.indexOf(' ')) as RateClass]?.windowMs ?? null;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const [key, b] of this.#buckets) {
      const cls = key.slice(0, key.indexOf(' ')) as RateClass;
      const limit = this.#limits[cls];
      if (limit === null || now - b.updatedMs >= limit.windowMs) this.#buckets.delete(key);
    }
  }
}
