/**
 * Runs the server as a separate process (`src/main.ts` through tsx), as in production: for
 * signals, crashes, restarts, and load where the client must not share the server's thread.
 * The port is read from the server's own "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TEST_ENV } from './server.js';

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  wsUrl: string;
  dir: string;
  databasePath: string;
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
  /** SIGKILLs if still running and removes the temporary folder unless `keep`. */
  cleanup(keep?: boolean): Promise<void>;
}

const ROOT = new URL('../../', import.meta.url).pathname;

export async function startChildServer(env: Record<string, string> = {}, dir = mkdtempSync(join(tmpdir(), 'rep-child-'))): Promise<ChildServer> {
  const databasePath = join(dir, 'events.db');
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...TEST_ENV, LOG_LEVEL: 'info', DATABASE_PATH: databasePath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry['msg'] === 'listening') resolve(entry['port'] as number);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${String(code)}) before listening: ${stderr}`)));
  });
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    dir,
    databasePath,
    logs,
    exited,
    kill: (signal) => proc.kill(signal),
    async cleanup(keep = false) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}
