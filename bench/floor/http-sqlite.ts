/**
 * The floor for REST ingest and history: a bare `node:http` server doing the same durable work
 * as ours with nothing else: parse the JSON body, insert into the same schema with the same
 * pragmas (WAL, synchronous=FULL), one transaction per event-loop turn, answer after commit.
 * No validation beyond JSON, no routing table, no limits, no fan-out. `POST …/batch` takes a
 * JSON array: its items join the same group commit (one transaction, one fsync) and the answer,
 * after the commit, is an array of `{"status":"ok","event_id":…,"seq":…}` as ours gives.
 * Env: PORT, DATABASE_PATH. Prints `{"port":N}` on stdout when listening.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/storage/sqlite/migrations/index.js';
import { DEFAULT_WAL_AUTOCHECKPOINT_PAGES } from '../../src/storage/sqlite/sqlite-event-store.js';

const db = new Database(process.env['DATABASE_PATH'] ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma(`wal_autocheckpoint = ${DEFAULT_WAL_AUTOCHECKPOINT_PAGES}`);
if ((db.pragma('user_version', { simple: true }) as number) === 0) {
  for (const m of MIGRATIONS) db.exec(m);
  db.pragma(`user_version = ${MIGRATIONS.length}`);
}
const insert = db.prepare('INSERT INTO events (seq, id, event_type, session_id, user_id, ts_us, body) VALUES (?, ?, ?, ?, ?, ?, ?)');
let seq = (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM events').get() as { s: number }).s;

type Input = { event_type: string; source: string; session_id?: string | null; user_id?: string | null; payload?: unknown };
interface Pending {
  /** One event (POST /events), or the items of a batch (POST /events/batch). */
  e: Input | Input[];
  res: ServerResponse;
}
let queue: Pending[] = [];
function store(e: Input): { id: string; seq: number; body: string } {
  const id = 'evt_' + randomBytes(6).toString('hex');
  const ts = Date.now() * 1000;
  const body = JSON.stringify({ id, event_type: e.event_type, source: e.source, session_id: e.session_id ?? null, user_id: e.user_id ?? null, payload: e.payload ?? {}, timestamp: new Date(ts / 1000).toISOString(), seq: ++seq });
  insert.run(seq, id, e.event_type, e.session_id ?? null, e.user_id ?? null, ts, body);
  return { id, seq, body };
}
const commit = db.transaction((batch: Pending[]) => {
  const out: string[] = [];
  for (const { e } of batch) {
    if (!Array.isArray(e)) {
      out.push(store(e).body);
      continue;
    }
    const acks = e.map((item) => {
      const r = store(item);
      return `{"status":"ok","event_id":"${r.id}","seq":${String(r.seq)}}`;
    });
    out.push('[' + acks.join(',') + ']');
  }
  return out;
});
function flush(): void {
  const batch = queue;
  queue = [];
  const bodies = commit(batch);
  for (let i = 0; i < batch.length; i++) {
    const b = bodies[i] as string;
    const p = batch[i] as Pending;
    p.res.writeHead(Array.isArray(p.e) ? 200 : 201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) }).end(b);
  }
}

const bySession = db.prepare("SELECT body FROM events WHERE tenant = 'default' AND session_id = ? ORDER BY seq DESC LIMIT ?").pluck();
const byType = db.prepare("SELECT body FROM events WHERE tenant = 'default' AND event_type = ? ORDER BY seq DESC LIMIT ?").pluck();

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    const url = new URL(req.url ?? '/', 'http://x');
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const session = url.searchParams.get('session_id');
    const rows = (session !== null ? bySession.all(session, limit) : byType.all(url.searchParams.get('event_type'), limit)) as string[];
    const body = '[' + rows.join(',') + ']';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const e = JSON.parse(Buffer.concat(chunks).toString()) as Pending['e'];
      if (Array.isArray(e) !== (req.url?.endsWith('/batch') === true)) throw new Error('a batch is an array, one event is not');
      if (queue.length === 0) setImmediate(flush);
      queue.push({ e, res });
    } catch {
      res.writeHead(422).end('{}');
    }
  });
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', port: typeof a === 'object' && a !== null ? a.port : 0 }) + '\n');
});
process.on('SIGTERM', () => {
  server.close();
  db.close();
  process.exit(0);
});
