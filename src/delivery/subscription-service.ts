/**
 * @module delivery/subscription-service
 * Opens, re-filters and closes subscriptions for any transport, and feeds committed events
 * from the bus to the router. Owns the subscriber limit and the per-subscriber queue policy.
 */
import { randomBytes } from 'node:crypto';
import type { LiveEvent } from '../domain/event.js';
import type { Filter } from '../domain/filter.js';
import type { Logger } from '../log/logger.js';
import type { PipelineCounters } from '../stats/counters.js';
import { Router, type Subscription } from './router.js';
import { SendQueue, type SendQueueLimits, type SendQueueObserver } from './send-queue.js';
import type { DeliverySink } from './sink.js';

export class SubscriptionService {
  readonly #router = new Router();
  readonly #limits: SendQueueLimits;
  readonly #maxSubscribers: number;
  readonly #observer: SendQueueObserver;
  #queued = 0;

  readonly #log: Logger;

  constructor(limits: SendQueueLimits & { maxSubscribers: number }, counters: PipelineCounters, log: Logger) {
    this.#log = log;
    this.#limits = { maxEvents: limits.maxEvents, maxBytes: limits.maxBytes };
    this.#maxSubscribers = limits.maxSubscribers;
    this.#observer = {
      queued: (delta) => (this.#queued += delta),
      sent: (n) => (counters.delivered += n),
      slowConsumer: (dropped) => {
        counters.dropped += dropped;
        counters.slowConsumerDisconnects++;
      },
    };
  }

  /** Subscriptions with a valid filter on open connections. */
  get active(): number {
    return this.#router.size;
  }

  /** Frames waiting in subscriber queues, over all subscribers. */
  get queued(): number {
    return this.#queued;
  }

  get full(): boolean {
    return this.#router.size >= this.#maxSubscribers;
  }

  /**
   * Registers a subscription; callers check {@link full} first. A slow consumer leaves the
   * router at once, not when its close handshake completes.
   */
  open(sink: DeliverySink, filter: Filter): Subscription {
    const observer: SendQueueObserver = {
      ...this.#observer,
      slowConsumer: (dropped) => {
        this.#observer.slowConsumer(dropped);
        this.#router.remove(sub);
        this.#log.warning('slow consumer disconnected', { subscriber_id: sub.id, dropped_frames: dropped });
      },
    };
    const sub: Subscription = { id: 'sub_' + randomBytes(4).toString('hex'), filter, sink, queue: new SendQueue(sink, this.#limits, observer) };
    this.#router.add(sub);
    return sub;
  }

  setFilter(sub: Subscription, filter: Filter): void {
    this.#router.setFilter(sub, filter);
  }

  close(sub: Subscription): void {
    this.#router.remove(sub);
    sub.queue.discard();
  }

  /** The bus handler: committed events in `seq` order. */
  readonly deliver = (events: readonly LiveEvent[]): void => {
    this.#router.deliver(events);
  };
}
