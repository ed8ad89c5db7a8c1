/**
 * @module http/ws/ws-sink
 * A `ws` socket as a {@link DeliverySink}. Event frames are pre-built (see frame.ts) and written
 * straight to the TCP socket; backpressure is read from that socket: a write returns false once
 * its user-space buffer holds {@link SOCKET_BUFFER_LIMIT_BYTES}. That is well above Node's
 * 16 KiB high-water mark, so one corked fan-out batch fits without tripping it, and a socket over
 * it always has a 'drain' pending. Control messages go through `ws` as usual.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { DeliverySink } from '../../delivery/sink.js';
import { eventTextFrame, textFrame } from './frame.js';

export const SOCKET_BUFFER_LIMIT_BYTES = 512 * 1024;

export class WsSink implements DeliverySink {
  readonly #ws: WebSocket;
  readonly #socket: Socket;

  readonly encode = eventTextFrame;

  encodeMessage(_kind: string, json: string): Buffer {
    return textFrame(Buffer.from(json));
  }

  constructor(ws: WebSocket, socket: Socket) {
    this.#ws = ws;
    this.#socket = socket;
  }

  write(frame: Buffer): boolean {
    if (this.#ws.readyState !== this.#ws.OPEN) return true;
    this.#socket.write(frame);
    return this.#socket.writableLength < SOCKET_BUFFER_LIMIT_BYTES;
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
