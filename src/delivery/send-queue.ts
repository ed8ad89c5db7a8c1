/**
 * @module delivery/send-queue
 * A bounded per-subscriber queue in front of its socket. Frames go straight to the socket
 * while it keeps up; once the socket's own buffer is full they wait here, and when more than
 * `maxEvents` frames or `maxBytes` bytes wait, the subscriber is a slow consumer: the queue is
 * dropped, the connection is closed with {@link CloseCode.SLOW_CONSUMER}, and nobody else is
 * slowed down. Memory per subscriber is therefore bounded by the limits plus one socket buffer.
 */
import { CloseCode } from '../../protocol/close-codes.js';
import type { DeliverySink } from './sink.js';

/** Well above one commit's fan-out (at most 1000 events), so a keeping-up reader never trips it. */
export const DEFAULT_SUBSCRIBER_QUEUE_MAX_EVENTS = 10_000;
export const DEFAULT_SUBSCRIBER_QUEUE_MAX_BYTES = 4 * 1024 * 1024;

export interface SendQueueLimits {
  maxEvents: number;
  maxBytes: number;
}

export interface SendQueueObserver {
  /** Frames waiting changed by `delta` (positive or negative). */
  queued(delta: number): void;
  sent(n: number): void;
  /** The subscriber overflowed; `droppedFrames` were discarded. */
  slowConsumer(droppedFrames: number): void;
}

export class SendQueue {
  readonly #sink: DeliverySink;
  readonly #limits: SendQueueLimits;
  readonly #observer: SendQueueObserver;
  #frames: Buffer[] = [];
  #head = 0;
  #bytes = 0;
  #waitingForDrain = false;
  #closed = false;
  /** Control frames (caught_up, reset, …) waiting among the events: sent in order, not counted as deliveries. */
  #controls: WeakSet<Buffer> | undefined;
  #writableWaiters: (() => void)[] = [];

  constructor(sink: DeliverySink, limits: SendQueueLimits, observer: SendQueueObserver) {
    this.#sink = sink;
    this.#limits = limits;
    this.#observer = observer;
  }

  get length(): number {
    return this.#frames.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues or writes a frame; returns false when the subscriber was (or is now) closed. */
  push(frame: Buffer): boolean {
    if (this.#closed) return false;
    if (!this.#waitingForDrain) {
      this.#observer.sent(1);
      if (!this.#sink.write(frame)) this.#waitForDrain();
      return true;
    }
    this.#frames.push(frame);
    this.#bytes += frame.length;
    this.#observer.queued(1);
    if (this.length > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes) {
      this.#overflow();
      return false;
    }
    return true;
  }

  /** True while the socket is over its buffer limit and frames wait here. */
  get backlogged(): boolean {
    return this.#waitingForDrain;
  }

  /**
   * Queues a protocol message (not an event) behind the events already queued, so a client
   * sees it exactly where it belongs in the stream. Not counted as a delivery; never trips
   * the slow-consumer limits.
   */
  pushControl(frame: Buffer): void {
    if (this.#closed) return;
    if (!this.#waitingForDrain) {
      if (!this.#sink.write(frame)) this.#waitForDrain();
      return;
    }
    (this.#controls ??= new WeakSet()).add(frame);
    this.#frames.push(frame);
    this.#bytes += frame.length;
    this.#observer.queued(1);
  }

  /** Resolves once the socket has room again (at once if it has), or the queue is closed. */
  writable(): Promise<void> {
    if (!this.#waitingForDrain || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  /** Stops delivery and releases queued frames (the connection is going away). */
  discard(): number {
    const n = this.length;
    this.#closed = true;
    this.#release();
    this.#wakeWriters();
    return n;
  }

  #wakeWriters(): void {
    if (this.#writableWaiters.length === 0) return;
    const waiters = this.#writableWaiters;
    this.#writableWaiters = [];
    for (const w of waiters) w();
  }

  #overflow(): void {
    const dropped = this.discard();
    this.#observer.slowConsumer(dropped);
    this.#sink.close(CloseCode.SLOW_CONSUMER, 'slow consumer: send queue overflow');
  }

  #release(): void {
    if (this.length > 0) this.#observer.queued(-this.length);
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #waitForDrain(): void {
    this.#waitingForDrain = true;
    this.#sink.onDrain(() => this.#flush());
  }

  #flush(): void {
    this.#waitingForDrain = false;
    if (this.#closed) return;
    let sent = 0;
    let written = 0;
    let drained = true;
    this.#sink.cork?.();
    while (this.#head < this.#frames.length) {
      const frame = this.#frames[this.#head++] as Buffer;
      this.#bytes -= frame.length;
      written++;
      if (this.#controls?.has(frame) !== true) sent++;
      if (!this.#sink.write(frame)) {
        drained = false;
        break;
      }
    }
    this.#sink.uncork?.();
    this.#observer.queued(-written);
    this.#observer.sent(sent);
    if (this.#head === this.#frames.length) {
      this.#frames = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    if (!drained) this.#waitForDrain();
    else this.#wakeWriters();
  }
}
