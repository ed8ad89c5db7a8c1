/**
 * @module config/schema
 * Every setting: its environment variable, default (with units), parser and one-line doc. The
 * README's configuration table mirrors this list; a test keeps them in step.
 */
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_PAYLOAD_DEPTH, DEFAULT_MAX_PAYLOAD_KEYS } from '../domain/event.js';
import { DEFAULT_SUBSCRIBER_QUEUE_MAX_BYTES, DEFAULT_SUBSCRIBER_QUEUE_MAX_EVENTS } from '../delivery/send-queue.js';
import { isIP } from 'node:net';
import { EVENT_TYPES, type EventType } from '../../protocol/event-types.js';
import type { RateLimit } from '../limits/rate-limiter.js';
import type { LogLevel } from '../log/logger.js';

export interface Config {
  host: string;
  port: number;
  eventStore: 'sqlite' | 'memory' | 'postgres';
  databaseUrl: string | null;
  databaseSchema: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  databasePath: string;
  checkpointIntervalMs: number;
  corsOrigins: readonly string[];
  requireAuth: boolean;
  apiKey: string | null;
  rateLimitPublish: RateLimit | null;
  rateLimitQuery: RateLimit | null;
  rateLimitAdmin: RateLimit | null;
  maxQueueSize: number;
  subscriberQueueMaxBytes: number;
  maxSubscribers: number;
  maxWsMessageBytes: number;
  maxWsFrameBytes: number;
  maxWsConnectionsPerIp: number;
  maxWsConnectionsPerCredential: number;
  wsAuthTimeoutMs: number;
  maxPayloadKeys: number;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
  maxBodyBytes: number;
  maxBatchBodyBytes: number;
  subscribeTimeoutMs: number;
  keepaliveIntervalMs: number;
  wsPingIntervalMs: number;
  httpHeadersTimeoutMs: number;
  maxPageSize: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
  jwtSecret: string | null;
  jwtPublicKey: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  allowInsecure: boolean;
  trustedProxies: readonly string[];
  retentionDays: number;
  ephemeralEventTypes: readonly EventType[];
  idempotencyKeyTtlHours: number;
  replayPageSize: number;
  sseHeartbeatMs: number;
  logLevel: LogLevel;
}

export type Parser<T> = (raw: string) => T | { error: string };

export interface Setting<K extends keyof Config = keyof Config> {
  key: K;
  env: string;
  default: string;
  doc: string;
  parse: Parser<Config[K]>;
}

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    if (!/^\d+$/.test(raw.trim())) return { error: `must be a whole number, got '${raw}'` };
    const n = Number(raw);
    return n < min || n > max ? { error: `must be between ${min} and ${max}, got ${n}` } : n;
  };

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return { error: `must be true or false, got '${raw}'` };
};

const UNIT_MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;

/** `<count>/<second|minute|hour>`, or `off` for no limit. */
export const rateLimit: Parser<RateLimit | null> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === 'off') return null;
  const m = /^(\d+)\s*\/\s*(second|minute|hour)s?$/.exec(v);
  if (m === null || Number(m[1]) < 1) return { error: `must look like 100/minute (count per second, minute or hour) or off, got '${raw}'` };
  return { count: Number(m[1]), windowMs: UNIT_MS[m[2] as keyof typeof UNIT_MS] };
};

function setting<K extends keyof Config>(s: Setting<K>): Setting<K> {
  return s;
}

export const SETTINGS = [
  setting({ key: 'host', env: 'HOST', default: '127.0.0.1', doc: 'Address to listen on', parse: (r) => (r.trim() === '' ? { error: 'must not be empty' } : r.trim()) }),
  setting({ key: 'port', env: 'PORT', default: '8001', doc: 'TCP port (0 picks a free one)', parse: int(0, 65535) }),
  setting({
    key: 'eventStore',
    env: 'EVENT_STORE',
    default: 'sqlite',
    doc: '`sqlite` (durable, at DATABASE_PATH), `memory` (lost on exit), or `postgres` (at DATABASE_URL; chosen by setting DATABASE_URL)',
    parse: (r) => (r === 'sqlite' || r === 'memory' || r === 'postgres' ? r : { error: `must be sqlite, memory or postgres, got '${r}'` }),
  }),
  setting({
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    default: '',
    doc: '`postgres://user@host:port/database`: store events in PostgreSQL, shared by every instance (see docs/scale-out.md); empty: SQLite',
    parse: (r) => (r === '' ? null : /^postgres(ql)?:\/\//.test(r) ? r : { error: 'must be a postgres:// URL' }),
  }),
  setting({
    key: 'databaseSchema',
    env: 'DATABASE_SCHEMA',
    default: '',
    doc: 'PostgreSQL schema for the tables (created when missing); empty: the server\'s search path',
    parse: (r) => (r === '' ? null : /^[a-z_][a-z0-9_]{0,62}$/.test(r) ? r : { error: 'must be a lowercase SQL identifier' }),
  }),
  setting({
    key: 'redisUrl',
    env: 'REDIS_URL',
    default: '',
    doc: '`redis://host:port`: fan events out between instances through Redis and share rate limits (needs DATABASE_URL); empty: one instance',
    parse: (r) => (r === '' ? null : /^rediss?:\/\//.test(r) ? r : { error: 'must be a redis:// URL' }),
  }),
  setting({ key: 'redisPrefix', env: 'REDIS_PREFIX', default: 'rep', doc: 'Prefix of the Redis channel and keys; instances of one cluster share it', parse: (r) => (/^[A-Za-z0-9_.:-]{1,64}$/.test(r) ? r : { error: 'must be 1 to 64 of A-Z a-z 0-9 _ . : -' }) }),
  setting({ key: 'databasePath', env: 'DATABASE_PATH', default: './data/events.db', doc: 'SQLite file; its folder is created, the file gets mode 600', parse: (r) => (r.trim() === '' ? { error: 'must not be empty' } : r) }),
  setting({
    key: 'checkpointIntervalMs',
    env: 'SQLITE_CHECKPOINT_INTERVAL_MS',
    default: '250',
    doc: 'How often a background thread checkpoints the SQLite WAL, in ms; 0 leaves it to SQLite, inside commits (stalls delivery)',
    parse: int(0, 60_000),
  }),
  setting({
    key: 'corsOrigins',
    env: 'CORS_ORIGINS',
    default: '',
    doc: 'Comma-separated browser origins allowed by CORS (`*` for any); empty: CORS closed',
    parse: (r) => r.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  }),
  setting({ key: 'requireAuth', env: 'REQUIRE_AUTH', default: 'false', doc: 'Require API_KEY on every event, stats and WebSocket request', parse: bool }),
  setting({ key: 'apiKey', env: 'API_KEY', default: '', doc: 'The shared key (`X-API-Key` header; WebSockets: `x-api-key` header or `api_key` query parameter)', parse: (r) => (r === '' ? null : r) }),
  setting({ key: 'rateLimitPublish', env: 'RATE_LIMIT_PUBLISH', default: '1000/second', doc: 'Publishes per client (REST and WebSocket together), or `off`', parse: rateLimit }),
  setting({ key: 'rateLimitQuery', env: 'RATE_LIMIT_QUERY', default: '100/second', doc: 'History, stats, docs and subscriber control messages per client, or `off`', parse: rateLimit }),
  setting({ key: 'rateLimitAdmin', env: 'RATE_LIMIT_ADMIN', default: '60/minute', doc: 'Deletes per client, or `off`', parse: rateLimit }),
  setting({ key: 'maxQueueSize', env: 'MAX_QUEUE_SIZE', default: String(DEFAULT_SUBSCRIBER_QUEUE_MAX_EVENTS), doc: 'Events a subscriber may have waiting before it is closed as a slow consumer (4000)', parse: int(1) }),
  setting({ key: 'subscriberQueueMaxBytes', env: 'SUBSCRIBER_QUEUE_MAX_BYTES', default: String(DEFAULT_SUBSCRIBER_QUEUE_MAX_BYTES), doc: 'Bytes a subscriber may have waiting before it is closed as a slow consumer (4000)', parse: int(1024) }),
  setting({ key: 'maxSubscribers', env: 'MAX_SUBSCRIBERS', default: '5000', doc: 'Subscriptions on this server; more are refused with close code 4001', parse: int(1) }),
  setting({ key: 'maxWsMessageBytes', env: 'MAX_WS_MESSAGE_BYTES', default: '1048576', doc: 'Largest WebSocket message handled; larger ones get `Message too large` and the socket stays open', parse: int(1024) }),
  setting({ key: 'maxWsFrameBytes', env: 'MAX_WS_FRAME_BYTES', default: '16777216', doc: 'Largest WebSocket message read at all; larger ones close the socket with 1009', parse: int(1024) }),
  setting({ key: 'maxWsConnectionsPerCredential', env: 'MAX_WS_CONNECTIONS_PER_CREDENTIAL', default: '100', doc: 'Open WebSocket and SSE connections per scoped API key or token (the shared key and open mode count per address); more are refused with HTTP 429, or closed with 4003 after first-message authentication', parse: int(1) }),
  setting({ key: 'wsAuthTimeoutMs', env: 'WS_AUTH_TIMEOUT_MS', default: '10000', doc: 'Time a WebSocket opened with `auth=message` has to send its `auth` message, in ms (then close 4501)', parse: int(100) }),
  setting({ key: 'maxWsConnectionsPerIp', env: 'MAX_WS_CONNECTIONS_PER_IP', default: '20', doc: 'Open WebSocket and SSE connections per client address; more are refused (before the upgrade) with HTTP 429', parse: int(1) }),
  setting({ key: 'maxPayloadKeys', env: 'MAX_PAYLOAD_KEYS', default: String(DEFAULT_MAX_PAYLOAD_KEYS), doc: 'Top-level keys in an event payload', parse: int(1) }),
  setting({ key: 'maxPayloadBytes', env: 'MAX_PAYLOAD_BYTES', default: String(DEFAULT_MAX_PAYLOAD_BYTES), doc: 'Payload size as compact UTF-8 JSON, in bytes', parse: int(2) }),
  setting({ key: 'maxPayloadDepth', env: 'MAX_PAYLOAD_DEPTH', default: String(DEFAULT_MAX_PAYLOAD_DEPTH), doc: 'Nesting depth of a payload (the payload object is level 1)', parse: int(1, 1000) }),
  setting({ key: 'maxBodyBytes', env: 'MAX_BODY_BYTES', default: '1048576', doc: 'Largest HTTP request body; larger ones get 413. Must exceed MAX_PAYLOAD_BYTES', parse: int(1024) }),
  setting({ key: 'maxBatchBodyBytes', env: 'MAX_BATCH_BODY_BYTES', default: '8388608', doc: 'Largest body of `POST /events/batch` (up to 1,000 events); larger ones get 413', parse: int(1024) }),
  setting({ key: 'maxPageSize', env: 'MAX_PAGE_SIZE', default: '1000', doc: 'Largest `limit` of a history request (`GET /events`); larger ones get 422', parse: int(1, 10_000) }),
  setting({ key: 'subscribeTimeoutMs', env: 'SUBSCRIBE_TIMEOUT_MS', default: '10000', doc: 'Time a subscriber has to send a valid filter config, in ms (then close 4500)', parse: int(100) }),
  setting({ key: 'keepaliveIntervalMs', env: 'KEEPALIVE_INTERVAL_MS', default: '30000', doc: 'Quiet time on a subscribe socket before the server sends `{"type":"keepalive"}`, in ms', parse: int(100) }),
  setting({ key: 'wsPingIntervalMs', env: 'WS_PING_INTERVAL_MS', default: '30000', doc: 'WebSocket ping interval, in ms; a peer that has not answered the previous ping is disconnected', parse: int(100) }),
  setting({ key: 'httpHeadersTimeoutMs', env: 'HTTP_HEADERS_TIMEOUT_MS', default: '10000', doc: "Time a client has to send a request's headers, in ms (slowloris); then 408 and the connection is closed", parse: int(100) }),
  setting({ key: 'httpRequestTimeoutMs', env: 'HTTP_REQUEST_TIMEOUT_MS', default: '30000', doc: 'Time a client has to send a whole request, body included, in ms; then 408 and the connection is closed', parse: int(100) }),
  setting({ key: 'httpKeepAliveTimeoutMs', env: 'HTTP_KEEP_ALIVE_TIMEOUT_MS', default: '5000', doc: 'An idle keep-alive HTTP connection is closed after this, in ms', parse: int(100) }),
  setting({ key: 'shutdownTimeoutMs', env: 'SHUTDOWN_TIMEOUT_MS', default: '10000', doc: 'Longest a graceful shutdown waits for commits and sockets, in ms', parse: int(0) }),
  setting({ key: 'jwtSecret', env: 'JWT_SECRET', default: '', doc: 'HMAC secret (at least 32 characters) that signs browser JWTs (HS256/384/512); empty: no HMAC tokens', parse: (r) => (r === '' ? null : r.length < 32 ? { error: 'must be at least 32 characters' } : r) }),
  setting({ key: 'jwtPublicKey', env: 'JWT_PUBLIC_KEY', default: '', doc: 'PEM public key that verifies browser JWTs (RS256, PS256, ES256, EdDSA); empty: none', parse: (r) => (r === '' ? null : r.replace(/\\n/g, '\n')) }),
  setting({ key: 'jwtIssuer', env: 'JWT_ISSUER', default: '', doc: 'Required `iss` of JWTs (required when JWTs are configured)', parse: (r) => (r === '' ? null : r) }),
  setting({ key: 'jwtAudience', env: 'JWT_AUDIENCE', default: '', doc: 'Required `aud` of JWTs (required when JWTs are configured)', parse: (r) => (r === '' ? null : r) }),
  setting({
    key: 'allowInsecure',
    env: 'ALLOW_INSECURE',
    default: 'false',
    doc: 'Start even when HOST is not a loopback address and REQUIRE_AUTH is off (anyone who can reach the port reads every event)',
    parse: bool,
  }),
  setting({
    key: 'trustedProxies',
    env: 'TRUSTED_PROXIES',
    default: '',
    doc: 'Comma-separated addresses of reverse proxies whose `X-Forwarded-For` is believed for per-address limits; empty: the peer address is the client',
    parse: (r) => {
      const list = r.split(',').map((x) => x.trim()).filter((x) => x !== '');
      const bad = list.filter((x) => isIP(x) === 0);
      return bad.length > 0 ? { error: `not IP addresses: ${bad.join(', ')}` } : list;
    },
  }),
  setting({
    key: 'retentionDays',
    env: 'RETENTION_DAYS',
    default: '0',
    doc: 'Delete events older than this many days (checked at start and hourly, each purge audited); 0 keeps everything',
    parse: int(0, 36_500),
  }),
  setting({
    key: 'ephemeralEventTypes',
    env: 'EPHEMERAL_EVENT_TYPES',
    default: 'timer_tick',
    doc: 'Comma-separated event types delivered live but never stored (no `seq`, no history, no replay); `none` stores every type',
    parse: (r) => {
      const v = r.trim();
      if (v === '' || v.toLowerCase() === 'none') return [];
      const types = v.split(',').map((t) => t.trim()).filter((t) => t !== '');
      const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      return unknown.length > 0 ? { error: `unknown event type(s) ${unknown.map((t) => `'${t}'`).join(', ')}; valid: ${EVENT_TYPES.join(', ')}` } : (types as EventType[]);
    },
  }),
  setting({ key: 'idempotencyKeyTtlHours', env: 'IDEMPOTENCY_KEY_TTL_HOURS', default: '24', doc: 'Hours an idempotency key is remembered (at least 24)', parse: int(24, 24 * 365) }),
  setting({ key: 'replayPageSize', env: 'REPLAY_PAGE_SIZE', default: '500', doc: 'Stored events read per step while a subscriber catches up', parse: int(1, 10_000) }),
  setting({ key: 'sseHeartbeatMs', env: 'SSE_HEARTBEAT_MS', default: '15000', doc: 'Quiet time on a Server-Sent Events stream before a heartbeat comment, in ms', parse: int(100) }),
  setting({
    key: 'logLevel',
    env: 'LOG_LEVEL',
    default: 'info',
    doc: '`debug`, `info`, `warning` or `error`',
    parse: (r) => {
      const v = r.trim().toLowerCase();
      const level = v === 'warn' ? 'warning' : v === 'critical' ? 'error' : v;
      return level === 'debug' || level === 'info' || level === 'warning' || level === 'error' ? level : { error: `must be debug, info, warning or error, got '${r}'` };
    },
  }),
] as const;
