/**
 * The floor for durable ingest on PostgreSQL: a bare `ws` server whose `/ws/publish` parses
 * each message and, once per event-loop turn, stores everything received in one transaction
 * with the same global-order protocol as ours (transaction-level advisory lock, head read from
 * `meta`, one multi-row insert, head written back), then acks. No validation, tenants,
 * counters, idempotency or fan-out: what is left is the database round trips and the commit.
 * Env: PORT, DATABASE_URL, DATABASE_SCHEMA (the tables are made by our migrations).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { APPEND_LOCK, migrate } from '../../src/storage/postgres/migrations.js';
import { createPool, ensureSchema } from '../../src/storage/postgres/pool.js';

const url = process.env['DATABASE_URL'] ?? '';
const schema = process.env['DATABASE_SCHEMA'];
if (schema !== undefined) await ensureSchema(url, schema);
const pool = createPool({ url, ...(schema === undefined ? {} : { schema }), maxConnections: 2 });
const setup = await pool.connect();
await migrate(setup);
setup.release();

interface Pending {
  ws: WebSocket;
  e: { event_type: string; source: string; session_id?: string | null; user_id?: string | null; payload?: unknown };
}
let queue: Pending[] = [];
let flushing = false;

async function flush(): Promise<void> {
  if (flushing || queue.length === 0) return;
  flushing = true;
  const batch = queue;
  queue = [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    const head = (await client.query<{ value: number }>("SELECT value FROM meta WHERE key = 'head_seq'")).rows[0]?.value ?? 0;
    const now = Date.now() * 1000;
    const rows = batch.map(({ e }, i) => {
      const id = 'evt_' + randomBytes(6).toString('hex');
      const seq = head + i + 1;
      const body = JSON.stringify({ id, event_type: e.event_type, source: e.source, session_id: e.session_id ?? null, user_id: e.user_id ?? null, payload: e.payload ?? {}, timestamp: new Date().toISOString(), seq });
      return { seq, id, e, body };
    });
    await client.query(
      `INSERT INTO events (seq, id, tenant, event_type, session_id, user_id, ts_us, body)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])`,
      [rows.map((r) => r.seq), rows.map((r) => r.id), rows.map(() => 'default'), rows.map((r) => r.e.event_type), rows.map((r) => r.e.session_id ?? null), rows.map((r) => r.e.user_id ?? null), rows.map(() => now), rows.map((r) => r.body)],
    );
    await client.query("UPDATE meta SET value = $1 WHERE key = 'head_seq'", [head + rows.length]);
    await client.query('COMMIT');
    rows.forEach((r, i) => batch[i]?.ws.send(`{"status":"ok","event_id":"${r.id}","seq":${String(r.seq)}}`));
  } finally {
    client.release();
    flushing = false;
  }
  if (queue.length > 0) setImmediate(() => void flush());
}

const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer) => {
    queue.push({ ws, e: JSON.parse(data.toString('utf8')) as Pending['e'] });
    if (queue.length === 1) setImmediate(() => void flush());
  });
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', port: typeof addr === 'object' && addr !== null ? addr.port : 0 }) + '\n');
});
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
