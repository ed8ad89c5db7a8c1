/**
 * @module storage/sqlite/sqlite-event-store
 * EventStore on one SQLite file through better-sqlite3: one connection, WAL, prepared
 * statements. A commit is durable when `append` resolves: `synchronous=FULL` makes SQLite
 * fsync the WAL at every commit, and ingest groups concurrent events into one commit so the
 * fsync is shared. The driver is synchronous; each call is short, and the write path runs a
 * single transaction per batch.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { EventType } from '../../../protocol/event-types.js';
import {
  serializeEvent,
  type EventDraft,
  type EventId,
  type EventJson,
  type EventRef,
  type Seq,
  type StoredEvent,
} from '../../domain/event.js';
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
  TypeCount,
} from '../event-store.js';
import { EVENT_COLUMNS, rowToEvent, type EventRow } from '../event-row.js';
import { randomEventId, scopedKey } from '../ids.js';
import { settle } from '../sync-call.js';
import { sortTypeCounts } from '../type-counts.js';
import { startCheckpointer, DEFAULT_CHECKPOINT_INTERVAL_MS, type Checkpointer } from './checkpointer.js';
import { MIGRATIONS } from './migrations/index.js';


/**
 * WAL pages (4 KiB each) before SQLite checkpoints inside a commit, on the event loop. With the
 * background checkpointer running this is only a safety net. (Without it, SQLite's default of
 * 1,000 cost a fifth of sustained ingest: 19k → 24k pipelined events/s at 10,000.)
 */
export const DEFAULT_WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** The safety-net threshold while the background checkpointer runs (~160 MB of WAL). */
const SAFETY_NET_AUTOCHECKPOINT_PAGES = 40_000;
/** Redraws of a colliding id before giving up (each has a 2^-48-ish chance). */
const MAX_ID_ATTEMPTS = 8;

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:'. The folder is created; the file gets mode 0600. */
  path: string;
  newId?: IdGenerator;
  /** WAL pages before an automatic checkpoint; see {@link DEFAULT_WAL_AUTOCHECKPOINT_PAGES}. */
  walAutocheckpointPages?: number;
  /** Checkpoint from a worker thread this often (0: leave it to SQLite, in the commit). */
  checkpointIntervalMs?: number;
  onBackgroundError?: (message: string) => void;
}

export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #newId: IdGenerator;
  #head: Seq;
  #lastTs: InstantUs;
  #closed = false;
  readonly #checkpointer: Checkpointer | undefined;
  readonly #insert: Database.Statement;
  readonly #upsertType: Database.Statement;
  readonly #upsertSecond: Database.Statement;
  readonly #setMeta: Database.Statement;
  readonly #byId: Database.Statement;
  readonly #findKey: Database.Statement;
  readonly #insertKey: Database.Statement;
  readonly #queries = new Map<string, Database.Statement>();
  readonly #appendTx: (drafts: readonly EventDraft[]) => AppendResult[];

  constructor(options: SqliteEventStoreOptions) {
    const onDisk = options.path !== ':memory:' && options.path !== '';
    if (onDisk) {
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    }
    const existed = onDisk && existsSync(options.path);
    this.#db = new Database(options.path);
    if (onDisk && !existed) chmodSync(options.path, 0o600);
    this.#newId = options.newId ?? randomEventId;
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = OFF');
    migrate(this.#db);
    const interval = options.checkpointIntervalMs ?? (onDisk ? DEFAULT_CHECKPOINT_INTERVAL_MS : 0);
    if (interval > 0 && onDisk) {
      this.#checkpointer = startCheckpointer(
        options.path,
        interval,
        () => this.#finishCheckpoint(),
        options.onBackgroundError ?? (() => undefined),
      );
    }
    const autoPages =
      options.walAutocheckpointPages ??
      (this.#checkpointer === undefined ? DEFAULT_WAL_AUTOCHECKPOINT_PAGES : SAFETY_NET_AUTOCHECKPOINT_PAGES);
    this.#db.pragma(`wal_autocheckpoint = ${autoPages}`);

    this.#insert = this.#db.prepare(
      'INSERT INTO events (seq, id, tenant, event_type, session_id, user_id, ts_us, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#upsertType = this.#db.prepare(
      `INSERT INTO tenant_type_stats (tenant, event_type, count, last_seen_us) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant, event_type) DO UPDATE SET count = count + excluded.count, last_seen_us = excluded.last_seen_us`,
    );
    this.#upsertSecond = this.#db.prepare(
      'INSERT INTO tenant_second_counts (tenant, second, n) VALUES (?, ?, ?) ON CONFLICT (tenant, second) DO UPDATE SET n = n + excluded.n',
    );
    this.#setMeta = this.#db.prepare('UPDATE meta SET value = ? WHERE key = ?');
    this.#byId = this.#db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`);
    this.#findKey = this.#db.prepare(
      'SELECT fingerprint, seq, id, body AS json FROM idempotency_keys WHERE key = ?',
    );
    this.#insertKey = this.#db.prepare(
      'INSERT INTO idempotency_keys (key, fingerprint, seq, id, body, created_us, user_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const meta = new Map(
      (this.#db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[]).map((r) => [
        r.key,
        r.value,
      ]),
    );
    this.#head = meta.get('head_seq') ?? 0;
    this.#lastTs = meta.get('last_ts_us') ?? 0;
    this.#appendTx = this.#db.transaction((drafts: readonly EventDraft[]) => this.#appendRows(drafts));
  }

  append(drafts: readonly EventDraft[]): Promise<AppendResult[]> {
    return settle(() => {
      this.#assertOpen();
      const head = this.#head;
      const lastTs = this.#lastTs;
      try {
        return this.#appendTx(drafts);
      } catch (err) {
        this.#head = head;
        this.#lastTs = lastTs;
        throw new PipelineError('STORAGE_UNAVAILABLE', 'Could not store events', { cause: err });
      }
    });
  }

  #appendRows(drafts: readonly EventDraft[]): AppendResult[] {
    const out: AppendResult[] = [];
    // Keyed by tenant and type, tenant and second: one upsert each per commit.
    const perType = new Map<string, { tenant: TenantId; type: EventType; n: number; lastTs: InstantUs }>();
    const perSecond = new Map<string, { tenant: TenantId; second: number; n: number }>();
    for (const d of drafts) {
      const tag = d.idempotency;
      if (tag !== undefined) {
        const known = this.#findKey.get(scopedKey(d.tenant, tag.key)) as (EventRef & { fingerprint: string }) | undefined;
        if (known !== undefined) {
          out.push(
            known.fingerprint === tag.fingerprint
              ? { kind: 'duplicate', event: { seq: known.seq, id: known.id, json: known.json } }
              : { kind: 'conflict', key: tag.key },
          );
          continue;
        }
      }
      const seq = ++this.#head;
      const ts = Math.max(d.receivedAtUs, this.#lastTs);
      this.#lastTs = ts;
      const { id, json } = this.#insertWithFreshId(seq, d, ts);
      if (tag !== undefined)
        this.#insertKey.run(scopedKey(d.tenant, tag.key), tag.fingerprint, seq, id, json, d.receivedAtUs, d.userId);
      out.push({
        kind: 'stored',
        event: {
          seq,
          id,
          tenant: d.tenant,
          eventType: d.eventType,
          sessionId: d.sessionId,
          userId: d.userId,
          timestampUs: ts,
          json,
        },
      });
      const second = Math.floor(ts / 1_000_000);
      const secondKey = `${d.tenant} ${second}`;
      const sc = perSecond.get(secondKey);
      if (sc === undefined) perSecond.set(secondKey, { tenant: d.tenant, second, n: 1 });
      else sc.n++;
      const typeKey = `${d.tenant} ${d.eventType}`;
      const t = perType.get(typeKey);
      if (t === undefined) perType.set(typeKey, { tenant: d.tenant, type: d.eventType, n: 1, lastTs: ts });
      else {
        t.n++;
        t.lastTs = ts;
      }
    }
    for (const t of perType.values()) this.#upsertType.run(t.tenant, t.type, t.n, t.lastTs);
    for (const sc of perSecond.values()) this.#upsertSecond.run(sc.tenant, sc.second, sc.n);
    this.#setMeta.run(this.#head, 'head_seq');
    this.#setMeta.run(this.#lastTs, 'last_ts_us');
    return out;
  }

  /** Inserts the row, redrawing the id while it collides with a stored one. */
  #insertWithFreshId(seq: Seq, d: EventDraft, ts: InstantUs): { id: EventId; json: string } {
    for (let attempt = 1; ; attempt++) {
      const id = this.#newId();
      const json = serializeEvent(seq, id, d, ts);
      try {
        this.#insert.run(seq, id, d.tenant, d.eventType, d.sessionId, d.userId, ts, json);
        return { id, json };
      } catch (err) {
        const idTaken =
          err instanceof Database.SqliteError &&
          err.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
          err.message.includes('events.id');
        if (!idTaken || attempt >= MAX_ID_ATTEMPTS) throw err;
      }
    }
  }

  /** After a background pass: copy what was written meanwhile, so the WAL can start over. */
  #finishCheckpoint(): void {
    if (this.#closed) return;
    try {
      this.#db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A busy reader or writer: the next pass tries again.
    }
  }

  getById(tenant: TenantId, id: EventId): Promise<StoredEvent | undefined> {
    return settle(() => {
      this.#assertOpen();
      const row = this.#byId.get(id) as EventRow | undefined;
      return row === undefined || row.tenant !== tenant ? undefined : rowToEvent(row);
    });
  }

  query(q: EventQuery): Promise<EventJson[]> {
    return settle(() => {
      this.#assertOpen();
      const where: string[] = ['tenant = ?'];
      const params: (string | number)[] = [q.tenant];
      if (q.eventType !== undefined) {
        where.push('event_type = ?');
        params.push(q.eventType);
      }
      if (q.eventTypes !== undefined && q.eventTypes.length > 0) {
        where.push(`event_type IN (${q.eventTypes.map(() => '?').join(', ')})`);
        params.push(...q.eventTypes);
      }
      if (q.sessionId !== undefined) {
        where.push('session_id = ?');
        params.push(q.sessionId);
      }
      if (q.userId !== undefined) {
        where.push('user_id = ?');
        params.push(q.userId);
      }
      // Timestamps never decrease in seq order, so a time bound is a seq bound, and every query
      // walks a (column, seq) index or the table itself in seq order.
      const after = Math.max(
        q.afterSeq ?? 0,
        q.sinceUs === undefined ? 0 : this.#lastSeqAtOrBefore(q.tenant, q.sinceUs),
      );
      if (after > 0) {
        where.push('seq > ?');
        params.push(after);
      }
      let before = q.beforeSeq ?? Infinity;
      if (q.untilUs !== undefined) before = Math.min(before, this.#lastSeqAtOrBefore(q.tenant, q.untilUs) + 1);
      if (before !== Infinity) {
        where.push('seq < ?');
        params.push(before);
      }
      // Only the body: building row objects costs more than the query itself.
      const sql = `SELECT body FROM events WHERE ${where.join(' AND ')} ORDER BY seq ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
      params.push(q.limit);
      return this.#statement(sql, true).all(...params) as EventJson[];
    });
  }

  deleteBefore(
    tenant: TenantId | null,
    beforeUs?: InstantUs,
    audit?: AuditContext & { action: 'delete_events' | 'retention_purge' },
  ): Promise<number> {
    return settle(() => {
      this.#assertOpen();
      return this.#db.transaction(() => {
        const tenants =
          tenant !== null
            ? [tenant]
            : (this.#statement('SELECT DISTINCT tenant FROM tenant_type_stats', true).all() as TenantId[]);
        let total = 0;
        for (const t of tenants) {
          const n = this.#deleteRows(t, beforeUs);
          total += n;
          if (audit !== undefined && (n > 0 || audit.action !== 'retention_purge'))
            this.#audit(t, audit, audit.action, beforeUs === undefined ? null : formatInstant(beforeUs), n);
        }
        return total;
      })();
    });
  }

  eraseUser(tenant: TenantId, userId: string, audit: AuditContext): Promise<number> {
    return settle(() => {
      this.#assertOpen();
      return this.#db.transaction(() => {
        const types = this.#statement(
          'SELECT event_type, count(*) AS n FROM events WHERE tenant = ? AND user_id = ? GROUP BY event_type',
        ).all(tenant, userId) as { event_type: EventType; n: number }[];
        const seconds = this.#statement(
          'SELECT ts_us / 1000000 AS second, count(*) AS n FROM events WHERE tenant = ? AND user_id = ? GROUP BY ts_us / 1000000',
        ).all(tenant, userId) as { second: number; n: number }[];
        const n = this.#statement('DELETE FROM events WHERE tenant = ? AND user_id = ?').run(tenant, userId).changes;
        for (const t of types) this.#subtractType(tenant, t.event_type, t.n);
        for (const sc of seconds) {
          this.#statement('UPDATE tenant_second_counts SET n = n - ? WHERE tenant = ? AND second = ?').run(
            sc.n,
            tenant,
            sc.second,
          );
        }
        this.#statement('DELETE FROM tenant_second_counts WHERE tenant = ? AND n <= 0').run(tenant);
        // The tenant's keys are the range ['<tenant>:', '<tenant>;'): ';' follows ':' in ASCII.
        this.#statement('DELETE FROM idempotency_keys WHERE user_id = ? AND key >= ? AND key < ?').run(
          userId,
          `${tenant}:`,
          `${tenant};`,
        );
        this.#audit(tenant, audit, 'erase_user', userId, n);
        return n;
      })();
    });
  }

  listAudit(tenant: TenantId, limit: number, beforeId?: number): Promise<AuditRecord[]> {
    return settle(() => {
      this.#assertOpen();
      const rows = this.#statement(
        'SELECT id, at_us, actor, action, target, count FROM audit_log WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?',
      ).all(tenant, beforeId ?? Number.MAX_SAFE_INTEGER, limit) as {
        id: number;
        at_us: number;
        actor: string;
        action: AuditRecord['action'];
        target: string | null;
        count: number;
      }[];
      return rows.map((r) => ({
        id: r.id,
        tenant,
        atUs: r.at_us,
        actor: r.actor,
        action: r.action,
        target: r.target,
        count: r.count,
      }));
    });
  }

  #audit(tenant: TenantId, ctx: AuditContext, action: AuditRecord['action'], target: string | null, count: number): void {
    this.#statement(
      'INSERT INTO audit_log (tenant, at_us, actor, action, target, count) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(tenant, ctx.atUs, ctx.actor, action, target, count);
  }

  /** Deletes a prefix of a tenant's history (inside the caller's transaction), keeping counts exact. */
  #deleteRows(tenant: TenantId, beforeUs: InstantUs | undefined): number {
    this.#recordHorizon(tenant, beforeUs);
    if (beforeUs === undefined) {
      const n = this.#statement('DELETE FROM events WHERE tenant = ?').run(tenant).changes;
      this.#statement('DELETE FROM tenant_type_stats WHERE tenant = ?').run(tenant);
      this.#statement('DELETE FROM tenant_second_counts WHERE tenant = ?').run(tenant);
      return n;
    }
    const counts = this.#statement(
      'SELECT event_type, count(*) AS n FROM events WHERE tenant = ? AND ts_us < ? GROUP BY event_type',
    ).all(tenant, beforeUs) as {
      event_type: EventType;
      n: number;
    }[];
    const n = this.#statement('DELETE FROM events WHERE tenant = ? AND ts_us < ?').run(tenant, beforeUs).changes;
    for (const c of counts) this.#subtractType(tenant, c.event_type, c.n);
    const boundary = Math.floor(beforeUs / 1_000_000);
    this.#statement('DELETE FROM tenant_second_counts WHERE tenant = ? AND second <= ?').run(tenant, boundary);
    const left = this.#countBetween(tenant, boundary * 1_000_000, (boundary + 1) * 1_000_000);
    if (left > 0) this.#upsertSecond.run(tenant, boundary, left);
    return n;
  }

  /** Remembers the newest event a delete is about to remove (deletes remove a seq prefix). */
  #recordHorizon(tenant: TenantId, beforeUs: InstantUs | undefined): void {
    const last = (
      beforeUs === undefined
        ? this.#statement('SELECT seq, ts_us FROM events WHERE tenant = ? ORDER BY seq DESC LIMIT 1').get(tenant)
        : this.#statement(
            'SELECT seq, ts_us FROM events WHERE tenant = ? AND ts_us < ? ORDER BY ts_us DESC, seq DESC LIMIT 1',
          ).get(tenant, beforeUs)
    ) as { seq: number; ts_us: number } | undefined;
    if (last === undefined) return;
    this.#statement(
      `INSERT INTO tenant_horizons (tenant, purged_seq, purged_ts_us) VALUES (?, ?, ?)
       ON CONFLICT (tenant) DO UPDATE SET purged_seq = excluded.purged_seq, purged_ts_us = excluded.purged_ts_us`,
    ).run(tenant, last.seq, last.ts_us);
  }

  horizon(tenant: TenantId): Promise<Horizon> {
    return settle(() => {
      this.#assertOpen();
      const row = this.#statement('SELECT purged_seq, purged_ts_us FROM tenant_horizons WHERE tenant = ?').get(
        tenant,
      ) as { purged_seq: number; purged_ts_us: number } | undefined;
      return { purgedSeq: row?.purged_seq ?? 0, purgedUntilUs: row?.purged_ts_us ?? 0 };
    });
  }

  pruneIdempotencyKeys(beforeUs: InstantUs): Promise<number> {
    return settle(() => {
      this.#assertOpen();
      return this.#statement('DELETE FROM idempotency_keys WHERE created_us < ?').run(beforeUs).changes;
    });
  }

  #subtractType(tenant: TenantId, type: EventType, n: number): void {
    const latest = this.#statement(
      'SELECT ts_us FROM events WHERE tenant = ? AND event_type = ? ORDER BY seq DESC LIMIT 1',
    ).get(tenant, type) as { ts_us: number } | undefined;
    if (latest === undefined)
      this.#statement('DELETE FROM tenant_type_stats WHERE tenant = ? AND event_type = ?').run(tenant, type);
    else
      this.#statement(
        'UPDATE tenant_type_stats SET count = count - ?, last_seen_us = ? WHERE tenant = ? AND event_type = ?',
      ).run(n, latest.ts_us, tenant, type);
  }

  stats(tenant: TenantId, sinceUs: InstantUs): Promise<StoreStats> {
    return settle(() => {
      this.#assertOpen();
      const rows = this.#statement(
        'SELECT event_type, count, last_seen_us FROM tenant_type_stats WHERE tenant = ?',
      ).all(tenant) as {
        event_type: EventType;
        count: number;
        last_seen_us: number;
      }[];
      const byType: TypeCount[] = rows.map((r) => ({
        eventType: r.event_type,
        count: r.count,
        lastSeenUs: r.last_seen_us,
      }));
      // Whole seconds after the one holding `sinceUs` from the counts; that one second exactly.
      const second = Math.floor(sinceUs / 1_000_000);
      const whole = this.#statement(
        'SELECT coalesce(sum(n), 0) FROM tenant_second_counts WHERE tenant = ? AND second > ?',
        true,
      ).get(tenant, second) as number;
      const eventsSince = whole + this.#countBetween(tenant, sinceUs + 1, (second + 1) * 1_000_000);
      return {
        totalEvents: byType.reduce((s, t) => s + t.count, 0),
        eventsSince,
        byType: sortTypeCounts(byType),
      };
    });
  }

  /**
   * The highest seq of the tenant received at or before `us` (0 if none), from the timestamp
   * index: a bound for that tenant's queries, since its timestamps never decrease in seq order.
   */
  #lastSeqAtOrBefore(tenant: TenantId, us: InstantUs): Seq {
    const seq = this.#statement(
      'SELECT seq FROM events WHERE tenant = ? AND ts_us <= ? ORDER BY ts_us DESC, seq DESC LIMIT 1',
      true,
    ).get(tenant, us) as number | undefined;
    return seq ?? 0;
  }

  /** The tenant's events with `fromUs <= ts_us < toUs`, counted on the timestamp index. */
  #countBetween(tenant: TenantId, fromUs: InstantUs, toUs: InstantUs): number {
    return this.#statement('SELECT count(*) FROM events WHERE tenant = ? AND ts_us >= ? AND ts_us < ?', true).get(
      tenant,
      fromUs,
      toUs,
    ) as number;
  }

  headSeq(): Seq {
    return this.#head;
  }

  readHeadSeq(): Promise<Seq> {
    return settle(() => {
      this.#assertOpen();
      return this.#head;
    });
  }

  tail(afterSeq: Seq, limit: number): Promise<StoredEvent[]> {
    return settle(() => {
      this.#assertOpen();
      const rows = this.#statement(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`).all(afterSeq, limit) as EventRow[];
      return rows.map(rowToEvent);
    });
  }

  ping(): Promise<void> {
    return settle(() => {
      this.#assertOpen();
      this.#statement('SELECT 1').get();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#checkpointer?.stop();
    this.#db.close();
  }

  /** The query plan SQLite chooses, for tests that pin index use. */
  explain(sql: string, ...params: unknown[]): string[] {
    return (this.#db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
      (r) => r.detail,
    );
  }

  #statement(sql: string, pluck = false): Database.Statement {
    const key = pluck ? `pluck:${sql}` : sql;
    let s = this.#queries.get(key);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      if (pluck) s.pluck(true);
      this.#queries.set(key, s);
    }
    return s;
  }

  #assertOpen(): void {
    if (this.#closed) throw new PipelineError('STORAGE_UNAVAILABLE', 'Event store is closed');
  }
}


function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this server knows (${MIGRATIONS.length}); upgrade the server`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
