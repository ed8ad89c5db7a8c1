/**
 * Replay (catch-up) speed: opens a subscriber with `{"from":"earliest"}` (plus an optional
 * filter), and times from sending that config to receiving `{"type":"caught_up"}`, counting the
 * stored events received in between. Checks that they arrive in increasing `seq` order and, when
 * `expected` is given, that exactly that many arrived. Repeats `rounds` times, each on a new
 * socket, one after the other. Args: {wsUrl, filter?, rounds, expected?}.
 * Prints {eventsPerSecond (median round), rounds: [{events, ms, eventsPerSecond}]}.
 */
import { openSocket } from '../lib/ws.js';

interface Args {
  wsUrl: string;
  filter?: Record<string, unknown>;
  rounds: number;
  expected?: number;
}
interface Round {
  events: number;
  ms: number;
  eventsPerSecond: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const CAUGHT_UP = Buffer.from('{"type":"caught_up"');

/** The `seq` of a stored event's JSON, which ends with `"seq":N}` (read from the bytes). */
function seqAtEnd(data: Buffer): number {
  let seq = 0;
  let scale = 1;
  for (let i = data.length - 2; i >= 0; i--) {
    const c = data[i] as number;
    if (c < 48 || c > 57) break;
    seq += (c - 48) * scale;
    scale *= 10;
  }
  return seq;
}

async function round(): Promise<Round> {
  const ws = await openSocket(`${args.wsUrl}/ws/subscribe`);
  const config = JSON.stringify({ ...args.filter, from: 'earliest' });
  return new Promise<Round>((resolve, reject) => {
    let acked = false;
    let events = 0;
    let lastSeq = 0;
    const start = performance.now();
    ws.on('message', (data: Buffer) => {
      if (!acked) {
        const ack = JSON.parse(data.toString()) as { status?: string };
        if (ack.status !== 'subscribed') reject(new Error(`expected the subscribed ack, got ${data.toString()}`));
        acked = true;
        return;
      }
      if (data.length >= CAUGHT_UP.length && data.subarray(0, CAUGHT_UP.length).equals(CAUGHT_UP)) {
        const ms = performance.now() - start;
        ws.terminate();
        if (args.expected !== undefined && events !== args.expected) reject(new Error(`expected ${String(args.expected)} events before caught_up, got ${String(events)}`));
        resolve({ events, ms, eventsPerSecond: (events * 1000) / ms });
        return;
      }
      const seq = seqAtEnd(data);
      if (seq <= lastSeq) {
        ws.terminate();
        reject(new Error(`seq ${String(seq)} after ${String(lastSeq)}: ${data.toString().slice(0, 200)}`));
        return;
      }
      lastSeq = seq;
      events++;
    });
    ws.once('close', (code) => reject(new Error(`socket closed (${String(code)}) after ${String(events)} events, before caught_up`)));
    ws.send(config);
  });
}

const rounds: Round[] = [];
for (let r = 0; r < args.rounds; r++) {
  const result = await round();
  rounds.push(result);
  process.stderr.write(`  replay round ${String(r + 1)}: ${String(result.events)} events in ${result.ms.toFixed(1)} ms\n`);
}
const sorted = rounds.map((r) => r.eventsPerSecond).sort((a, b) => a - b);
const eventsPerSecond = sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
process.stdout.write(JSON.stringify({ eventsPerSecond, rounds }) + '\n');
process.exit(0);
