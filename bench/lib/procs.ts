/**
 * Starting and stopping the processes a benchmark measures: our server (compiled, from dist/)
 * or a floor program, each on a temporary database, each announcing its port in a JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const ROOT = new URL('../../', import.meta.url).pathname;

export interface Proc {
  proc: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  /** Resident set size now, and its peak (VmHWM), in MB. */
  rssMb(): { now: number; peak: number };
  stop(): Promise<void>;
}

/** Settings for our server under load: limits meant for abuse would only measure themselves. */
export const BENCH_ENV: Record<string, string> = {
  RATE_LIMIT_PUBLISH: 'off',
  RATE_LIMIT_QUERY: 'off',
  RATE_LIMIT_ADMIN: 'off',
  MAX_WS_CONNECTIONS_PER_IP: '20000',
  MAX_SUBSCRIBERS: '20000',
  LOG_LEVEL: 'warning',
  PORT: '0',
};

const FLOORS = { 'floor-http': 'bench/floor/http-sqlite.ts', 'floor-ws': 'bench/floor/ws.ts', 'floor-ws-postgres': 'bench/floor/ws-postgres.ts' } as const;

export async function startProcess(kind: 'ours' | keyof typeof FLOORS, databasePath: string, env: Record<string, string> = {}): Promise<Proc> {
  const args = kind === 'ours' ? ['dist/src/main.js'] : ['--import', 'tsx', FLOORS[kind]];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...BENCH_ENV, LOG_LEVEL: 'info', DATABASE_PATH: databasePath, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; port?: number };
        if (m.msg === 'listening' && typeof m.port === 'number') resolve(m.port);
      } catch {
        // ignore
      }
    });
    proc.once('exit', (code) => reject(new Error(`${kind} exited with ${String(code)} before listening`)));
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    rssMb() {
      const status = readFileSync(`/proc/${String(proc.pid)}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
    },
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a client script in its own process; resolves with the JSON it prints last. */
export function runClient<T>(script: string, args: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', `bench/clients/${script}.ts`, JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`client ${script} exited with ${String(code)}: ${out}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}
