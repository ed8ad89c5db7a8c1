/**
 * @module auth/api-keys
 * Scoped API keys for services: `rep_<id>_<secret>`, where the id (12 hex digits) is public and
 * the secret (256 random bits) is shown once, at creation, and stored only as a SHA-256 digest.
 * Verification looks the id up and compares digests in constant time, so neither a key's
 * content nor its length leaks through timing.
 *
 * The key-store port and its adapters (SQLite, in memory) live here too: they are small, and
 * nothing else stores credentials.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import type { InstantUs } from '../domain/timestamp.js';
import { isScope, type Scope } from './principal.js';

export const API_KEY_PATTERN = /^rep_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdUs: InstantUs;
  readonly revokedUs: InstantUs | null;
}

export interface NewApiKey {
  readonly tenant: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
}

/** Where keys live. Lookups are by id; the digest never leaves the store except to be compared. */
export interface ApiKeyStore {
  insert(record: ApiKeyRecord, secretHash: string): Promise<void>;
  /** The record and its secret digest, revoked or not. */
  find(id: string): Promise<{ record: ApiKeyRecord; secretHash: string } | undefined>;
  /** Keys of one tenant (or all, for the operator's CLI), newest first. */
  list(tenant: string | null): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; false when it does not exist in that tenant (or is already revoked). */
  revoke(id: string, tenant: string | null, atUs: InstantUs): Promise<boolean>;
  close(): Promise<void>;
}

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Makes a key: the record to store, and the full key to show once. */
export function mintApiKey(input: NewApiKey, atUs: InstantUs): { record: ApiKeyRecord; key: string; secretHash: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { record: { id, tenant: input.tenant, name: input.name, scopes: [...new Set(input.scopes)], createdUs: atUs, revokedUs: null }, key: `rep_${id}_${secret}`, secretHash: digest(secret) };
}

/** The record of a valid, unrevoked key; undefined for anything else. */
/** How a key appears as a principal's actor, in logs and audit records. */
export const apiKeyActor = (id: string): string => `key:${id}`;

/** The key id of an actor that is an API key, or undefined. */
export const apiKeyIdOf = (actor: string): string | undefined => (actor.startsWith('key:') ? actor.slice(4) : undefined);

export async function verifyApiKey(store: ApiKeyStore, key: string): Promise<ApiKeyRecord | undefined> {
  const m = API_KEY_PATTERN.exec(key);
  if (m === null) return undefined;
  const found = await store.find(m[1] as string);
  const expected = Buffer.from(found?.secretHash ?? '0'.repeat(64), 'hex');
  const ok = timingSafeEqual(Buffer.from(digest(m[2] as string), 'hex'), expected);
  return ok && found !== undefined && found.record.revokedUs === null ? found.record : undefined;
}

export class MemoryApiKeyStore implements ApiKeyStore {
  readonly #keys = new Map<string, { record: ApiKeyRecord; secretHash: string }>();

  insert(record: ApiKeyRecord, secretHash: string): Promise<void> {
    this.#keys.set(record.id, { record, secretHash });
    return Promise.resolve();
  }

  find(id: string): Promise<{ record: ApiKeyRecord; secretHash: string } | undefined> {
    return Promise.resolve(this.#keys.get(id));
  }

  list(tenant: string | null): Promise<ApiKeyRecord[]> {
    return Promise.resolve([...this.#keys.values()].map((k) => k.record).filter((r) => tenant === null || r.tenant === tenant).reverse());
  }

  revoke(id: string, tenant: string | null, atUs: InstantUs): Promise<boolean> {
    const k = this.#keys.get(id);
    if (k === undefined || k.record.revokedUs !== null || (tenant !== null && k.record.tenant !== tenant)) return Promise.resolve(false);
    this.#keys.set(id, { ...k, record: { ...k.record, revokedUs: atUs } });
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The `api_keys` table's row, as the SQL key stores read it. */
export interface ApiKeyRow {
  id: string;
  tenant: string;
  name: string;
  scopes: string;
  secret_hash: string;
  created_us: number;
  revoked_us: number | null;
}

export const rowToApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  scopes: r.scopes.split(' ').filter(isScope),
  createdUs: r.created_us,
  revokedUs: r.revoked_us,
});

/**
 * Keys in the event database's `api_keys` table (created by its migrations, which must have run:
 * open the event store first). Its own connection, so the CLI can manage keys while a server runs.
 */
export class SqliteApiKeyStore implements ApiKeyStore {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = new Database(path, { fileMustExist: path !== ':memory:' });
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma('synchronous = FULL');
  }

  insert(record: ApiKeyRecord, secretHash: string): Promise<void> {
    this.#db
      .prepare('INSERT INTO api_keys (id, tenant, name, scopes, secret_hash, created_us, revoked_us) VALUES (?, ?, ?, ?, ?, ?, NULL)')
      .run(record.id, record.tenant, record.name, record.scopes.join(' '), secretHash, record.createdUs);
    return Promise.resolve();
  }

  find(id: string): Promise<{ record: ApiKeyRecord; secretHash: string } | undefined> {
    const row = this.#db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as ApiKeyRow | undefined;
    return Promise.resolve(row === undefined ? undefined : { record: rowToApiKey(row), secretHash: row.secret_hash });
  }

  list(tenant: string | null): Promise<ApiKeyRecord[]> {
    const rows = (
      tenant === null
        ? this.#db.prepare('SELECT * FROM api_keys ORDER BY created_us DESC').all()
        : this.#db.prepare('SELECT * FROM api_keys WHERE tenant = ? ORDER BY created_us DESC').all(tenant)
    ) as ApiKeyRow[];
    return Promise.resolve(rows.map(rowToApiKey));
  }

  revoke(id: string, tenant: string | null, atUs: InstantUs): Promise<boolean> {
    const r = this.#db
      .prepare('UPDATE api_keys SET revoked_us = ? WHERE id = ? AND revoked_us IS NULL AND (? IS NULL OR tenant = ?)')
      .run(atUs, id, tenant, tenant);
    return Promise.resolve(r.changes === 1);
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}
