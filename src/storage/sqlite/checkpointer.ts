/**
 * @module storage/sqlite/checkpointer
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside a commit on the
 * writing connection and stalls the event loop for tens of milliseconds (the p99 of delivery
 * latency). Instead, a worker thread with its own connection runs `wal_checkpoint(PASSIVE)`
 * periodically: it copies committed pages to the database file without blocking the writer.
 * A checkpoint that runs beside a busy writer never quite catches up, and the WAL only starts
 * over once one has; so after each background pass the writer's own connection is told
 * (`onPass`) and finishes the few pages written meanwhile, a short step instead of a long one.
 * The writer keeps a much higher automatic threshold only as a safety net.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 250;

// CommonJS run with `eval`, so it needs no file of its own in source or dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r.log > 0) parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export interface CheckpointPass {
  /** Frames in the WAL when the pass ran. */
  log: number;
  /** Frames copied to the database file so far. */
  checkpointed: number;
}

export function startCheckpointer(
  path: string,
  intervalMs: number,
  onPass: (pass: CheckpointPass) => void,
  onError: (message: string) => void,
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
  worker.unref();
  worker.on('message', (m: { error?: string } & Partial<CheckpointPass>) => {
    if (m.error !== undefined) onError(m.error);
    else if (m.log !== undefined && m.checkpointed !== undefined) onPass({ log: m.log, checkpointed: m.checkpointed });
  });
  worker.on('error', (err) => onError(err.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.ref(); // keep the process alive until the worker has closed its connection
      worker.postMessage('stop');
      await exited;
    },
  };
}
