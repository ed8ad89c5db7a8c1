/**
 * @module http/ws/frame
 * A complete server-to-client WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, no mask) in
 * one buffer, built once per event and written as-is to every subscriber's socket. With
 * permessage-deflate off, `ws` writes each of its own frames whole and keeps no queue, so
 * whole frames written beside it never interleave with its output.
 */
import type { LiveEvent } from '../../domain/event.js';

export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = n;
  else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** An event as a WebSocket text frame: the encoder every WebSocket sink shares. */
export function eventTextFrame(event: Pick<LiveEvent, 'json'>): Buffer {
  return textFrame(Buffer.from(event.json));
}
