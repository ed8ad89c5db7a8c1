/**
 * @module delivery/subscription-service
 * Opens, re-filters and closes subscriptions for any transport, and feeds committed events
 * from the bus to the router. Owns the subscriber limit, the per-subscriber queue policy and
 * catch-up from stored history (delivery/catchup.ts).
 */
import { randomBytes } from 'node:crypto';
import { CloseCode } from '../../protocol/close-codes.js';
import type { LiveEvent, Seq } from '../domain/event.js';
import type { Filter } from '../domain/filter.js';
import type { StartPosition } from '../domain/position.js';
import { errorFields, type Logger } from '../log/logger.js';
import type { PipelineCounters } from '../stats/counters.js';
import type { EventStore } from '../storage/event-store.js';
import type { TenantId } from '../domain/tenant.js';
import { Catchup, runCatchup } from './catchup.js';
import { Router, type Subscription } from './router.js';
import { SendQueue, type SendQueueLimits, type SendQueueObserver } from './send-queue.js';
import type { DeliverySink } from './sink.js';


export interface SubscriptionOptions extends SendQueueLimits {
  maxSubscribers: number;
  /** Stored events read per step of a catch-up. */
  replayPageSize: number;
}

export class SubscriptionService {
  readonly #router = new Router();
  readonly #limits: SendQueueLimits;
  readonly #maxSubscribers: number;
  readonly #pageSize: number;
  readonly #observer: SendQueueObserver;
  readonly #store: EventStore;
  readonly #counters: PipelineCounters;
  readonly #log: Logger;
  #queued = 0;
  /** The highest `seq` handed to delivery: the bus's position. */
  #head: Seq;

  constructor(options: SubscriptionOptions, store: EventStore, counters: PipelineCounters, log: Logger) {
    this.#log = log;
    this.#store = store;
    this.#counters = counters;
    this.#limits = { maxEvents: options.maxEvents, maxBytes: options.maxBytes };
    this.#maxSubscribers = options.maxSubscribers;
    this.#pageSize = options.replayPageSize;
    this.#head = store.headSeq();
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

  /** One tenant's subscriptions and the frames waiting in their queues (O(its subscriptions)). */
  tenantLoad(tenant: TenantId): { active: number; queued: number } {
    let active = 0;
    let queued = 0;
    for (const sub of this.#router.ofTenant(tenant)) {
      active++;
      queued += sub.queue.length;
    }
    return { active, queued };
  }

  /** Frames waiting in subscriber queues, over all subscribers. */
  get queued(): number {
    return this.#queued;
  }

  get full(): boolean {
    return this.#router.size >= this.#maxSubscribers;
  }

  /** The highest `seq` delivered to subscriptions so far. */
  get head(): Seq {
    return this.#head;
  }

  /**
   * Registers a subscription; callers check {@link full} first. With `from`, it first catches up
   * from stored history (see delivery/catchup.ts). A slow consumer leaves the router at once,
   * not when its close handshake completes.
   */
  open(sink: DeliverySink, tenant: TenantId, filter: Filter, from?: StartPosition): Subscription {
    const observer: SendQueueObserver = {
      ...this.#observer,
      slowConsumer: (dropped) => {
        this.#observer.slowConsumer(dropped);
        this.#router.remove(sub);
        sub.catchup?.cancel();
        this.#log.warning('slow consumer disconnected', { subscriber_id: sub.id, dropped_frames: dropped });
      },
    };
    const sub: Subscription = {
      id: 'sub_' + randomBytes(4).toString('hex'),
      tenant,
      filter,
      sink,
      queue: new SendQueue(sink, this.#limits, observer),
      catchup: undefined,
    };
    this.#router.add(sub);
    if (from !== undefined) this.#startCatchup(sub, from);
    return sub;
  }

  /**
   * New filters. Without `from` they apply to what is delivered from now on (a catch-up in
   * progress continues with them); with `from`, delivery restarts from that position.
   */
  setFilter(sub: Subscription, filter: Filter, from?: StartPosition): void {
    this.#router.setFilter(sub, filter);
    if (from !== undefined) this.#startCatchup(sub, from);
  }

  /** Sends a protocol message in order with the events queued for `sub`. */
  sendInOrder(sub: Subscription, kind: string, body: unknown): void {
    sub.queue.pushControl(sub.sink.encodeMessage(kind, JSON.stringify(body)));
  }

  close(sub: Subscription): void {
    this.#router.remove(sub);
    sub.catchup?.cancel();
    sub.catchup = undefined;
    sub.queue.discard();
  }

  #startCatchup(sub: Subscription, from: StartPosition): void {
    sub.catchup?.cancel();
    const c = new Catchup(this.#limits.maxEvents, this.#limits.maxBytes);
    sub.catchup = c;
    runCatchup(sub, c, from, {
      store: this.#store,
      head: () => this.#head,
      pageSize: this.#pageSize,
      onReplayed: (n) => (this.#counters.replayed += n),
    }).catch((err: unknown) => {
      if (c.cancelled) return;
      this.#log.error('catch-up failed', { subscriber_id: sub.id, ...errorFields(err) });
      this.close(sub);
      sub.sink.close(CloseCode.INTERNAL_ERROR, 'could not read history; resume later');
    });
  }

  /** The bus handler: committed events in `seq` order. */
  readonly deliver = (events: readonly LiveEvent[]): void => {
    for (let i = events.length - 1; i >= 0; i--) {
      const seq = (events[i] as LiveEvent).seq;
      if (seq !== null) {
        if (seq > this.#head) this.#head = seq;
        break;
      }
    }
    this.#router.deliver(events);
  };
}
