/**
 * Events keyed by `seq` (the rowid, so `seq` ranges are clustered reads), one index per
 * filter the history API serves, each ending in `seq` so "newest N matching" is an index walk
 * with no sort. Counts per type live in `type_stats`, maintained in the same transactions,
 * so `/stats` never scans. `meta` keeps the head `seq` and last timestamp across deletes.
 */
export const sql = `
CREATE TABLE events (
  seq        INTEGER PRIMARY KEY,
  id         TEXT    NOT NULL UNIQUE,
  event_type TEXT    NOT NULL,
  session_id TEXT,
  user_id    TEXT,
  ts_us      INTEGER NOT NULL,
  body       TEXT    NOT NULL
);
CREATE INDEX events_session_seq ON events (session_id, seq) WHERE session_id IS NOT NULL;
CREATE INDEX events_user_seq    ON events (user_id, seq)    WHERE user_id IS NOT NULL;
CREATE INDEX events_type_seq    ON events (event_type, seq);
CREATE INDEX events_ts          ON events (ts_us);

CREATE TABLE type_stats (
  event_type   TEXT    PRIMARY KEY,
  count        INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
  key   TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('head_seq', 0), ('last_ts_us', 0);
`;
