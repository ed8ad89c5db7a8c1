/**
 * @module http/client-address
 * Who a request counts against for per-address limits. The peer address, unless the peer is a
 * configured trusted proxy: then `X-Forwarded-For` is read from the right, skipping trusted
 * proxies, and the first address that is not one is the client. Anything a client could forge
 * (the leftmost entries) is never believed on its own.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export type ClientAddressOf = (req: IncomingMessage) => string;

/** `::ffff:1.2.3.4` and `1.2.3.4` are the same client. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddressOf {
  const trusted = new Set(trustedProxies.map(normalise));
  return (req) => {
    const peer = normalise(req.socket.remoteAddress ?? 'unknown');
    if (trusted.size === 0 || !trusted.has(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((h) => normalise(h.trim()))
      .filter((h) => h !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (isIP(hop) === 0) return peer; // a garbled chain: count it against the proxy itself
      if (!trusted.has(hop)) return hop;
    }
    return peer;
  };
}
