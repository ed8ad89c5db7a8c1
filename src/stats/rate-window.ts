/**
 * @module stats/rate-window
 * Counts per whole second over a sliding window of the last N seconds, for "events per
 * second over the last 1 s / 10 s / 60 s". The current, unfinished second is not reported.
 */
export class RateWindow {
  readonly #buckets: Float64Array;
  #second: number;
  readonly #startSecond: number;
  readonly #now: () => number;

  constructor(seconds: number, now: () => number = Date.now) {
    this.#buckets = new Float64Array(seconds + 1);
    this.#now = now;
    this.#second = Math.floor(now() / 1000);
    this.#startSecond = this.#second;
  }

  add(n = 1): void {
    this.#advance();
    const i = this.#second % this.#buckets.length;
    this.#buckets[i] = (this.#buckets[i] ?? 0) + n;
  }

  /** Mean per second over the last `seconds` complete seconds (fewer right after start). */
  perSecond(seconds: number): number {
    this.#advance();
    const span = Math.min(seconds, this.#buckets.length - 1, this.#second - this.#startSecond);
    if (span <= 0) return 0;
    let sum = 0;
    for (let s = this.#second - span; s < this.#second; s++) sum += this.#buckets[s % this.#buckets.length] ?? 0;
    return sum / span;
  }

  #advance(): void {
    const now = Math.floor(this.#now() / 1000);
    if (now <= this.#second) return;
    const steps = Math.min(now - this.#second, this.#buckets.length);
    for (let k = 1; k <= steps; k++) this.#buckets[(this.#second + k) % this.#buckets.length] = 0;
    this.#second = now;
  }
}
