/**
 * Publish → deliver latency, open loop: events are published over WebSocket at a fixed rate on
 * a schedule, each carrying its scheduled send time; every subscriber records receive time
 * minus scheduled time, so a stalled server shows up in full (no coordinated omission).
 * Args: {wsUrl, subscribers, rate, seconds, publishWsUrl?}. Prints {p50, p99, p999, samples, sent}.
 */
import type { WebSocket } from 'ws';
import { openSocket } from '../lib/ws.js';
import { Samples } from '../lib/percentiles.js';

interface Args {
  wsUrl: string;
  /** Publish here instead (another instance of a cluster); subscribers stay on `wsUrl`. */
  publishWsUrl?: string;
  subscribers: number;
  rate: number;
  seconds: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const samples = new Samples();
const WARMUP_MS = 1000;

const open = (path: string): Promise<WebSocket> => openSocket(`${args.wsUrl}${path}`);

let measureFrom = Infinity;
for (let s = 0; s < args.subscribers; s++) {
  const ws = await open('/ws/subscribe');
  await new Promise<void>((resolve) => {
    ws.once('message', () => resolve());
    ws.send(JSON.stringify({ session_id: 'latency' }));
  });
  ws.on('message', (data: Buffer) => {
    const now = performance.now();
    const text = data.toString('latin1');
    const at = text.indexOf('"t":');
    if (at < 0) return;
    const t = parseFloat(text.slice(at + 4));
    if (t >= measureFrom) samples.add(now - t);
  });
}
const pub = await openSocket(`${args.publishWsUrl ?? args.wsUrl}/ws/publish`);
const start = performance.now() + 50;
measureFrom = start + WARMUP_MS;
const total = Math.floor(args.rate * (args.seconds + WARMUP_MS / 1000));
let i = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now();
    while (i < total && start + (i * 1000) / args.rate <= now) {
      const t = start + (i * 1000) / args.rate;
      // A stored type: timer_tick is ephemeral by default in our server (never stored), which the floor cannot tell.
      pub.send(`{"event_type":"answer_submitted","source":"bench","session_id":"latency","user_id":"u","payload":{"t":${t}}}`);
      i++;
    }
    if (i >= total) resolve();
    else setImmediate(tick);
  };
  setImmediate(tick);
});
await new Promise((r) => setTimeout(r, 1000));
const [p50, p99, p999] = samples.percentiles([50, 99, 99.9]);
process.stdout.write(JSON.stringify({ p50, p99, p999, samples: samples.count, sent: i }) + '\n');
process.exit(0);
