/**
 * @module delivery/router
 * Matches committed events to local subscriptions and queues their frames. Subscriptions are
 * partitioned by tenant first, so an event never meets a subscription of another tenant, even
 * one whose filter would match it. Within a tenant each subscription is indexed under its most
 * selective key (session, else user, else each of its types, else
 * "everything"), so an event only meets the subscriptions that could want it: matching costs
 * O(candidates), not O(all subscribers). An event is serialised once and its bytes shared by
 * every recipient. Adding, removing or re-filtering subscriptions during a fan-out is safe:
 * Set iteration in JavaScript tolerates deletion, and each subscription is looked up once.
 */
import type { LiveEvent } from '../domain/event.js';
import type { TenantId } from '../domain/tenant.js';
import { matches, type Filter } from '../domain/filter.js';
import type { Catchup } from './catchup.js';
import type { SendQueue } from './send-queue.js';
import type { DeliverySink, FrameEncoder } from './sink.js';

/** `sub_` + 8 hex digits. */
export type SubscriberId = string;

export interface Subscription {
  readonly id: SubscriberId;
  /** The subscriber's tenant: it only ever receives that tenant's events. */
  readonly tenant: TenantId;
  filter: Filter;
  readonly queue: SendQueue;
  readonly sink: DeliverySink;
  /** Set while the subscription catches up from stored history: live events are held there. */
  catchup: Catchup | undefined;
}

type IndexKey = { kind: 'session' | 'user'; key: string } | { kind: 'types'; keys: readonly string[] } | { kind: 'all' };

/** One tenant's subscriptions, by index key. */
class TenantIndex {
  readonly bySession = new Map<string, Set<Subscription>>();
  readonly byUser = new Map<string, Set<Subscription>>();
  readonly byType = new Map<string, Set<Subscription>>();
  readonly all = new Set<Subscription>();
  size = 0;
}

export class Router {
  readonly #tenants = new Map<TenantId, TenantIndex>();
  readonly #keys = new Map<Subscription, IndexKey>();

  get size(): number {
    return this.#keys.size;
  }

  /** One tenant's subscriptions, each once. */
  *ofTenant(tenant: TenantId): Iterable<Subscription> {
    const index = this.#tenants.get(tenant);
    if (index === undefined) return;
    const seen = new Set<Subscription>();
    for (const group of [index.bySession.values(), index.byUser.values(), index.byType.values(), [index.all].values()]) {
      for (const set of group) {
        for (const sub of set) {
          if (seen.has(sub)) continue;
          seen.add(sub);
          yield sub;
        }
      }
    }
  }

  add(sub: Subscription): void {
    if (this.#keys.has(sub)) this.remove(sub);
    const key = indexKey(sub.filter);
    this.#keys.set(sub, key);
    let index = this.#tenants.get(sub.tenant);
    if (index === undefined) this.#tenants.set(sub.tenant, (index = new TenantIndex()));
    index.size++;
    switch (key.kind) {
      case 'session':
        addTo(index.bySession, key.key, sub);
        break;
      case 'user':
        addTo(index.byUser, key.key, sub);
        break;
      case 'types':
        for (const t of key.keys) addTo(index.byType, t, sub);
        break;
      case 'all':
        index.all.add(sub);
        break;
    }
  }

  remove(sub: Subscription): void {
    const key = this.#keys.get(sub);
    const index = this.#tenants.get(sub.tenant);
    if (key === undefined || index === undefined) return;
    this.#keys.delete(sub);
    switch (key.kind) {
      case 'session':
        removeFrom(index.bySession, key.key, sub);
        break;
      case 'user':
        removeFrom(index.byUser, key.key, sub);
        break;
      case 'types':
        for (const t of key.keys) removeFrom(index.byType, t, sub);
        break;
      case 'all':
        index.all.delete(sub);
        break;
    }
    if (--index.size === 0) this.#tenants.delete(sub.tenant);
  }

  setFilter(sub: Subscription, filter: Filter): void {
    const registered = this.#keys.has(sub);
    if (registered) this.remove(sub);
    sub.filter = filter;
    if (registered) this.add(sub);
  }

  /**
   * Queues every event for every matching subscription, in the order given. Each event is
   * encoded once per transport; every touched socket is corked for the whole batch.
   */
  deliver(events: readonly LiveEvent[]): void {
    const corked = new Set<DeliverySink>();
    for (const event of events) {
      const index = this.#tenants.get(event.tenant);
      if (index === undefined) continue;
      const frames = new EventFrames(event);
      const candidates = [
        event.sessionId === null ? undefined : index.bySession.get(event.sessionId),
        event.userId === null ? undefined : index.byUser.get(event.userId),
        index.byType.get(event.eventType),
        index.all,
      ];
      for (const set of candidates) {
        if (set === undefined) continue;
        for (const sub of set) {
          if (!matches(sub.filter, event)) continue;
          if (sub.catchup !== undefined) {
            sub.catchup.hold(event);
            continue;
          }
          if (sub.sink.cork !== undefined && !corked.has(sub.sink)) {
            corked.add(sub.sink);
            sub.sink.cork();
          }
          sub.queue.push(frames.for(sub.sink.encode));
        }
      }
    }
    for (const sink of corked) sink.uncork?.();
  }
}

/** One event's encodings, made on first use: usually one transport, rarely two or three. */
class EventFrames {
  readonly #event: LiveEvent;
  #encoder: FrameEncoder | undefined;
  #frame: Buffer | undefined;
  #others: Map<FrameEncoder, Buffer> | undefined;

  constructor(event: LiveEvent) {
    this.#event = event;
  }

  for(encode: FrameEncoder): Buffer {
    if (encode === this.#encoder) return this.#frame as Buffer;
    if (this.#encoder === undefined) {
      this.#encoder = encode;
      this.#frame = encode(this.#event);
      return this.#frame;
    }
    this.#others ??= new Map();
    let frame = this.#others.get(encode);
    if (frame === undefined) {
      frame = encode(this.#event);
      this.#others.set(encode, frame);
    }
    return frame;
  }
}

function indexKey(f: Filter): IndexKey {
  if (f.sessionId !== null) return { kind: 'session', key: f.sessionId };
  if (f.userId !== null) return { kind: 'user', key: f.userId };
  if (f.eventTypes.size > 0) return { kind: 'types', keys: [...f.eventTypes] };
  return { kind: 'all' };
}

function addTo(map: Map<string, Set<Subscription>>, key: string, sub: Subscription): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(sub);
}

function removeFrom(map: Map<string, Set<Subscription>>, key: string, sub: Subscription): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(sub);
  if (set.size === 0) map.delete(key);
}
