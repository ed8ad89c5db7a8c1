/**
 * Pipelined WebSocket ingest: each connection keeps `window` events in flight and counts acks.
 * Args: {wsUrl, connections, seconds, window, wsUrls?}: with `wsUrls` (several instances), the
 * connections are spread over them in turn. Prints {eventsPerSecond, acked, errors}.
 */
import { openSocket } from '../lib/ws.js';
import { sampleEvent } from '../lib/event.js';

interface Args {
  wsUrl: string;
  connections: number;
  seconds: number;
  window: number;
  wsUrls?: string[];
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const frames = Array.from({ length: 1000 }, (_, i) => JSON.stringify(sampleEvent(i)));
let acked = 0;
let errors = 0;
let running = true;

const sockets = await Promise.all(
  Array.from({ length: args.connections }, (_, i) => openSocket(`${args.wsUrls?.[i % args.wsUrls.length] ?? args.wsUrl}/ws/publish`)),
);
const start = performance.now();
let sent = 0;
for (const ws of sockets) {
  ws.on('message', (data: Buffer) => {
    if (data[11] === 111 /* "ok" */) acked++;
    else errors++;
    if (running) ws.send(frames[sent++ % frames.length] as string);
  });
  for (let k = 0; k < args.window; k++) ws.send(frames[sent++ % frames.length] as string);
}
const progress = setInterval(() => process.stderr.write(`  ws-publish: ${acked} acked\r`), 1000);
await new Promise((r) => setTimeout(r, args.seconds * 1000));
running = false;
const elapsed = (performance.now() - start) / 1000;
const ackedAtStop = acked;
clearInterval(progress);
process.stderr.write('\n');
for (const ws of sockets) ws.terminate();
process.stdout.write(JSON.stringify({ eventsPerSecond: ackedAtStop / elapsed, acked: ackedAtStop, errors }) + '\n');
process.exit(0);
