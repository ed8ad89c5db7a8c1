/**
 * @module storage/postgres/pool
 * One way to open a PostgreSQL pool: 64-bit integers come back as numbers (every `seq`,
 * count and microsecond timestamp we store is far below 2^53), and an optional schema puts
 * every table of a store in its own namespace (tests run side by side that way).
 */
import pg from 'pg';

export interface PostgresOptions {
  /** `postgres://user@host:port/database` */
  url: string;
  /** Tables live in this schema (created when missing); default: the server's search path. */
  schema?: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
}

const INT8_OID = 20;

const parseInt8 = (v: string): number => Number(v);
const builtinParser = pg.types.getTypeParser as (oid: number, format: string) => unknown;
const types = {
  getTypeParser: (oid: number, format?: string): unknown => (oid === INT8_OID ? parseInt8 : builtinParser(oid, format ?? 'text')),
} as unknown as pg.CustomTypesConfig;

export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function createPool(options: PostgresOptions): pg.Pool {
  if (options.schema !== undefined && !SCHEMA_PATTERN.test(options.schema)) throw new Error(`invalid schema name '${options.schema}'`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection must not crash the process: the next query fails
  // (and surfaces as STORAGE_UNAVAILABLE) instead.
  pool.on('error', () => undefined);
  return pool;
}

/** Creates the schema if needed (with a pool on the default search path). */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_PATTERN.test(schema)) throw new Error(`invalid schema name '${schema}'`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    // Two instances creating it at once: the loser's IF NOT EXISTS still collides.
    if ((err as { code?: string }).code !== '23505') throw err;
  } finally {
    await client.end();
  }
}
