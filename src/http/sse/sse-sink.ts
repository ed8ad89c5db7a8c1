/**
 * @module http/sse/sse-sink
 * A Server-Sent Events response as a {@link DeliverySink}. Each stored event is one SSE message
 * whose `id:` is its `seq`, so a browser's EventSource resumes with `Last-Event-ID` by itself;
 * an ephemeral event has no `id:` line and leaves the resume position alone. Protocol messages
 * are named events (`event: caught_up`, `event: reset`, …). Backpressure is the response's own.
 */
import type { ServerResponse } from 'node:http';
import type { LiveEvent } from '../../domain/event.js';
import type { DeliverySink } from '../../delivery/sink.js';

/** The encoder every SSE sink shares, so a fan-out encodes each event once for all of them. */
export function sseEventFrame(event: Pick<LiveEvent, 'seq' | 'json'>): Buffer {
  return Buffer.from(event.seq === null ? `data: ${event.json}\n\n` : `id: ${String(event.seq)}\ndata: ${event.json}\n\n`);
}

export class SseSink implements DeliverySink {
  readonly #res: ServerResponse;
  readonly encode = sseEventFrame;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  encodeMessage(kind: string, json: string): Buffer {
    return Buffer.from(`event: ${kind}\ndata: ${json}\n\n`);
  }

  write(frame: Buffer): boolean {
    if (this.#res.writableEnded || this.#res.destroyed) return true;
    return this.#res.write(frame);
  }

  /** A comment line: keeps proxies and the browser from timing the stream out. */
  heartbeat(): void {
    if (!this.#res.writableEnded && !this.#res.destroyed && this.#res.writableLength === 0) this.#res.write(': heartbeat\n\n');
  }

  onDrain(cb: () => void): void {
    this.#res.once('drain', cb);
  }

  cork(): void {
    this.#res.cork();
  }

  uncork(): void {
    this.#res.uncork();
  }

  /** Ends the stream; the code and reason are not expressible in SSE and go to the server log only. */
  close(): void {
    if (!this.#res.writableEnded) this.#res.end();
  }
}
