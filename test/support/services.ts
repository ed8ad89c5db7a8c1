/**
 * The machine's PostgreSQL and Redis for tests. Where they are reachable, tests use them; where
 * they are not, tests skip with the reason printed, except when REQUIRE_SERVICES is set (CI sets
 * it): then a missing service fails the run instead of skipping silently.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';

export const POSTGRES_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const REQUIRED = process.env['REQUIRE_SERVICES'] === 'true';

async function reachable(check: () => Promise<void>, name: string, quiet = false): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (err) {
    const reason = `${name} is not reachable (${err instanceof Error ? err.message : String(err)})`;
    if (quiet) return reason;
    if (REQUIRED) throw new Error(`${reason}, and REQUIRE_SERVICES=true: these tests must run here`);
    process.stdout.write(`# skipping: ${reason}\n`);
    return reason;
  }
}

/** Undefined when PostgreSQL answers; otherwise why the tests skip (or throws under REQUIRE_SERVICES). */
export function postgresMissing(): Promise<string | undefined> {
  return reachable(async () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
    await c.connect();
    await c.end();
  }, `PostgreSQL at ${POSTGRES_URL}`);
}

/** Undefined when Redis answers PING; otherwise why the tests skip (or throws under REQUIRE_SERVICES). */
export function redisMissing(url = REDIS_URL, options: { quiet?: boolean } = {}): Promise<string | undefined> {
  return reachable(
    () =>
      new Promise<void>((resolve, reject) => {
        const u = new URL(url);
        const socket = connect(Number(u.port || 6379), u.hostname);
        socket.setTimeout(2_000, () => socket.destroy(new Error('timeout')));
        socket.once('error', reject);
        socket.once('connect', () => socket.write('PING\r\n'));
        socket.once('data', (d) => {
          socket.destroy();
          if (d.toString().startsWith('+PONG')) resolve();
          else reject(new Error(d.toString().trim()));
        });
      }),
    `Redis at ${url}`,
    options.quiet === true,
  );
}

/** A fresh schema name for one test's tables. */
export const freshSchema = (prefix = 't'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: POSTGRES_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

/** A TCP port free on 127.0.0.1 right now (for a private server a test starts). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
