/**
 * @module storage/postgres/migrations
 * Numbered migrations of the PostgreSQL schema, applied in order at start-up (and by `npm run
 * migrate`), each in its own transaction, recorded in `schema_migrations`. Instances starting
 * together take a session-level advisory lock, so exactly one applies them. Never edit a
 * released migration: add the next number.
 *
 * The schema mirrors the SQLite one: events keyed by the global `seq`, history indexes led by
 * the tenant, per-type and per-second counters kept in the commit, deletion horizons,
 * idempotency keys, the audit log and API keys. `meta` holds the head `seq` and the latest
 * timestamp, read and written only under the append lock (see postgres-event-store.ts).
 */
import type { PoolClient } from 'pg';

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'init',
    sql: `
CREATE TABLE events (
  seq        BIGINT PRIMARY KEY,
  id         TEXT   NOT NULL UNIQUE,
  tenant     TEXT   NOT NULL,
  event_type TEXT   NOT NULL,
  session_id TEXT,
  user_id    TEXT,
  ts_us      BIGINT NOT NULL,
  body       TEXT   NOT NULL
);
CREATE INDEX events_tenant_seq         ON events (tenant, seq);
CREATE INDEX events_tenant_session_seq ON events (tenant, session_id, seq) WHERE session_id IS NOT NULL;
CREATE INDEX events_tenant_user_seq    ON events (tenant, user_id, seq)    WHERE user_id IS NOT NULL;
CREATE INDEX events_tenant_type_seq    ON events (tenant, event_type, seq);
CREATE INDEX events_tenant_ts          ON events (tenant, ts_us, seq);

CREATE TABLE meta (
  key   TEXT   PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('head_seq', 0), ('last_ts_us', 0);

CREATE TABLE tenant_type_stats (
  tenant       TEXT   NOT NULL,
  event_type   TEXT   NOT NULL,
  count        BIGINT NOT NULL,
  last_seen_us BIGINT NOT NULL,
  PRIMARY KEY (tenant, event_type)
);

CREATE TABLE tenant_second_counts (
  tenant TEXT   NOT NULL,
  second BIGINT NOT NULL,
  n      BIGINT NOT NULL,
  PRIMARY KEY (tenant, second)
);

CREATE TABLE tenant_horizons (
  tenant       TEXT   PRIMARY KEY,
  purged_seq   BIGINT NOT NULL,
  purged_ts_us BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
  key         TEXT   PRIMARY KEY,
  fingerprint TEXT   NOT NULL,
  seq         BIGINT NOT NULL,
  id          TEXT   NOT NULL,
  body        TEXT   NOT NULL,
  created_us  BIGINT NOT NULL,
  user_id     TEXT
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_us);
CREATE INDEX idempotency_keys_user    ON idempotency_keys (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE audit_log (
  id     BIGSERIAL PRIMARY KEY,
  tenant TEXT   NOT NULL,
  at_us  BIGINT NOT NULL,
  actor  TEXT   NOT NULL,
  action TEXT   NOT NULL,
  target TEXT,
  count  BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant_id ON audit_log (tenant, id);

CREATE TABLE api_keys (
  id          TEXT   PRIMARY KEY,
  tenant      TEXT   NOT NULL,
  name        TEXT   NOT NULL,
  scopes      TEXT   NOT NULL,
  secret_hash TEXT   NOT NULL,
  created_us  BIGINT NOT NULL,
  revoked_us  BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant);
`,
  },
];

/** Advisory lock ids (arbitrary, fixed): one for migrations, one for appends. */
export const MIGRATION_LOCK = 7_310_001;
export const APPEND_LOCK = 7_310_002;

/** Applies pending migrations; resolves to the versions it applied. */
export async function migrate(client: PoolClient): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > known) throw new Error(`database schema version ${newest} is newer than this server knows (${known}); upgrade the server`);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
