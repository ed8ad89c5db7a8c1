/**
 * Erasure and audit. Idempotency keys learn their event's `user_id`, so erasing a student
 * removes the copies kept for retries too. `audit_log` records every delete, erasure and
 * retention purge (who, what, how many, when), written in the same transaction as the delete.
 */
export const sql = `
ALTER TABLE idempotency_keys ADD COLUMN user_id TEXT;
UPDATE idempotency_keys SET user_id = json_extract(body, '$.user_id');
CREATE INDEX idempotency_keys_user ON idempotency_keys (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at_us   INTEGER NOT NULL,
  actor   TEXT    NOT NULL,
  action  TEXT    NOT NULL,
  target  TEXT,
  count   INTEGER NOT NULL
);
`;
