/**
 * @module app
 * The composition root: the only module that names concrete adapters. Builds the store, bus,
 * ingest and delivery services and the HTTP edge from a Config, and knows how to stop them
 * in order.
 */
import { readFileSync } from 'node:fs';
import { apiKeyIdOf, MemoryApiKeyStore, SqliteApiKeyStore, type ApiKeyStore } from './auth/api-keys.js';
import { Redis } from 'ioredis';
import { RedisBus } from './bus/redis/redis-bus.js';
import { SharedRateLimits } from './limits/shared-rate-limits.js';
import { PostgresApiKeyStore } from './storage/postgres/postgres-api-key-store.js';
import { PostgresEventStore } from './storage/postgres/postgres-event-store.js';
import { CredentialSessions } from './auth/credential-sessions.js';
import { createAuthenticator } from './auth/authenticator.js';
import { createJwtVerifier } from './auth/jwt.js';
import { LocalBus } from './bus/local/local-bus.js';
import type { Bus } from './bus/bus.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/schema.js';
import { SubscriptionService } from './delivery/subscription-service.js';
import { createEventValidator } from './domain/event.js';
import { clientAddressResolver } from './http/client-address.js';
import { Cors } from './http/cors.js';
import { buildOpenApi } from './http/openapi.js';
import { docsRoutes } from './http/rest/docs.js';
import { eventRoutes } from './http/rest/events.js';
import { keyRoutes } from './http/rest/keys.js';
import { privacyRoutes } from './http/rest/privacy.js';
import { statsRoutes } from './http/rest/stats.js';
import type { Route } from './http/route.js';
import { HttpServer } from './http/server.js';
import { streamRoutes } from './http/sse/stream-route.js';
import { IngestService } from './ingest/ingest-service.js';
import { RateLimiter } from './limits/rate-limiter.js';
import { withoutPassword } from './log/redact.js';
import { createLogger, errorFields, type Logger } from './log/logger.js';
import { PipelineCounters } from './stats/counters.js';
import type { EventStore, IdGenerator } from './storage/event-store.js';
import { MemoryEventStore } from './storage/memory/memory-event-store.js';
import { SqliteEventStore } from './storage/sqlite/sqlite-event-store.js';

/** The package version, from the nearest package.json above this module (source or dist). */
export const VERSION = ((): string => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'realtime-event-pipeline' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
})();

/** How often events older than RETENTION_DAYS are purged. */
const RETENTION_CHECK_INTERVAL_MS = 3_600_000;
/** How often idempotency keys past their time are forgotten. */
const IDEMPOTENCY_PRUNE_INTERVAL_MS = 10 * 60_000;
/**
 * How often the keys of open connections are checked again: a key revoked outside this
 * process (the `keys` command) closes its connections within this. The admin API's
 * revocations close them at once.
 */
const KEY_RECHECK_INTERVAL_MS = 10_000;

export interface AppOptions {
  log?: Logger;
  clock?: Clock;
  /** Tests force id collisions through this. */
  newId?: IdGenerator;
}

export interface App {
  readonly config: Readonly<Config>;
  readonly store: EventStore;
  /** Listens on the configured host and port; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  /** Graceful stop: refuse new work, commit and acknowledge what was accepted, close sockets with 1001. */
  stop(): Promise<void>;
}

/** The settings worth knowing in a log, never a secret (keys masked, URL passwords removed). */
function describeConfig(config: Readonly<Config>): Record<string, unknown> {
  const { apiKey, jwtSecret, ...rest } = config;
  const masked = (v: string | null): string | null => (v === null ? null : '(set)');
  return { ...rest, apiKey: masked(apiKey), jwtSecret: masked(jwtSecret), databaseUrl: withoutPassword(config.databaseUrl), redisUrl: withoutPassword(config.redisUrl) };
}

interface Storage {
  store: EventStore;
  /** Scoped API keys live beside the events (the store's migrations created their table). */
  apiKeys: ApiKeyStore;
}

async function openStorage(config: Readonly<Config>, newId: IdGenerator | undefined, log: Logger): Promise<Storage> {
  const ids = newId === undefined ? {} : { newId };
  switch (config.eventStore) {
    case 'sqlite':
      return {
        store: new SqliteEventStore({
          path: config.databasePath,
          checkpointIntervalMs: config.checkpointIntervalMs,
          onBackgroundError: (message) => log.warning('background checkpoint failed', { error_message: message }),
          ...ids,
        }),
        apiKeys: new SqliteApiKeyStore(config.databasePath),
      };
    case 'memory':
      return { store: new MemoryEventStore(ids), apiKeys: new MemoryApiKeyStore() };
    case 'postgres': {
      const store = await PostgresEventStore.open({ url: config.databaseUrl ?? '', ...(config.databaseSchema === null ? {} : { schema: config.databaseSchema }), ...ids });
      return { store, apiKeys: new PostgresApiKeyStore(store.pool) };
    }
  }
}

/** The in-process bus for one instance; Redis (with the store as the record) for several. */
async function openBus(config: Readonly<Config>, store: EventStore, log: Logger): Promise<{ bus: Bus; ping: (() => Promise<void>) | null }> {
  const onError = (err: unknown): void => log.error('delivery handler failed', errorFields(err));
  if (config.redisUrl === null) return { bus: new LocalBus(onError), ping: null };
  const bus = await RedisBus.open({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    store,
    onError: (err) => log.warning('bus error', errorFields(err)),
    onConnection: (up) => (up ? log.info('redis connected') : log.warning('redis connection lost; delivering from the store until it is back')),
  });
  return { bus, ping: () => bus.ping() };
}

export async function createApp(config: Readonly<Config>, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  log.info('configuration', describeConfig(config));
  const clock = options.clock ?? systemClock;
  const { store, apiKeys } = await openStorage(config, options.newId, log);
  log.info('event store ready', { store: config.eventStore, ...(config.eventStore === 'sqlite' ? { path: config.databasePath } : {}), head_seq: store.headSeq() });
  const jwtConfigured = config.jwtSecret !== null || config.jwtPublicKey !== null;
  const jwt = jwtConfigured
    ? createJwtVerifier({ secret: config.jwtSecret, publicKey: config.jwtPublicKey, issuer: config.jwtIssuer ?? '', audience: config.jwtAudience ?? '' })
    : null;
  const authenticate = createAuthenticator({ requireAuth: config.requireAuth, sharedKey: config.apiKey, apiKeys, jwt });
  let bus: Bus;
  let busPing: (() => Promise<void>) | null;
  try {
    ({ bus, ping: busPing } = await openBus(config, store, log));
  } catch (err) {
    await store.close();
    throw err;
  }
  const counters = new PipelineCounters();
  const limits = { maxPayloadKeys: config.maxPayloadKeys, maxPayloadBytes: config.maxPayloadBytes, maxPayloadDepth: config.maxPayloadDepth };
  const ingest = new IngestService({ store, bus, validate: createEventValidator(limits), counters, clock, ephemeralTypes: new Set(config.ephemeralEventTypes) });
  const subscriptions = new SubscriptionService(
    { maxEvents: config.maxQueueSize, maxBytes: config.subscriberQueueMaxBytes, maxSubscribers: config.maxSubscribers, replayPageSize: config.replayPageSize },
    store,
    counters,
    log,
  );
  const purgeExpired = (): void => {
    if (config.retentionDays === 0) return;
    const beforeUs = clock() - config.retentionDays * 86_400_000_000;
    store.deleteBefore(null, beforeUs, { actor: 'retention', atUs: clock(), action: 'retention_purge' }).then(
      (n) => {
        if (n > 0) log.info('retention purge', { deleted: n, retention_days: config.retentionDays });
      },
      (err: unknown) => log.warning('retention purge failed', errorFields(err)),
    );
  };
  purgeExpired();
  const retention = setInterval(purgeExpired, RETENTION_CHECK_INTERVAL_MS);
  retention.unref();
  const pruneKeys = setInterval(() => {
    store.pruneIdempotencyKeys(clock() - config.idempotencyKeyTtlHours * 3_600_000_000).catch((err: unknown) => log.warning('pruning idempotency keys failed', errorFields(err)));
  }, IDEMPOTENCY_PRUNE_INTERVAL_MS);
  pruneKeys.unref();
  const unsubscribeBus = bus.onEvents(subscriptions.deliver);
  const rateLimiter = new RateLimiter({ publish: config.rateLimitPublish, query: config.rateLimitQuery, admin: config.rateLimitAdmin });
  // With several instances, one allowance per client across all of them.
  const limitsRedis = config.redisUrl === null ? null : new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(50 * n, 1_000) });
  limitsRedis?.on('error', () => undefined);
  const sharedLimits =
    limitsRedis === null
      ? null
      : new SharedRateLimits(rateLimiter, { redis: limitsRedis, prefix: config.redisPrefix, onError: (err) => log.debug('sharing rate limits failed', errorFields(err)) });

  const sessions = new CredentialSessions();
  const recheckKeys = setInterval(() => {
    sessions
      .sweep(async (p) => {
        const id = apiKeyIdOf(p.actor);
        if (id === undefined) return true;
        const found = await apiKeys.find(id);
        return found !== undefined && found.record.revokedUs === null;
      })
      .then(
        (n) => {
          if (n > 0) log.info('connections of revoked keys closed', { connections_closed: n });
        },
        (err: unknown) => log.warning('rechecking keys failed', errorFields(err)),
      );
  }, KEY_RECHECK_INTERVAL_MS);
  recheckKeys.unref();
  const sse = streamRoutes({ subscriptions, heartbeatMs: config.sseHeartbeatMs, sessions });
  const apiRoutes: Route[] = [
    ...eventRoutes({ ingest, store, clock, counters, limits, rateLimiter, maxBatchBodyBytes: config.maxBatchBodyBytes, maxPageSize: config.maxPageSize, log }),
    ...sse.routes,
    ...privacyRoutes({ store, clock, log }),
    ...keyRoutes({ apiKeys, clock, log, onRevoked: (tenant, actor) => sessions.revoke(tenant, actor) }),
    ...statsRoutes({ store, subscriptions, ingest, counters, clock, version: VERSION, log, busPing }),
  ];
  const routes = [...apiRoutes, ...docsRoutes(() => buildOpenApi(apiRoutes, VERSION, config.requireAuth))];
  const http = new HttpServer({
    routes,
    authenticate,
    cors: new Cors(config.corsOrigins),
    clientAddress: clientAddressResolver(config.trustedProxies),
    rateLimiter,
    limits: {
      maxBodyBytes: config.maxBodyBytes,
      maxWsFrameBytes: config.maxWsFrameBytes,
      maxWsConnectionsPerIp: config.maxWsConnectionsPerIp,
      maxWsConnectionsPerCredential: config.maxWsConnectionsPerCredential,
      wsAuthTimeoutMs: config.wsAuthTimeoutMs,
      wsPingIntervalMs: config.wsPingIntervalMs,
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
    },
    publish: { ingest, rateLimiter, counters, maxMessageBytes: config.maxWsMessageBytes, log },
    sessions,
    subscribe: {
      subscriptions,
      rateLimiter,
      maxMessageBytes: config.maxWsMessageBytes,
      subscribeTimeoutMs: config.subscribeTimeoutMs,
      keepaliveIntervalMs: config.keepaliveIntervalMs,
    },
    log,
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    store,
    async listen() {
      const addr = await http.listen(config.port, config.host);
      log.info('listening', { host: addr.host, port: addr.port, auth: config.requireAuth });
      return addr;
    },
    stop() {
      stopping ??= (async () => {
        log.info('shutting down');
        const deadline = Date.now() + config.shutdownTimeoutMs;
        clearInterval(pruneKeys);
        clearInterval(retention);
        clearInterval(recheckKeys);
        sharedLimits?.close();
        limitsRedis?.disconnect();
        http.stopAccepting();
        await ingest.stop();
        await sse.closeAll(Math.max(0, deadline - Date.now()));
        await http.closeConnections(Math.max(0, deadline - Date.now()));
        unsubscribeBus();
        await bus.close();
        await apiKeys.close();
        await store.close();
        log.info('stopped', { head_seq: store.headSeq() });
      })();
      return stopping;
    },
  };
}
