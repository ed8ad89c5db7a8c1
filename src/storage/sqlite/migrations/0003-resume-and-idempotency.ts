/**
 * Idempotency keys, recorded in the same transaction as their event and kept for a while even
 * if the event is deleted (`body` is the event as first stored, so a retry gets it back). And
 * the deletion horizon: the highest `seq` and timestamp ever deleted, so resuming from a
 * position that no longer exists is reported, never skipped over.
 */
export const sql = `
CREATE TABLE idempotency_keys (
  key         TEXT    PRIMARY KEY,
  fingerprint TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  id          TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  created_us  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_us);
INSERT INTO meta (key, value) VALUES ('purged_seq', 0), ('purged_ts_us', 0);
`;
