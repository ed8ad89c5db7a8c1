/**
 * `npm run bench`: starts our server (compiled) and, beside it, the floor programs, on fresh
 * temporary databases; drives each from a separate client process over loopback; prints one
 * table with our figure, the floor's and their ratio; writes bench/results/latest.json.
 * `npm run bench -- --quick` runs every scenario briefly (a smoke check, no timing claims).
 * `--only=<substring>` runs the scenarios whose name contains it.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_TYPES } from '../protocol/event-types.js';
import { populate } from './lib/populate.js';
import { dropSchema, freshSchema, POSTGRES_URL, postgresMissing, REDIS_URL, redisMissing } from '../test/support/services.js';
import { ROOT, runClient, startProcess, type Proc } from './lib/procs.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const SECONDS = quick ? 2 : 10;
const HISTORY_EVENTS = quick ? 50_000 : 1_000_000;

interface Row {
  scenario: string;
  metric: string;
  ours: number;
  floor: number | null;
  /** Higher is better (throughput) or lower is better (latency, memory). */
  better: 'higher' | 'lower';
}
const rows: Row[] = [];
const work = mkdtempSync(join(tmpdir(), 'rep-bench-'));
let dbCounter = 0;
const freshDb = () => join(work, `db-${++dbCounter}.db`);

let historyDb: Promise<string> | undefined;
/** The database of HISTORY_EVENTS stored events, populated once and shared by the scenarios that only read it. */
function populatedDb(): Promise<string> {
  historyDb ??= (async () => {
    const db = freshDb();
    log(`populating ${HISTORY_EVENTS.toLocaleString('en-US')} events`);
    await populate(db, HISTORY_EVENTS, (n) => process.stderr.write(`  populated ${n}\r`));
    process.stderr.write('\n');
    return db;
  })();
  return historyDb;
}

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
}

async function withServer<T>(kind: Parameters<typeof startProcess>[0], fn: (p: Proc) => Promise<T>, db = freshDb(), env: Record<string, string> = {}): Promise<T> {
  const p = await startProcess(kind, db, env);
  try {
    return await fn(p);
  } finally {
    await p.stop();
  }
}

/** `n` instances of ours on a fresh PostgreSQL schema, sharing Redis; started one after another. */
async function withCluster<T>(n: number, fn: (nodes: Proc[]) => Promise<T>): Promise<T> {
  const schema = freshSchema('bench');
  const env = { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema, REDIS_URL, REDIS_PREFIX: schema };
  const nodes: Proc[] = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await startProcess('ours', freshDb(), env));
    return await fn(nodes);
  } finally {
    await Promise.all(nodes.map((p) => p.stop()));
    await dropSchema(schema);
  }
}

function record(scenario: string, metric: string, ours: number, floor: number | null, better: Row['better'] = 'higher'): void {
  rows.push({ scenario, metric, ours, floor, better });
  const ratio = floor === null ? '' : `  (${fmtRatio(ours, floor, better)} of floor)`;
  log(`${scenario} — ${metric}: ${fmt(ours)} vs floor ${floor === null ? '-' : fmt(floor)}${ratio}`);
}

const fmt = (n: number): string => (Number.isNaN(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const fmtRatio = (ours: number, floor: number, better: Row['better']): string => `${Math.round(((better === 'higher' ? ours / floor : floor / ours) || 0) * 100)}%`;

const scenarios: { name: string; run: () => Promise<void> }[] = [
  ...[1, 50].map((connections) => ({
    name: connections === 1 ? 'rest-post-sequential' : `rest-post-${connections}`,
    run: async () => {
      const args = (url: string) => ({ url, method: 'POST', connections, seconds: SECONDS });
      type R = { rps: number; p50: number; p99: number; non2xx: number };
      const ours = await withServer('ours', (p) => runClient<R>('rest', args(p.url)));
      const floor = await withServer('floor-http', (p) => runClient<R>('rest', args(p.url)));
      const name = connections === 1 ? 'REST POST, 1 connection, sequential' : `REST POST, ${connections} connections`;
      record(name, 'events/s', ours.rps, floor.rps);
      record(name, 'p50 ms', ours.p50, floor.p50, 'lower');
      record(name, 'p99 ms', ours.p99, floor.p99, 'lower');
    },
  })),
  ...[1, 10].map((connections) => ({
    name: `ws-publish-${connections}`,
    run: async () => {
      const args = (wsUrl: string) => ({ wsUrl, connections, seconds: SECONDS, window: Math.ceil(2000 / connections) });
      type R = { eventsPerSecond: number };
      const ours = await withServer('ours', (p) => runClient<R>('ws-publish', args(p.wsUrl)));
      const floor = await withServer('floor-ws', (p) => runClient<R>('ws-publish', args(p.wsUrl)));
      record(`WS publish, pipelined, ${connections} connection${connections > 1 ? 's' : ''}`, 'acked events/s', ours.eventsPerSecond, floor.eventsPerSecond);
    },
  })),
  {
    name: 'batch-ingest',
    run: async () => {
      type R = { rps: number; p99: number };
      const batch = 100;
      const args = (url: string) => ({ url, method: 'POST', connections: 10, seconds: SECONDS, batch });
      const ours = await withServer('ours', (p) => runClient<R>('rest', args(p.url)));
      const floor = await withServer('floor-http', (p) => runClient<R>('rest', args(p.url)));
      record(`REST batch publish, ${batch} events per request, 10 connections`, 'events/s', ours.rps * batch, floor.rps * batch);
      record(`REST batch publish, ${batch} events per request, 10 connections`, 'p99 ms', ours.p99, floor.p99, 'lower');
    },
  },
  ...[1, 100, 1000].map((subscribers) => ({
    name: `fanout-${subscribers}`,
    run: async () => {
      const args = (wsUrl: string) => ({ wsUrl, subscribers, mode: 'all', seconds: SECONDS, window: 500 });
      type R = { deliveriesPerSecond: number; eventsPerSecond: number };
      const ours = await withServer('ours', (p) => runClient<R>('fanout', args(p.wsUrl)));
      const floor = await withServer('floor-ws', (p) => runClient<R>('fanout', args(p.wsUrl)));
      record(`Fan-out, ${subscribers} subscriber${subscribers > 1 ? 's' : ''}, all matching`, 'deliveries/s', ours.deliveriesPerSecond, floor.deliveriesPerSecond);
    },
  })),
  {
    name: 'fanout-1000-own-session',
    run: async () => {
      type R = { deliveriesPerSecond: number; eventsPerSecond: number };
      const ours = await withServer('ours', (p) => runClient<R>('fanout', { wsUrl: p.wsUrl, subscribers: 1000, mode: 'own-session', seconds: SECONDS, window: 500 }));
      record('Fan-out, 1,000 subscribers, each its own session', 'deliveries/s', ours.deliveriesPerSecond, null);
    },
  },
  ...[1000, 5000].map((rate) => ({
    name: `latency-${rate}`,
    run: async () => {
      const args = (wsUrl: string) => ({ wsUrl, subscribers: 100, rate, seconds: SECONDS });
      type R = { p50: number; p99: number; p999: number; samples: number };
      const ours = await withServer('ours', (p) => runClient<R>('latency', args(p.wsUrl)));
      const floor = await withServer('floor-ws', (p) => runClient<R>('latency', args(p.wsUrl)));
      const name = `Publish → deliver at ${rate.toLocaleString('en-US')} events/s, 100 subscribers`;
      record(name, 'p50 ms', ours.p50, floor.p50, 'lower');
      record(name, 'p99 ms', ours.p99, floor.p99, 'lower');
      record(name, 'p99.9 ms', ours.p999, floor.p999, 'lower');
    },
  })),
  {
    name: 'history',
    run: async () => {
      const db = await populatedDb();
      const label = `${HISTORY_EVENTS.toLocaleString('en-US')} events`;
      type R = { rps: number; p50: number; p99: number; non2xx: number };
      const sessionPaths = Array.from({ length: 1000 }, (_, i) => `/api/v1/events?session_id=session-${i}&limit=100`);
      const typePaths = EVENT_TYPES.map((t) => `/api/v1/events?event_type=${t}&limit=100`);
      for (const [what, paths] of [['session', sessionPaths], ['event_type', typePaths]] as const) {
        const args = (url: string) => ({ url, method: 'GET', connections: 10, seconds: SECONDS, paths });
        const ours = await withServer('ours', (p) => runClient<R>('rest', args(p.url)), db);
        const floor = await withServer('floor-http', (p) => runClient<R>('rest', args(p.url)), db);
        record(`History, last 100 by ${what}, ${label}`, 'requests/s', ours.rps, floor.rps);
        record(`History, last 100 by ${what}, ${label}`, 'p99 ms', ours.p99, floor.p99, 'lower');
      }
      const stats = await withServer('ours', (p) => runClient<R>('rest', { url: p.url, method: 'GET', connections: 1, seconds: Math.min(SECONDS, 5), paths: ['/api/v1/stats'] }), db);
      record(`GET /stats, ${label}`, 'requests/s', stats.rps, null);
      record(`GET /stats, ${label}`, 'p99 ms', stats.p99, null, 'lower');
    },
  },
  {
    name: 'replay',
    run: async () => {
      // Reads only: the history database when that scenario ran, else populated here.
      const db = await populatedDb();
      const label = `${HISTORY_EVENTS.toLocaleString('en-US')} stored events`;
      type R = { eventsPerSecond: number; rounds: { events: number; ms: number }[] };
      // populate() spreads events over 1,000 sessions: one session holds 0.1% of them.
      const variants = [
        { name: `Replay (catch-up) from earliest, ${label}`, filter: {}, expected: HISTORY_EVENTS },
        { name: `Replay (catch-up) from earliest, one session_id (0.1%), ${label}`, filter: { session_id: 'session-7' }, expected: HISTORY_EVENTS / 1000 },
      ];
      for (const v of variants) {
        const args = (wsUrl: string) => ({ wsUrl, filter: v.filter, rounds: 3, expected: v.expected });
        const ours = await withServer('ours', (p) => runClient<R>('replay', args(p.wsUrl)), db);
        const floor = await withServer('floor-ws', (p) => runClient<R>('replay', args(p.wsUrl)), db);
        record(v.name, 'events/s', ours.eventsPerSecond, floor.eventsPerSecond);
      }
    },
  },
  {
    name: 'cluster',
    run: async () => {
      const missing = (await postgresMissing()) ?? (await redisMissing());
      if (missing !== undefined) {
        log(`cluster scenarios skipped: ${missing}`);
        return;
      }
      type Ingest = { eventsPerSecond: number };
      const ingestArgs = (wsUrls: string[]) => ({ wsUrl: wsUrls[0], wsUrls, connections: 12, seconds: SECONDS, window: 200 });
      // The floor: a bare ws server doing the same durable, globally ordered PostgreSQL insert.
      const floorSchema = freshSchema('bench_floor');
      const floor = await withServer('floor-ws-postgres', (p) => runClient<Ingest>('ws-publish', ingestArgs([p.wsUrl])), freshDb(), { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: floorSchema });
      await dropSchema(floorSchema);
      for (const n of [1, 2, 3]) {
        const ours = await withCluster(n, (nodes) => runClient<Ingest>('ws-publish', ingestArgs(nodes.map((p) => p.wsUrl))));
        record(`Cluster ingest on PostgreSQL + Redis, ${n} instance${n > 1 ? 's' : ''}, WS pipelined, 12 connections`, 'acked events/s', ours.eventsPerSecond, floor.eventsPerSecond);
      }
      type Latency = { p50: number; p99: number; p999: number };
      const latency = await withCluster(2, ([a, b]) =>
        runClient<Latency>('latency', { wsUrl: (b as Proc).wsUrl, publishWsUrl: (a as Proc).wsUrl, subscribers: 100, rate: 1000, seconds: SECONDS }),
      );
      const name = 'Cluster: publish on A → deliver on B at 1,000 events/s, 100 subscribers';
      record(name, 'p50 ms', latency.p50, null, 'lower');
      record(name, 'p99 ms', latency.p99, null, 'lower');
    },
  },
  {
    name: 'idle-subscribers',
    run: async () => {
      const subscribers = quick ? 1000 : 10_000;
      type R = { rssMb: number; subscribed: number };
      const ours = await withServer('ours', (p) => runClient<R>('idle', { wsUrl: p.wsUrl, subscribers, pid: p.proc.pid }));
      const floor = await withServer('floor-ws', (p) => runClient<R>('idle', { wsUrl: p.wsUrl, subscribers, pid: p.proc.pid }));
      record(`Memory, ${subscribers.toLocaleString('en-US')} idle subscribers`, 'RSS MB', ours.rssMb, floor.rssMb, 'lower');
    },
  },
];

async function main(): Promise<void> {
  log('building the server (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const started = new Date();
  for (const s of scenarios) {
    if (only !== undefined && !s.name.includes(only)) continue;
    log(`▶ ${s.name}`);
    await s.run();
  }
  const machine = `${String(cpus().length)} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`;
  const lines = [
    `Run ${started.toISOString()} on ${machine}${quick ? ' — QUICK (smoke check, not for comparison)' : ''}`,
    '',
    '| Scenario | Metric | Ours | Floor | Ours / floor |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.scenario} | ${r.metric} | ${fmt(r.ours)} | ${r.floor === null ? '-' : fmt(r.floor)} | ${r.floor === null ? '-' : fmtRatio(r.ours, r.floor, r.better)} |`),
  ];
  process.stdout.write('\n' + lines.join('\n') + '\n');
  process.stdout.write('\nOurs / floor: for throughput ours ÷ floor, for latency and memory floor ÷ ours (100% = as good as the floor).\n');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify({ started: started.toISOString(), machine, quick, rows }, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  rmSync(work, { recursive: true, force: true });
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
