/**
 * @module storage/postgres/postgres-event-store
 * The event store on PostgreSQL, shared by any number of instances.
 *
 * One global `seq` in commit order. A PostgreSQL sequence is not enough: two transactions may
 * draw 7 and 8 and commit 8 first, and a reader tailing by `seq` that sees 8 moves past 7 for
 * good. Here every append takes a transaction-level advisory lock (`APPEND_LOCK`) before it
 * reads the head from `meta`, numbers its events from there and writes the new head, and the
 * lock is released only by its COMMIT (or ROLLBACK); the head is read by a statement that
 * starts after the lock is held (under READ COMMITTED a statement sees what was committed when
 * it began, so reading it in the statement that waited would see a stale head: the race test
 * caught exactly that). So appends are serialised: a transaction
 * numbers its events only after the previous one has committed, and `seq` order is commit order
 * across every instance; a reader that has seen `seq` N has every committed event below N
 * visible too. The cost is that commits do not overlap; each instance groups concurrent
 * publishers into one commit (ingest/commit-batcher.ts), so the lock is taken once per group.
 * A rolled-back append writes nothing, the head included, so no `seq` is ever skipped.
 *
 * Durability: COMMIT returns after the WAL is flushed (`synchronous_commit` on, PostgreSQL's
 * default; the store refuses to start when it is off).
 *
 * Everything else mirrors the SQLite adapter and the port's contract (storage/event-store.ts):
 * tenant-led indexes, counters kept in the commit, per-tenant deletion horizons, idempotency
 * keys recorded with their event, audited deletes and erasures.
 */
import type pg from 'pg';
import type { EventType } from '../../../protocol/event-types.js';
import { serializeEvent, type EventDraft, type EventId, type EventJson, type Seq, type StoredEvent } from '../../domain/event.js';
import { PipelineError } from '../../domain/errors.js';
import type { TenantId } from '../../domain/tenant.js';
import { formatInstant, type InstantUs } from '../../domain/timestamp.js';
import type {
  AppendResult,
  AuditContext,
  AuditRecord,
  EventQuery,
  EventStore,
  Horizon,
  IdGenerator,
  StoreStats,
} from '../event-store.js';
import { EVENT_COLUMNS, rowToEvent, type EventRow } from '../event-row.js';
import { randomEventId, scopedKey } from '../ids.js';
import { sortTypeCounts } from '../type-counts.js';
import { APPEND_LOCK, migrate } from './migrations.js';
import { createPool, ensureSchema, type PostgresOptions } from './pool.js';

export interface PostgresStoreOptions extends PostgresOptions {
  newId?: IdGenerator;
  /** Test hook: runs inside every append transaction, after the lock, before COMMIT. */
  beforeCommit?: () => Promise<void>;
}


/**
 * How an append opens, in one round trip: BEGIN, the append lock, then the head and latest
 * timestamp read by a statement of their own. Each statement sees what was committed when it
 * started, so the read comes after the lock is held; read in the statement that waited for the
 * lock, the head would be stale (the race test caught exactly that).
 */
const APPEND_OPENING = `BEGIN; SELECT pg_advisory_xact_lock(${String(APPEND_LOCK)}); SELECT (SELECT value FROM meta WHERE key = 'head_seq') AS head, (SELECT value FROM meta WHERE key = 'last_ts_us') AS last_ts`;
const MAX_ID_ATTEMPTS = 10;

export class PostgresEventStore implements EventStore {
  readonly #pool: pg.Pool;
  readonly #newId: IdGenerator;
  readonly #beforeCommit: (() => Promise<void>) | undefined;
  #head = 0;
  #closed = false;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.#pool = pool;
    this.#newId = options.newId ?? randomEventId;
    this.#beforeCommit = options.beforeCommit;
  }

  /** Connects, applies pending migrations, and reads the head. */
  static async open(options: PostgresStoreOptions): Promise<PostgresEventStore> {
    if (options.schema !== undefined) await ensureSchema(options.url, options.schema);
    const pool = createPool(options);
    try {
      const client = await pool.connect();
      try {
        const sync = (await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
        if (sync === 'off') throw new Error('synchronous_commit is off: acknowledged events could be lost; turn it on for this database');
        await migrate(client);
      } finally {
        client.release();
      }
      const store = new PostgresEventStore(pool, options);
      store.#head = await store.readHeadSeq();
      return store;
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  /** Runs `fn` in a transaction; any failure is STORAGE_UNAVAILABLE unless it is already ours. */
  /**
   * Runs `fn` in a transaction. `opening` is sent as one simple query (several statements, one
   * round trip) and starts with BEGIN; `fn` gets the result of each of its statements.
   */
  async #transaction<T>(fn: (client: pg.PoolClient, opened: pg.QueryResult[]) => Promise<T>, opening = 'BEGIN'): Promise<T> {
    this.#assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw unavailable(err);
    }
    try {
      const opened = (await client.query(opening)) as unknown as pg.QueryResult | pg.QueryResult[];
      const result = await fn(client, Array.isArray(opened) ? opened : [opened]);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err instanceof PipelineError ? err : unavailable(err);
    } finally {
      client.release();
    }
  }

  async #read<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    this.#assertOpen();
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw unavailable(err);
    }
  }

  append(drafts: readonly EventDraft[]): Promise<AppendResult[]> {
    if (drafts.length === 0) return Promise.resolve([]);
    return this.#transaction(async (client, opened) => {
      const meta = (opened[2] as pg.QueryResult<{ head: number; last_ts: number }> | undefined)?.rows[0];
      let head = meta?.head ?? 0;
      let lastTs = meta?.last_ts ?? 0;

      // Idempotency keys already recorded (earlier commits), then those of this batch.
      const scoped = drafts.map((d) => (d.idempotency === undefined ? null : scopedKey(d.tenant, d.idempotency.key)));
      const asked = [...new Set(scoped.filter((k): k is string => k !== null))];
      const known = new Map<string, { fingerprint: string; seq: number; id: string; json: string }>();
      if (asked.length > 0) {
        const rows = await client.query<{ key: string; fingerprint: string; seq: number; id: string; body: string }>(
          'SELECT key, fingerprint, seq, id, body FROM idempotency_keys WHERE key = ANY($1::text[])',
          [asked],
        );
        for (const r of rows.rows) known.set(r.key, { fingerprint: r.fingerprint, seq: r.seq, id: r.id, json: r.body });
      }

      const out: (AppendResult | undefined)[] = [];
      const fresh: { index: number; draft: EventDraft; seq: Seq; ts: InstantUs; key: string | null }[] = [];
      // A key first used earlier in this batch: its event gets an id only once inserted.
      const inBatch = new Map<string, { fingerprint: string; seq: Seq }>();
      const laterCopies: { index: number; seq: Seq }[] = [];
      drafts.forEach((d, i) => {
        const key = scoped[i] ?? null;
        const tag = d.idempotency;
        if (key !== null && tag !== undefined) {
          const earlier = known.get(key);
          const here = inBatch.get(key);
          const fingerprint = earlier?.fingerprint ?? here?.fingerprint;
          if (fingerprint !== undefined) {
            if (fingerprint !== tag.fingerprint) out.push({ kind: 'conflict', key: tag.key });
            else if (earlier !== undefined) out.push({ kind: 'duplicate', event: { seq: earlier.seq, id: earlier.id, json: earlier.json } });
            else if (here !== undefined) {
              laterCopies.push({ index: i, seq: here.seq });
              out.push(undefined);
            }
            return;
          }
        }
        const seq = ++head;
        lastTs = Math.max(d.receivedAtUs, lastTs);
        fresh.push({ index: i, draft: d, seq, ts: lastTs, key });
        out.push(undefined);
        if (key !== null && tag !== undefined) inBatch.set(key, { fingerprint: tag.fingerprint, seq });
      });

      const stored = await this.#insertEvents(client, fresh);
      for (const [i, e] of stored) out[i] = { kind: 'stored', event: e };
      const bySeq = new Map([...stored.values()].map((e) => [e.seq, e]));
      for (const c of laterCopies) {
        const e = bySeq.get(c.seq);
        if (e !== undefined) out[c.index] = { kind: 'duplicate', event: { seq: e.seq, id: e.id, json: e.json } };
      }

      const keyed = fresh.filter((f) => f.key !== null);
      const perType = new Map<string, { tenant: TenantId; type: EventType; n: number; last: InstantUs }>();
      const perSecond = new Map<string, { tenant: TenantId; second: number; n: number }>();
      for (const f of fresh) {
        const t = perType.get(`${f.draft.tenant} ${f.draft.eventType}`);
        if (t === undefined) perType.set(`${f.draft.tenant} ${f.draft.eventType}`, { tenant: f.draft.tenant, type: f.draft.eventType, n: 1, last: f.ts });
        else {
          t.n++;
          t.last = f.ts;
        }
        const second = Math.floor(f.ts / 1_000_000);
        const s = perSecond.get(`${f.draft.tenant} ${second}`);
        if (s === undefined) perSecond.set(`${f.draft.tenant} ${second}`, { tenant: f.draft.tenant, second, n: 1 });
        else s.n++;
      }
      const types = [...perType.values()];
      const seconds = [...perSecond.values()];
      // Keys, counters and the head in one round trip.
      await client.query(
        `WITH k AS (
           INSERT INTO idempotency_keys (key, fingerprint, seq, id, body, created_us, user_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[])
         ), t AS (
           INSERT INTO tenant_type_stats (tenant, event_type, count, last_seen_us)
           SELECT * FROM unnest($8::text[], $9::text[], $10::bigint[], $11::bigint[])
           ON CONFLICT (tenant, event_type) DO UPDATE SET count = tenant_type_stats.count + excluded.count, last_seen_us = excluded.last_seen_us
         ), s AS (
           INSERT INTO tenant_second_counts (tenant, second, n)
           SELECT * FROM unnest($12::text[], $13::bigint[], $14::bigint[])
           ON CONFLICT (tenant, second) DO UPDATE SET n = tenant_second_counts.n + excluded.n
         )
         UPDATE meta SET value = CASE key WHEN 'head_seq' THEN $15::bigint ELSE $16::bigint END WHERE key IN ('head_seq', 'last_ts_us')`,
        [
          keyed.map((f) => f.key),
          keyed.map((f) => f.draft.idempotency?.fingerprint ?? ''),
          keyed.map((f) => f.seq),
          keyed.map((f) => stored.get(f.index)?.id ?? ''),
          keyed.map((f) => stored.get(f.index)?.json ?? ''),
          keyed.map((f) => f.draft.receivedAtUs),
          keyed.map((f) => f.draft.userId),
          types.map((t) => t.tenant),
          types.map((t) => t.type),
          types.map((t) => t.n),
          types.map((t) => t.last),
          seconds.map((s) => s.tenant),
          seconds.map((s) => s.second),
          seconds.map((s) => s.n),
          head,
          lastTs,
        ],
      );
      if (this.#beforeCommit !== undefined) await this.#beforeCommit();
      return { out: out as AppendResult[], head };
    }, APPEND_OPENING).then(({ out, head }) => {
      if (head > this.#head) this.#head = head;
      return out;
    });
  }

  /** Inserts the fresh events, redrawing ids that collide with stored ones. */
  async #insertEvents(
    client: pg.PoolClient,
    fresh: readonly { index: number; draft: EventDraft; seq: Seq; ts: InstantUs }[],
  ): Promise<Map<number, StoredEvent>> {
    const stored = new Map<number, StoredEvent>();
    let pending = fresh;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ID_ATTEMPTS) throw new PipelineError('STORAGE_UNAVAILABLE', 'Could not draw a free event id');
      const rows = pending.map((f) => {
        const id = this.#newId();
        return { f, id, json: serializeEvent(f.seq, id, f.draft, f.ts) };
      });
      const inserted = await client.query<{ seq: number }>(
        `INSERT INTO events (seq, id, tenant, event_type, session_id, user_id, ts_us, body)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
         ON CONFLICT (id) DO NOTHING RETURNING seq`,
        [
          rows.map((r) => r.f.seq),
          rows.map((r) => r.id),
          rows.map((r) => r.f.draft.tenant),
          rows.map((r) => r.f.draft.eventType),
          rows.map((r) => r.f.draft.sessionId),
          rows.map((r) => r.f.draft.userId),
          rows.map((r) => r.f.ts),
          rows.map((r) => r.json),
        ],
      );
      const done = new Set(inserted.rows.map((r) => r.seq));
      for (const r of rows) {
        if (!done.has(r.f.seq)) continue;
        const d = r.f.draft;
        stored.set(r.f.index, { seq: r.f.seq, id: r.id, tenant: d.tenant, eventType: d.eventType, sessionId: d.sessionId, userId: d.userId, timestampUs: r.f.ts, json: r.json });
      }
      pending = rows.filter((r) => !done.has(r.f.seq)).map((r) => r.f);
    }
    return stored;
  }

  async getById(tenant: TenantId, id: EventId): Promise<StoredEvent | undefined> {
    const [row] = await this.#read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1 AND tenant = $2`, [id, tenant]);
    return row === undefined ? undefined : rowToEvent(row);
  }

  async query(q: EventQuery): Promise<EventJson[]> {
    const params: unknown[] = [q.tenant];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = ['tenant = $1'];
    if (q.eventType !== undefined) where.push(`event_type = ${p(q.eventType)}`);
    if (q.eventTypes !== undefined && q.eventTypes.length > 0) where.push(`event_type = ANY(${p(q.eventTypes)}::text[])`);
    if (q.sessionId !== undefined) where.push(`session_id = ${p(q.sessionId)}`);
    if (q.userId !== undefined) where.push(`user_id = ${p(q.userId)}`);
    // Timestamps never decrease in seq order, so time bounds become seq bounds.
    const after = Math.max(q.afterSeq ?? 0, q.sinceUs === undefined ? 0 : await this.#lastSeqAtOrBefore(q.tenant, q.sinceUs));
    if (after > 0) where.push(`seq > ${p(after)}`);
    let before = q.beforeSeq ?? Infinity;
    if (q.untilUs !== undefined) before = Math.min(before, (await this.#lastSeqAtOrBefore(q.tenant, q.untilUs)) + 1);
    if (before !== Infinity) where.push(`seq < ${p(before)}`);
    const sql = `SELECT body FROM events WHERE ${where.join(' AND ')} ORDER BY seq ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${p(q.limit)}`;
    return (await this.#read<{ body: string }>(sql, params)).map((r) => r.body);
  }

  async #lastSeqAtOrBefore(tenant: TenantId, us: InstantUs): Promise<Seq> {
    const [row] = await this.#read<{ seq: number }>('SELECT seq FROM events WHERE tenant = $1 AND ts_us <= $2 ORDER BY ts_us DESC, seq DESC LIMIT 1', [tenant, us]);
    return row?.seq ?? 0;
  }

  deleteBefore(tenant: TenantId | null, beforeUs?: InstantUs, audit?: AuditContext & { action: 'delete_events' | 'retention_purge' }): Promise<number> {
    return this.#transaction(async (client) => {
      const tenants = tenant !== null ? [tenant] : (await client.query<{ tenant: string }>('SELECT DISTINCT tenant FROM tenant_type_stats')).rows.map((r) => r.tenant);
      let total = 0;
      for (const t of tenants) {
        const n = await this.#deleteRows(client, t, beforeUs);
        total += n;
        if (audit !== undefined && (n > 0 || audit.action !== 'retention_purge')) {
          await this.#audit(client, t, audit, audit.action, beforeUs === undefined ? null : formatInstant(beforeUs), n);
        }
      }
      return total;
    });
  }

  async #deleteRows(client: pg.PoolClient, tenant: TenantId, beforeUs: InstantUs | undefined): Promise<number> {
    const bound = beforeUs ?? Number.MAX_SAFE_INTEGER;
    // Remember the newest event about to go (deletes remove a prefix of the tenant's seq order).
    const last = (
      await client.query<{ seq: number; ts_us: number }>('SELECT seq, ts_us FROM events WHERE tenant = $1 AND ts_us < $2 ORDER BY ts_us DESC, seq DESC LIMIT 1', [tenant, bound])
    ).rows[0];
    if (last === undefined) return 0;
    await client.query(
      `INSERT INTO tenant_horizons (tenant, purged_seq, purged_ts_us) VALUES ($1, $2, $3)
       ON CONFLICT (tenant) DO UPDATE SET purged_seq = excluded.purged_seq, purged_ts_us = excluded.purged_ts_us`,
      [tenant, last.seq, last.ts_us],
    );
    const counts = (
      await client.query<{ event_type: EventType; n: number }>(
        'WITH gone AS (DELETE FROM events WHERE tenant = $1 AND ts_us < $2 RETURNING event_type) SELECT event_type, count(*)::bigint AS n FROM gone GROUP BY event_type',
        [tenant, bound],
      )
    ).rows;
    for (const c of counts) await this.#subtractType(client, tenant, c.event_type, c.n);
    if (beforeUs === undefined) {
      await client.query('DELETE FROM tenant_second_counts WHERE tenant = $1', [tenant]);
    } else {
      const boundary = Math.floor(beforeUs / 1_000_000);
      await client.query('DELETE FROM tenant_second_counts WHERE tenant = $1 AND second <= $2', [tenant, boundary]);
      const left = await this.#countBetween(client, tenant, boundary * 1_000_000, (boundary + 1) * 1_000_000);
      if (left > 0) await client.query('INSERT INTO tenant_second_counts (tenant, second, n) VALUES ($1, $2, $3)', [tenant, boundary, left]);
    }
    return counts.reduce((s, c) => s + c.n, 0);
  }

  async #subtractType(client: pg.PoolClient, tenant: TenantId, type: EventType, n: number): Promise<void> {
    const latest = (await client.query<{ ts_us: number }>('SELECT ts_us FROM events WHERE tenant = $1 AND event_type = $2 ORDER BY seq DESC LIMIT 1', [tenant, type])).rows[0];
    if (latest === undefined) await client.query('DELETE FROM tenant_type_stats WHERE tenant = $1 AND event_type = $2', [tenant, type]);
    else await client.query('UPDATE tenant_type_stats SET count = count - $1, last_seen_us = $2 WHERE tenant = $3 AND event_type = $4', [n, latest.ts_us, tenant, type]);
  }

  async #countBetween(client: pg.PoolClient | pg.Pool, tenant: TenantId, fromUs: InstantUs, toUs: InstantUs): Promise<number> {
    const row = (await client.query<{ n: number }>('SELECT count(*)::bigint AS n FROM events WHERE tenant = $1 AND ts_us >= $2 AND ts_us < $3', [tenant, fromUs, toUs])).rows[0];
    return row?.n ?? 0;
  }

  async #audit(client: pg.PoolClient, tenant: TenantId, ctx: AuditContext, action: AuditRecord['action'], target: string | null, count: number): Promise<void> {
    await client.query('INSERT INTO audit_log (tenant, at_us, actor, action, target, count) VALUES ($1, $2, $3, $4, $5, $6)', [tenant, ctx.atUs, ctx.actor, action, target, count]);
  }

  eraseUser(tenant: TenantId, userId: string, audit: AuditContext): Promise<number> {
    return this.#transaction(async (client) => {
      const gone = (
        await client.query<{ event_type: EventType; second: number }>(
          'DELETE FROM events WHERE tenant = $1 AND user_id = $2 RETURNING event_type, ts_us / 1000000 AS second',
          [tenant, userId],
        )
      ).rows;
      const types = new Map<EventType, number>();
      const seconds = new Map<number, number>();
      for (const g of gone) {
        types.set(g.event_type, (types.get(g.event_type) ?? 0) + 1);
        seconds.set(g.second, (seconds.get(g.second) ?? 0) + 1);
      }
      for (const [type, n] of types) await this.#subtractType(client, tenant, type, n);
      if (seconds.size > 0) {
        await client.query(
          `UPDATE tenant_second_counts c SET n = c.n - g.n FROM unnest($2::bigint[], $3::bigint[]) AS g(second, n)
           WHERE c.tenant = $1 AND c.second = g.second`,
          [tenant, [...seconds.keys()], [...seconds.values()]],
        );
        await client.query('DELETE FROM tenant_second_counts WHERE tenant = $1 AND n <= 0', [tenant]);
      }
      // The tenant's keys are the range ['<tenant>:', '<tenant>;'): ';' follows ':' in ASCII.
      await client.query('DELETE FROM idempotency_keys WHERE user_id = $1 AND key >= $2 AND key < $3', [userId, `${tenant}:`, `${tenant};`]);
      await this.#audit(client, tenant, audit, 'erase_user', userId, gone.length);
      return gone.length;
    });
  }

  async listAudit(tenant: TenantId, limit: number, beforeId?: number): Promise<AuditRecord[]> {
    const rows = await this.#read<{ id: number; at_us: number; actor: string; action: AuditRecord['action']; target: string | null; count: number }>(
      'SELECT id, at_us, actor, action, target, count FROM audit_log WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
      [tenant, beforeId ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => ({ id: r.id, tenant, atUs: r.at_us, actor: r.actor, action: r.action, target: r.target, count: r.count }));
  }

  async stats(tenant: TenantId, sinceUs: InstantUs): Promise<StoreStats> {
    const second = Math.floor(sinceUs / 1_000_000);
    const [types, whole, part] = await Promise.all([
      this.#read<{ event_type: EventType; count: number; last_seen_us: number }>('SELECT event_type, count, last_seen_us FROM tenant_type_stats WHERE tenant = $1', [tenant]),
      this.#read<{ n: number }>('SELECT coalesce(sum(n), 0)::bigint AS n FROM tenant_second_counts WHERE tenant = $1 AND second > $2', [tenant, second]),
      this.#read<{ n: number }>('SELECT count(*)::bigint AS n FROM events WHERE tenant = $1 AND ts_us >= $2 AND ts_us < $3', [tenant, sinceUs + 1, (second + 1) * 1_000_000]),
    ]);
    const byType = sortTypeCounts(types.map((r) => ({ eventType: r.event_type, count: r.count, lastSeenUs: r.last_seen_us })));
    return { totalEvents: byType.reduce((s, t) => s + t.count, 0), eventsSince: (whole[0]?.n ?? 0) + (part[0]?.n ?? 0), byType };
  }

  headSeq(): Seq {
    return this.#head;
  }

  async readHeadSeq(): Promise<Seq> {
    const [row] = await this.#read<{ value: number }>("SELECT value FROM meta WHERE key = 'head_seq'");
    const head = row?.value ?? 0;
    if (head > this.#head) this.#head = head;
    return head;
  }

  async tail(afterSeq: Seq, limit: number): Promise<StoredEvent[]> {
    return (await this.#read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).map(rowToEvent);
  }

  async horizon(tenant: TenantId): Promise<Horizon> {
    const [row] = await this.#read<{ purged_seq: number; purged_ts_us: number }>('SELECT purged_seq, purged_ts_us FROM tenant_horizons WHERE tenant = $1', [tenant]);
    return { purgedSeq: row?.purged_seq ?? 0, purgedUntilUs: row?.purged_ts_us ?? 0 };
  }

  async pruneIdempotencyKeys(beforeUs: InstantUs): Promise<number> {
    this.#assertOpen();
    try {
      return (await this.#pool.query('DELETE FROM idempotency_keys WHERE created_us < $1', [beforeUs])).rowCount ?? 0;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async ping(): Promise<void> {
    await this.#read('SELECT 1');
  }

  /** For the API-key store and tests: the pool this store uses. */
  get pool(): pg.Pool {
    return this.#pool;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #assertOpen(): void {
    if (this.#closed) throw new PipelineError('STORAGE_UNAVAILABLE', 'Event store is closed');
  }
}

function unavailable(cause: unknown): PipelineError {
  return new PipelineError('STORAGE_UNAVAILABLE', 'Event store unavailable', { cause });
}
