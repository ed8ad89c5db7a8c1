/**
 * @module delivery/sink
 * The little a delivery needs of a connection. WebSocket and (later) SSE transports implement
 * it; delivery code never sees a library's socket type.
 */
import type { LiveEvent } from '../domain/event.js';

/**
 * Turns an event into the bytes a transport writes. Sinks of one transport share one encoder
 * function, so a fan-out encodes each event once per transport, not once per subscriber.
 */
export type FrameEncoder = (event: Pick<LiveEvent, 'seq' | 'json'>) => Buffer;

export interface DeliverySink {
  readonly encode: FrameEncoder;
  /** A protocol message (`kind` names it, e.g. `caught_up`; `json` is its body) as bytes to write. */
  encodeMessage(kind: string, json: string): Buffer;
  /** Writes one encoded frame; false when the transport is over its buffer high-water mark. */
  write(frame: Buffer): boolean;
  /** Calls `cb` once when a write that returned false has drained. */
  onDrain(cb: () => void): void;
  /** Optional batching of writes across one fan-out (socket cork/uncork). */
  cork?(): void;
  uncork?(): void;
  close(code: number, reason: string): void;
}
