/**
 * The floor for WebSocket work: a bare `ws` server. `/ws/publish` parses each message, inserts
 * it durably with the same schema and group commit as ours, acks after the commit, and fans a
 * pre-serialised frame out to every subscriber with corked writes. `/ws/subscribe` registers
 * the socket after its first message (no filters: every subscriber gets everything, which is
 * what the fan-out scenarios measure). A first message with `"from":"earliest"` replays the
 * stored events first: pages of `SELECT body … WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT 500` (only a
 * `session_id` filter is honoured), each page written as pre-built frames to the corked socket,
 * the next page read once the socket has drained; then `{"type":"caught_up"}`. No live events
 * are held or merged meanwhile (the replay scenario publishes none).
 * Env: PORT, DATABASE_PATH, FLOOR_STORE=0 to skip storage.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
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
if ((db.pragma('user_version', { simple: true }) as number) === 0) {
  for (const m of MIGRATIONS) db.exec(m);
  db.pragma(`user_version = ${MIGRATIONS.length}`);
}
const insert = db.prepare('INSERT INTO events (seq, id, event_type, session_id, user_id, ts_us, body) VALUES (?, ?, ?, ?, ?, ?, ?)');
let seq = (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM events').get() as { s: number }).s;

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

const PAGE = 500;
const pageAll = db.prepare("SELECT body FROM events WHERE tenant = 'default' AND seq > ? ORDER BY seq LIMIT ?").pluck();
const pageBySession = db.prepare("SELECT body FROM events WHERE tenant = 'default' AND session_id = ? AND seq > ? ORDER BY seq LIMIT ?").pluck();
/** Stored bodies end with `"seq":N}`. */
const seqOf = (body: string): number => Number(body.slice(body.lastIndexOf(':') + 1, -1));

async function replay(ws: WebSocket, socket: Socket, sessionId: string | undefined): Promise<void> {
  let cursor = 0;
  for (;;) {
    const rows = (sessionId === undefined ? pageAll.all(cursor, PAGE) : pageBySession.all(sessionId, cursor, PAGE)) as string[];
    socket.cork();
    for (const body of rows) for (const part of frameOf(Buffer.from(body))) socket.write(part);
    socket.uncork();
    if (rows.length > 0) cursor = seqOf(rows[rows.length - 1] as string);
    if (rows.length < PAGE || socket.destroyed) break;
    if (socket.writableNeedDrain) await once(socket, 'drain');
    else await new Promise((r) => setImmediate(r));
  }
  ws.send(`{"type":"caught_up","seq":${String(Math.max(cursor, seq))}}`);
}

const server = createServer();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
server.on('upgrade', (req, socket: Socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (req.url?.startsWith('/ws/subscribe') === true) {
      ws.once('message', (data: Buffer) => {
        const config = JSON.parse(data.toString()) as { from?: unknown; session_id?: string };
        ws.send(`{"status":"subscribed","head_seq":${String(seq)}}`);
        if (config.from === 'earliest') void replay(ws, socket, config.session_id);
        else subscribers.add(socket);
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
