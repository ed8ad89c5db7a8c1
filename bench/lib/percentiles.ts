/** Exact percentiles over recorded samples (milliseconds), without coordinated omission when
 * samples are measured from each operation's scheduled start. */
export class Samples {
  #data = new Float64Array(1 << 16);
  #n = 0;

  add(v: number): void {
    if (this.#n === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#n++] = v;
  }

  get count(): number {
    return this.#n;
  }

  percentiles(ps: number[]): number[] {
    if (this.#n === 0) return ps.map(() => NaN);
    const sorted = this.#data.slice(0, this.#n).sort();
    return ps.map((p) => sorted[Math.min(this.#n - 1, Math.max(0, Math.ceil((p / 100) * this.#n) - 1))] as number);
  }
}
