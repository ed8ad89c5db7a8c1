/**
 * The floor for WebSocket work: a bare `ws` server. `/ws/publish` parses each message, inserts
 * it durably with the same schema and group commit as ours, acks after the commit, and fans a
 * pre-serialised frame out to every subscriber with corked writes. `/ws/subscribe` registers
 * the socket after its first message (no filters: every subscriber gets everything, which is
 * what the fan-out scenarios measure). Env: PORT, DATABASE_PATH, FLOOR_STORE=0 to skip storage.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { WebSocketServer, type WebSocket } from 'ws';
import { MIGRATIONS } from '../../src/storage/sqlite/migrations/index.js';
import { DEFAULT_WAL_AUTOCHECKPOINT_PAGES } from '../../src/storage/sqlite/sqlite-event-store.js';

const store = process.env['FLOOR_STORE'] !== '0';
const db = new Database(process.env['DATABASE_PATH'] ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma(`wal_autocheckpoint = ${DEFAULT_WAL_AUTOCHECKPOINT_PAGES}`);
for (const m of MIGRATIONS) db.exec(m);
const insert = db.prepare('INSERT INTO events (seq, id, event_type, session_id, user_id, ts_us, body) VALUES (?, ?, ?, ?, ?, ?, ?)');
let seq = 0;

const { Sender } = createRequire(import.meta.url)('ws') as { Sender: unknown };
const frameOf = (data: Buffer): Buffer[] =>
  (Sender as { frame(data: Buffer, options: Record<string, unknown>): Buffer[] }).frame(data, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false });
const subscribers = new Set<Socket>();

interface Pending {
  ws: WebSocket;
  e: { event_type: string; source: string; session_id?: string | null; user_id?: string | null; payload?: unknown };
}
let queue: Pending[] = [];
const commit = db.transaction((bodies: [number, string, Pending['e'], string][]) => {
  for (const [s, id, e, body] of bodies) insert.run(s, id, e.event_type, e.session_id ?? null, e.user_id ?? null, Date.now() * 1000, body);
});
function flush(): void {
  const batch = queue;
  queue = [];
  const rows = batch.map(({ e }) => {
    const id = 'evt_' + randomBytes(6).toString('hex');
    const s = ++seq;
    const body = JSON.stringify({ id, event_type: e.event_type, source: e.source, session_id: e.session_id ?? null, user_id: e.user_id ?? null, payload: e.payload ?? {}, timestamp: new Date().toISOString(), seq: s });
    return [s, id, e, body] as [number, string, Pending['e'], string];
  });
  if (store) commit(rows);
  for (const sock of subscribers) sock.cork();
  for (const [, , , body] of rows) {
    const frame = frameOf(Buffer.from(body));
    for (const sock of subscribers) for (const part of frame) sock.write(part);
  }
  for (const sock of subscribers) sock.uncork();
  for (let i = 0; i < batch.length; i++) {
    const row = rows[i] as [number, string, Pending['e'], string];
    (batch[i] as Pending).ws.send(`{"status":"ok","event_id":"${row[1]}","seq":${row[0]}}`);
  }
}

const server = createServer();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
server.on('upgrade', (req, socket: Socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (req.url?.startsWith('/ws/subscribe') === true) {
      ws.once('message', () => {
        ws.send('{"status":"subscribed"}');
        subscribers.add(socket);
      });
      ws.on('close', () => subscribers.delete(socket));
      return;
    }
    ws.on('message', (data: Buffer) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ ws, e: JSON.parse(data.toString()) as Pending['e'] });
    });
  });
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', port: typeof a === 'object' && a !== null ? a.port : 0 }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
