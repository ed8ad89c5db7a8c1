/**
 * Scoped API keys. Only a SHA-256 digest of each key's secret is kept (secrets are 256 random
 * bits, so a plain digest cannot be reversed or brute-forced); the id is public and names the
 * key in lists and audit records. A revoked key keeps its row, so its id is never reused.
 */
export const sql = `
CREATE TABLE api_keys (
  id          TEXT    PRIMARY KEY,
  tenant      TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  scopes      TEXT    NOT NULL,
  secret_hash TEXT    NOT NULL,
  created_us  INTEGER NOT NULL,
  revoked_us  INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_tenant ON api_keys (tenant);
`;
