/**
 * Memory with idle subscribers: opens `subscribers` sockets, each subscribed to its own
 * session, then reads the server's resident memory. Args: {wsUrl, subscribers, pid}.
 * Prints {rssMb, subscribed}.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';

interface Args {
  wsUrl: string;
  subscribers: number;
  pid: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const sockets: WebSocket[] = [];
let subscribed = 0;
for (let s = 0; s < args.subscribers; s += 200) {
  await Promise.all(
    Array.from({ length: Math.min(200, args.subscribers - s) }, (_, k) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${args.wsUrl}/ws/subscribe`, { perMessageDeflate: false });
        ws.once('open', () => ws.send(JSON.stringify({ session_id: `idle-${s + k}` })));
        ws.once('message', () => {
          subscribed++;
          resolve();
        });
        ws.once('error', reject);
        sockets.push(ws);
      }),
    ),
  );
  if (s % 2000 === 0) process.stderr.write(`  idle: ${subscribed} subscribed\r`);
}
process.stderr.write('\n');
await new Promise((r) => setTimeout(r, 2000));
const status = readFileSync(`/proc/${String(args.pid)}/status`, 'utf8');
const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
for (const ws of sockets) ws.terminate();
process.stdout.write(JSON.stringify({ rssMb, subscribed }) + '\n');
process.exit(0);
