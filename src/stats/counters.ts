/**
 * @module stats/counters
 * Live counters of this node: what was accepted, delivered, dropped, who is connected. One
 * snapshot type feeds `/stats` (and later the dashboard and metrics).
 */
import { RateWindow } from './rate-window.js';

/** How long a REST client counts as an active publisher after its last publish. */
export const ACTIVE_PUBLISHER_WINDOW_MS = 60_000;

export interface CountersSnapshot {
  accepted: { total: number; perSecond1s: number; perSecond10s: number; perSecond60s: number };
  /** Accepted events of ephemeral types (delivered live, never stored). */
  ephemeral: number;
  delivered: number;
  /** Events sent to subscribers catching up from stored history. */
  replayed: number;
  dropped: number;
  slowConsumerDisconnects: number;
  activePublishers: number;
  uptimeSeconds: number;
}

export class PipelineCounters {
  readonly #accepted: RateWindow;
  #acceptedTotal = 0;
  delivered = 0;
  ephemeral = 0;
  replayed = 0;
  /** Events that matched a subscriber but were never sent because it was too slow. */
  dropped = 0;
  slowConsumerDisconnects = 0;
  /** Open `/ws/publish` connections. */
  wsPublishers = 0;
  readonly #restPublishers = new Map<string, number>();
  readonly #startedAt: number;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#startedAt = now();
    this.#accepted = new RateWindow(60, now);
  }

  accepted(n: number): void {
    this.#acceptedTotal += n;
    this.#accepted.add(n);
  }

  restPublisherSeen(client: string): void {
    this.#restPublishers.set(client, this.#now());
  }

  snapshot(): CountersSnapshot {
    const now = this.#now();
    for (const [client, at] of this.#restPublishers) {
      if (now - at > ACTIVE_PUBLISHER_WINDOW_MS) this.#restPublishers.delete(client);
    }
    return {
      accepted: {
        total: this.#acceptedTotal,
        perSecond1s: this.#accepted.perSecond(1),
        perSecond10s: this.#accepted.perSecond(10),
        perSecond60s: this.#accepted.perSecond(60),
      },
      ephemeral: this.ephemeral,
      delivered: this.delivered,
      replayed: this.replayed,
      dropped: this.dropped,
      slowConsumerDisconnects: this.slowConsumerDisconnects,
      activePublishers: this.wsPublishers + this.#restPublishers.size,
      uptimeSeconds: Math.floor((now - this.#startedAt) / 1000),
    };
  }
}
