/**
 * Fan-out: `subscribers` sockets (every one matching everything, or each its own session),
 * one pipelined publisher; counts frames delivered to subscribers per second.
 * Args: {wsUrl, subscribers, mode: 'all'|'own-session', seconds, window}.
 * Prints {deliveriesPerSecond, eventsPerSecond, delivered, published}.
 */
import type { WebSocket } from 'ws';
import { openSocket } from '../lib/ws.js';
import { sampleEvent } from '../lib/event.js';

interface Args {
  wsUrl: string;
  subscribers: number;
  mode: 'all' | 'own-session';
  seconds: number;
  window: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let delivered = 0;

const open = (path: string): Promise<WebSocket> => openSocket(`${args.wsUrl}${path}`);

const subs: WebSocket[] = [];
for (let s = 0; s < args.subscribers; s += 100) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(100, args.subscribers - s) }, async (_, k) => {
      const ws = await open('/ws/subscribe');
      await new Promise<void>((resolve) => {
        ws.once('message', () => resolve());
        ws.send(JSON.stringify(args.mode === 'all' ? {} : { session_id: `session-${s + k}` }));
      });
      ws.on('message', () => delivered++);
      return ws;
    }),
  );
  subs.push(...batch);
}
const sessions = args.mode === 'all' ? 100 : args.subscribers;
const frames = Array.from({ length: sessions }, (_, i) => JSON.stringify(sampleEvent(i, sessions)));
const pub = await open('/ws/publish');
let published = 0;
let sent = 0;
let running = true;
pub.on('message', () => {
  published++;
  if (running) pub.send(frames[sent++ % frames.length] as string);
});
const start = performance.now();
for (let k = 0; k < args.window; k++) pub.send(frames[sent++ % frames.length] as string);
const progress = setInterval(() => process.stderr.write(`  fan-out ${args.subscribers} (${args.mode}): ${delivered} delivered\r`), 1000);
await new Promise((r) => setTimeout(r, args.seconds * 1000));
const elapsed = (performance.now() - start) / 1000;
const d = delivered;
const p = published;
running = false;
clearInterval(progress);
process.stderr.write('\n');
pub.terminate();
for (const s of subs) s.terminate();
process.stdout.write(JSON.stringify({ deliveriesPerSecond: d / elapsed, eventsPerSecond: p / elapsed, delivered: d, published: p }) + '\n');
process.exit(0);
