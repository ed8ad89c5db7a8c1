/**
 * @module http/ws/ws-sink
 * A `ws` socket as a {@link DeliverySink}. Backpressure is read from the TCP socket itself:
 * a write returns false once the socket's buffer passes its high-water mark.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { DeliverySink } from '../../delivery/sink.js';

export class WsSink implements DeliverySink {
  readonly #ws: WebSocket;
  readonly #socket: Socket;

  constructor(ws: WebSocket, socket: Socket) {
    this.#ws = ws;
    this.#socket = socket;
  }

  write(frame: Buffer): boolean {
    if (this.#ws.readyState !== this.#ws.OPEN) return true;
    this.#ws.send(frame, { binary: false });
    return !this.#socket.writableNeedDrain;
  }

  /** Sends a control or status message (not counted as a delivery). */
  sendText(text: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  onDrain(cb: () => void): void {
    this.#socket.once('drain', cb);
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  close(code: number, reason: string): void {
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING) this.#ws.close(code, reason);
  }
}
