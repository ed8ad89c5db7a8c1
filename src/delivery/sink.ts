/**
 * @module delivery/sink
 * The little a delivery needs of a connection. WebSocket and (later) SSE transports implement
 * it; delivery code never sees a library's socket type.
 */
export interface DeliverySink {
  /** Writes one text frame; false when the transport is over its buffer high-water mark. */
  write(frame: Buffer): boolean;
  /** Calls `cb` once when a write that returned false has drained. */
  onDrain(cb: () => void): void;
  /** Optional batching of writes across one fan-out (socket cork/uncork). */
  cork?(): void;
  uncork?(): void;
  close(code: number, reason: string): void;
}
