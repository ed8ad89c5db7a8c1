/**
 * @module http/ws/subscribe-connection
 * `/ws/subscribe`: the first message is the filter configuration; matching events then arrive
 * as bare event objects. `ping`, `update_filters` and keepalives as in the original protocol.
 * An invalid configuration is answered with an error and subscribes to nothing; an invalid
 * `update_filters` is answered with an error and leaves the current filters in place.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../protocol/close-codes.js';
import type { SubscribeServerMessage } from '../../../protocol/messages.js';
import { PipelineError, rateLimited } from '../../domain/errors.js';
import { filterToWire, parseSubscribeRequest } from '../../domain/filter.js';
import type { Subscription } from '../../delivery/router.js';
import type { SubscriptionService } from '../../delivery/subscription-service.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import { checkScopeOfInterest } from '../../auth/narrowing.js';
import { rateKeyOf, type Principal } from '../../auth/principal.js';
import type { Connection } from './connection.js';
import { wsErrorMessage } from './error-message.js';
import { rawDataToBuffer, type RawData } from './raw-data.js';
import { WsSink } from './ws-sink.js';

export interface SubscribeDeps {
  subscriptions: SubscriptionService;
  rateLimiter: RateLimiter;
  maxMessageBytes: number;
  subscribeTimeoutMs: number;
  keepaliveIntervalMs: number;
}

/** How often a closing subscriber's queue is checked during shutdown. */
const SHUTDOWN_POLL_MS = 20;

export class SubscribeConnection implements Connection {
  readonly #ws: WebSocket;
  readonly #sink: WsSink;
  readonly #client: string;
  readonly #principal: Principal;
  readonly #deps: SubscribeDeps;
  #sub: Subscription | undefined;
  #subscribeTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, socket: Socket, client: string, principal: Principal, deps: SubscribeDeps) {
    this.#ws = ws;
    this.#sink = new WsSink(ws, socket);
    this.#client = rateKeyOf(principal, client);
    this.#principal = principal;
    this.#deps = deps;
    this.#subscribeTimer = setTimeout(() => {
      this.#sink.close(CloseCode.SUBSCRIBE_TIMEOUT, 'no filter configuration received in time');
    }, deps.subscribeTimeoutMs);
    this.#armKeepalive();
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.once('close', () => this.#onClose());
  }

  #send(msg: SubscribeServerMessage): void {
    this.#sink.sendText(JSON.stringify(msg));
  }

  #sendError(err: PipelineError): void {
    this.#sink.sendText(wsErrorMessage(err));
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.#armKeepalive();
    const bytes = rawDataToBuffer(data);
    let msg: unknown;
    try {
      if (isBinary || bytes.length > this.#deps.maxMessageBytes) throw new Error('unreadable');
      msg = JSON.parse(bytes.toString('utf8'));
    } catch {
      // Once subscribed, unreadable messages are ignored (the original's behaviour).
      if (this.#sub === undefined) this.#sendError(new PipelineError('REQUEST_JSON_INVALID', 'Invalid JSON'));
      return;
    }
    const type = msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? (msg as { type?: unknown }).type : undefined;
    if (type === 'ping') {
      this.#send({ type: 'pong' });
      return;
    }
    if (this.#sub !== undefined && type !== 'update_filters') return;
    const rate = this.#deps.rateLimiter.take(this.#client, 'query');
    if (!rate.ok) {
      this.#sendError(rateLimited(rate.retryAfterSeconds));
      return;
    }
    const filterInput = type === 'update_filters' ? (msg as { filters?: unknown }).filters : msg;
    const request = parseSubscribeRequest(filterInput, type === 'update_filters' ? 'filters' : 'config');
    if (request instanceof PipelineError) {
      this.#sendError(request);
      return;
    }
    const { filter, from } = request;
    const outside = checkScopeOfInterest(this.#principal, filter);
    if (outside !== undefined) {
      this.#sendError(outside);
      return;
    }
    if (this.#sub !== undefined) {
      // In order with queued events, so the client knows where the new filters begin.
      this.#deps.subscriptions.sendInOrder(this.#sub, 'filters_updated', { status: 'filters_updated', filters: filterToWire(filter) });
      this.#deps.subscriptions.setFilter(this.#sub, filter, from);
      return;
    }
    if (this.#deps.subscriptions.full) {
      this.#sendError(new PipelineError('SUBSCRIBE_LIMIT_REACHED', 'Too many subscribers on this server; try again later'));
      this.#sink.close(CloseCode.TOO_MANY_SUBSCRIBERS, 'subscriber limit reached');
      return;
    }
    clearTimeout(this.#subscribeTimer);
    this.#subscribeTimer = undefined;
    // Registering and acknowledging happen in one synchronous step: no event can precede the ack.
    const head = this.#deps.subscriptions.head;
    this.#sub = this.#deps.subscriptions.open(this.#sink, this.#principal.tenant, filter, from);
    this.#send({ status: 'subscribed', subscriber_id: this.#sub.id, filters: filterToWire(filter), head_seq: head });
  }

  #armKeepalive(): void {
    clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = setTimeout(() => {
      this.#send({ type: 'keepalive' });
      this.#armKeepalive();
    }, this.#deps.keepaliveIntervalMs);
    this.#keepaliveTimer.unref();
  }

  #onClose(): void {
    clearTimeout(this.#subscribeTimer);
    clearTimeout(this.#keepaliveTimer);
    if (this.#sub !== undefined) this.#deps.subscriptions.close(this.#sub);
    this.#sub = undefined;
  }

  /** Lets queued deliveries drain (the caller bounds the wait), then closes with `code`. */
  async shutdown(code: number, reason: string): Promise<void> {
    while (this.#sub !== undefined && this.#sub.queue.length > 0 && this.#ws.readyState === this.#ws.OPEN) {
      await new Promise((r) => {
        setTimeout(r, SHUTDOWN_POLL_MS);
      });
    }
    this.#sink.close(code, reason);
  }
}
