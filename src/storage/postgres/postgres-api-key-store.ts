/**
 * @module storage/postgres/postgres-api-key-store
 * Scoped API keys in PostgreSQL's `api_keys` table (created by the event store's migrations),
 * so every instance knows every key, and a revocation on one is seen by all on their next
 * lookup. Shares the event store's pool.
 */
import type pg from 'pg';
import { rowToApiKey, type ApiKeyRecord, type ApiKeyRow, type ApiKeyStore } from '../../auth/api-keys.js';
import type { InstantUs } from '../../domain/timestamp.js';

export class PostgresApiKeyStore implements ApiKeyStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async insert(record: ApiKeyRecord, secretHash: string): Promise<void> {
    await this.#pool.query('INSERT INTO api_keys (id, tenant, name, scopes, secret_hash, created_us, revoked_us) VALUES ($1, $2, $3, $4, $5, $6, NULL)', [
      record.id,
      record.tenant,
      record.name,
      record.scopes.join(' '),
      secretHash,
      record.createdUs,
    ]);
  }

  async find(id: string): Promise<{ record: ApiKeyRecord; secretHash: string } | undefined> {
    const [row] = (await this.#pool.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id])).rows;
    return row === undefined ? undefined : { record: rowToApiKey(row), secretHash: row.secret_hash };
  }

  async list(tenant: string | null): Promise<ApiKeyRecord[]> {
    const rows =
      tenant === null
        ? (await this.#pool.query<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_us DESC')).rows
        : (await this.#pool.query<ApiKeyRow>('SELECT * FROM api_keys WHERE tenant = $1 ORDER BY created_us DESC', [tenant])).rows;
    return rows.map(rowToApiKey);
  }

  async revoke(id: string, tenant: string | null, atUs: InstantUs): Promise<boolean> {
    const r = await this.#pool.query('UPDATE api_keys SET revoked_us = $1 WHERE id = $2 AND revoked_us IS NULL AND ($3::text IS NULL OR tenant = $3)', [atUs, id, tenant]);
    return r.rowCount === 1;
  }

  /** The pool belongs to the event store, which closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
