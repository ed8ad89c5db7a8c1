/**
 * Tenants. Every event, count, horizon, idempotency key and audit record belongs to one; what
 * was stored before belongs to `default`. The history indexes lead with the tenant, so a
 * tenant's "newest N" (with or without a filter) is still an index walk with no sort and never
 * reads another's rows;
 * `(tenant, ts_us)` serves time bounds, per-second counts and deletes. Idempotency keys become
 * `<tenant>:<key>`, so two tenants' keys never meet.
 */
export const sql = `
ALTER TABLE events ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
DROP INDEX events_session_seq;
DROP INDEX events_user_seq;
DROP INDEX events_type_seq;
DROP INDEX events_ts;
CREATE INDEX events_tenant_seq         ON events (tenant, seq);
CREATE INDEX events_tenant_session_seq ON events (tenant, session_id, seq) WHERE session_id IS NOT NULL;
CREATE INDEX events_tenant_user_seq    ON events (tenant, user_id, seq)    WHERE user_id IS NOT NULL;
CREATE INDEX events_tenant_type_seq    ON events (tenant, event_type, seq);
CREATE INDEX events_tenant_ts          ON events (tenant, ts_us);

CREATE TABLE tenant_type_stats (
  tenant       TEXT    NOT NULL,
  event_type   TEXT    NOT NULL,
  count        INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL,
  PRIMARY KEY (tenant, event_type)
) WITHOUT ROWID;
INSERT INTO tenant_type_stats SELECT 'default', event_type, count, last_seen_us FROM type_stats;
DROP TABLE type_stats;

CREATE TABLE tenant_second_counts (
  tenant TEXT    NOT NULL,
  second INTEGER NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (tenant, second)
) WITHOUT ROWID;
INSERT INTO tenant_second_counts SELECT 'default', second, n FROM second_counts;
DROP TABLE second_counts;

CREATE TABLE tenant_horizons (
  tenant       TEXT    PRIMARY KEY,
  purged_seq   INTEGER NOT NULL,
  purged_ts_us INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tenant_horizons
  SELECT 'default', s.value, t.value FROM meta s, meta t
  WHERE s.key = 'purged_seq' AND t.key = 'purged_ts_us' AND s.value > 0;
DELETE FROM meta WHERE key IN ('purged_seq', 'purged_ts_us');

UPDATE idempotency_keys SET key = 'default:' || key;

ALTER TABLE audit_log ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX audit_log_tenant_id ON audit_log (tenant, id);
`;
