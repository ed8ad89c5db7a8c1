/**
 * Events per second of receive time, kept in the same transactions as `events`, so "events in
 * the last hour" sums at most 3,600 rows plus one second counted exactly, instead of counting
 * every index entry of the hour (18 ms at a million events).
 */
export const sql = `
CREATE TABLE second_counts (
  second INTEGER PRIMARY KEY,
  n      INTEGER NOT NULL
);
INSERT INTO second_counts (second, n)
  SELECT ts_us / 1000000, count(*) FROM events GROUP BY ts_us / 1000000;
`;
