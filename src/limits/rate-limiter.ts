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
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((n - b.tokens) / ratePerMs / 1000)) };
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
