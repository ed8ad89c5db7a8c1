/**
 * @module http/ws/publish-connection
 * `/ws/publish`: each text message is one event; each is answered with exactly one message,
 * in the order received, also when the client pipelines. An ack is sent only after its event
 * is durable. Reading pauses while too many events from this socket await their commit.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { PipelineError, rateLimited } from '../../domain/errors.js';
import { ackToWire, assertBatchSize, batchResultToWire, type IngestService } from '../../ingest/ingest-service.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { Logger } from '../../log/logger.js';
import { errorFields } from '../../log/logger.js';
import type { PipelineCounters } from '../../stats/counters.js';
import { checkPublisher } from '../../auth/narrowing.js';
import { rateKeyOf, type Principal } from '../../auth/principal.js';
import type { Connection } from './connection.js';
import { wsErrorMessage } from './error-message.js';
import { rawDataToBuffer, type RawData } from './raw-data.js';

/** Unacknowledged events per socket before reading pauses (resumes at half). */
export const MAX_IN_FLIGHT_PER_SOCKET = 2048;

export interface PublishDeps {
  ingest: IngestService;
  rateLimiter: RateLimiter;
  counters: PipelineCounters;
  maxMessageBytes: number;
  log: Logger;
}

export class PublishConnection implements Connection {
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  /** Whom rate limits count against (see auth/principal.ts rateKeyOf). */
  readonly #client: string;
  readonly #principal: Principal;
  readonly #deps: PublishDeps;
  /** Replies in arrival order; undefined while the event awaits its commit. */
  #replies: (string | undefined)[] = [];
  #head = 0;
  #paused = false;
  #corked = false;
  #idle: (() => void) | undefined;

  constructor(ws: WebSocket, socket: Socket, client: string, principal: Principal, deps: PublishDeps) {
    this.#ws = ws;
    this.#socket = socket;
    this.#client = rateKeyOf(principal, client);
    this.#principal = principal;
    this.#deps = deps;
    deps.counters.wsPublishers++;
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.once('close', () => {
      deps.counters.wsPublishers--;
      this.#idle?.();
    });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const slot = this.#replies.length;
    this.#replies.push(undefined);
    if (!this.#paused && this.#inFlight() >= MAX_IN_FLIGHT_PER_SOCKET) {
      this.#paused = true;
      this.#ws.pause();
    }
    const reply = (text: string): void => {
      this.#replies[slot] = text;
      this.#flush();
    };
    const bytes = rawDataToBuffer(data);
    const rate = this.#deps.rateLimiter.take(this.#client, 'publish');
    if (!rate.ok) {
      reply(wsErrorMessage(rateLimited(rate.retryAfterSeconds)));
      return;
    }
    if (bytes.length > this.#deps.maxMessageBytes) {
      reply(wsErrorMessage(new PipelineError('INGEST_MESSAGE_TOO_LARGE', 'Message too large')));
      return;
    }
    if (isBinary) {
      reply(wsErrorMessage(new PipelineError('INGEST_BINARY_FRAME', 'Binary frames are not supported; send each event as a JSON text message')));
      return;
    }
    let input: unknown;
    try {
      input = JSON.parse(bytes.toString('utf8'));
    } catch {
      reply(wsErrorMessage(new PipelineError('REQUEST_JSON_INVALID', 'Invalid JSON')));
      return;
    }
    if (Array.isArray(input)) {
      this.#publishBatch(
        input.map((item: unknown) => checkPublisher(this.#principal, item) ?? item),
        reply,
      );
      return;
    }
    const notAllowed = checkPublisher(this.#principal, input);
    if (notAllowed !== undefined) {
      reply(wsErrorMessage(notAllowed));
      return;
    }
    this.#deps.ingest.publish(this.#principal.tenant, input, 'event').then(
      (a) => reply(a.duplicate ? JSON.stringify(ackToWire(a)) : `{"status":"ok","event_id":"${a.id}","seq":${String(a.seq)}}`),
      (err: unknown) => reply(this.#failure(err)),
    );
  }

  /** A rejected publish as a reply; anything but a PipelineError is a bug, logged, not shown. */
  #failure(err: unknown): string {
    if (err instanceof PipelineError) return wsErrorMessage(err);
    this.#deps.log.error('publish failed', errorFields(err));
    return wsErrorMessage(new PipelineError('INTERNAL', 'Internal error'));
  }

  /**
   * A commit resolves a whole batch of acks, each in its own microtask; corking the socket
   * until the next tick sends them in one write instead of one write each.
   */
  #corkUntilTick(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#socket.uncork();
    });
  }

  /** An array frame is a batch: one array of results answers it. */
  #publishBatch(items: unknown[], reply: (text: string) => void): void {
    try {
      assertBatchSize(items.length, 'event');
    } catch (err) {
      reply(this.#failure(err));
      return;
    }
    const rate = items.length > 1 ? this.#deps.rateLimiter.take(this.#client, 'publish', items.length - 1) : ({ ok: true } as const);
    if (!rate.ok) {
      reply(wsErrorMessage(rateLimited(rate.retryAfterSeconds)));
      return;
    }
    this.#deps.ingest.publishBatch(this.#principal.tenant, items, 'event').then(
      (results) => reply(JSON.stringify(results.map(batchResultToWire))),
      (err: unknown) => reply(this.#failure(err)),
    );
  }

  #inFlight(): number {
    return this.#replies.length - this.#head;
  }

  #flush(): void {
    while (this.#head < this.#replies.length) {
      const text = this.#replies[this.#head];
      if (text === undefined) break;
      this.#replies[this.#head++] = undefined;
      if (this.#ws.readyState !== this.#ws.OPEN) continue;
      this.#corkUntilTick();
      this.#ws.send(text);
    }
    if (this.#head === this.#replies.length) {
      this.#replies = [];
      this.#head = 0;
      this.#idle?.();
    }
    if (this.#paused && this.#inFlight() < MAX_IN_FLIGHT_PER_SOCKET / 2) {
      this.#paused = false;
      this.#ws.resume();
    }
  }

  /** Waits until every message received so far is answered, then closes with `code`. */
  async shutdown(code: number, reason: string): Promise<void> {
    this.#ws.pause();
    if (this.#inFlight() > 0 && this.#ws.readyState === this.#ws.OPEN) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
      });
    }
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(code, reason);
  }
}
