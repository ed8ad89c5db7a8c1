/**
 * @module cli/migrate
 * `npm run migrate`: applies pending PostgreSQL migrations to DATABASE_URL (and DATABASE_SCHEMA)
 * and says which; the server also applies them at start-up, so this is for deploy pipelines
 * that migrate before rolling instances. SQLite databases migrate when the server opens them.
 */
import { ConfigError, loadConfig } from '../config/load.js';
import { migrate } from '../storage/postgres/migrations.js';
import { createPool, ensureSchema } from '../storage/postgres/pool.js';

async function run(): Promise<void> {
  const config = loadConfig();
  if (config.databaseUrl === null) throw new ConfigError(['DATABASE_URL: set it to the PostgreSQL database to migrate (SQLite migrates when the server opens it)']);
  if (config.databaseSchema !== null) await ensureSchema(config.databaseUrl, config.databaseSchema);
  const pool = createPool({ url: config.databaseUrl, ...(config.databaseSchema === null ? {} : { schema: config.databaseSchema }), maxConnections: 1 });
  try {
    const client = await pool.connect();
    try {
      const applied = await migrate(client);
      process.stdout.write(applied.length === 0 ? 'schema up to date\n' : `applied migrations ${applied.join(', ')}\n`);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
