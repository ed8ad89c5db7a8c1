/**
 * @module http/rest/stats
 * `/stats`, `/event-types`, `/health` and `/readiness`.
 */
import { hostname } from 'node:os';
import { Type } from '@sinclair/typebox';
import { EVENT_TYPE_DESCRIPTIONS } from '../../../protocol/event-types.js';
import type { Clock } from '../../clock.js';
import { isNarrowed } from '../../auth/principal.js';
import { DEFAULT_TENANT } from '../../domain/tenant.js';
import { PipelineError } from '../../domain/errors.js';
import { formatInstant } from '../../domain/timestamp.js';
import type { SubscriptionService } from '../../delivery/subscription-service.js';
import type { IngestService } from '../../ingest/ingest-service.js';
import type { Logger } from '../../log/logger.js';
import { errorFields } from '../../log/logger.js';
import type { PipelineCounters } from '../../stats/counters.js';
import type { EventStore } from '../../storage/event-store.js';
import { json } from '../responses.js';
import type { Route } from '../route.js';
import { errorResponses } from './schemas.js';

const HOUR_US = 3_600_000_000;
const round2 = (n: number): number => Math.round(n * 100) / 100;

export interface StatsRoutesDeps {
  store: EventStore;
  subscriptions: SubscriptionService;
  ingest: IngestService;
  counters: PipelineCounters;
  clock: Clock;
  version: string;
  log: Logger;
  /** Pings the cross-instance bus (Redis), when there is one. */
  busPing: (() => Promise<void>) | null;
}

/** This process, as `/stats` names it: host and process id. */
const INSTANCE = `${hostname()}:${String(process.pid)}`;

/** Which `/stats` figures come from the shared store, and which from this instance alone. */
const FIGURE_SCOPES = {
  cluster_wide: ['total_events', 'events_last_hour', 'by_type', 'head_seq'],
  this_instance: ['router', 'throughput', 'events_accepted', 'events_ephemeral', 'delivered', 'replayed', 'dropped', 'slow_consumer_disconnects', 'active_publishers', 'uptime_seconds'],
} as const;

export function statsRoutes(deps: StatsRoutesDeps): Route[] {
  const router = () => ({ active_subscribers: deps.subscriptions.active, queue_size: deps.subscriptions.queued + deps.ingest.pending });
  return [
    {
      method: 'GET',
      path: '/stats',
      versioned: true,
      rate: 'query',
      scope: 'read',
      body: false,
      documented: true,
      doc: {
        summary: 'Pipeline statistics',
        tags: ['stats'],
        responses: { '200': { description: 'Totals, per-type counts, subscribers, throughput and delivery counters' }, ...errorResponses },
      },
      handle: async (ctx) => {
        // Totals span every session and user: not for a credential narrowed to some of them.
        if (isNarrowed(ctx.principal)) throw new PipelineError('AUTH_FORBIDDEN', 'Statistics cover every session; this credential is narrowed to some');
        const tenant = ctx.principal.tenant;
        const s = await deps.store.stats(tenant, deps.clock() - HOUR_US);
        const own = {
          total_events: s.totalEvents,
          events_last_hour: s.eventsSince,
          by_type: s.byType.map((t) => ({ event_type: t.eventType, count: t.count, last_seen: formatInstant(t.lastSeenUs) })),
        };
        // Another tenant sees its own figures only: the pipeline counters below span every
        // tenant (their volume is not its business), so they are the operator's, in the
        // default tenant, where the original's single key lives.
        if (tenant !== DEFAULT_TENANT) {
          const load = deps.subscriptions.tenantLoad(tenant);
          return json(200, { ...own, router: { active_subscribers: load.active, queue_size: load.queued } });
        }
        const c = deps.counters.snapshot();
        return json(200, {
          ...own,
          router: router(),
          throughput: {
            events_per_second_1s: round2(c.accepted.perSecond1s),
            events_per_second_10s: round2(c.accepted.perSecond10s),
            events_per_second_60s: round2(c.accepted.perSecond60s),
          },
          events_accepted: c.accepted.total,
          events_ephemeral: c.ephemeral,
          delivered: c.delivered,
          replayed: c.replayed,
          dropped: c.dropped,
          slow_consumer_disconnects: c.slowConsumerDisconnects,
          active_publishers: c.activePublishers,
          uptime_seconds: c.uptimeSeconds,
          head_seq: await deps.store.readHeadSeq(),
          instance: INSTANCE,
          // With several instances on one store, say which figures are whose.
          figures: FIGURE_SCOPES,
        });
      },
    },
    {
      method: 'GET',
      path: '/event-types',
      versioned: true,
      rate: 'query',
      scope: null,
      body: false,
      documented: true,
      doc: {
        summary: 'The 15 event types and what each means',
        tags: ['events'],
        responses: { '200': { description: 'Type name → description', content: { 'application/json': { schema: Type.Record(Type.String(), Type.String()) } } } },
      },
      handle: () => json(200, EVENT_TYPE_DESCRIPTIONS),
    },
    {
      method: 'GET',
      path: '/health',
      versioned: true,
      rate: null,
      scope: null,
      body: false,
      documented: true,
      doc: { summary: 'Liveness', tags: ['health'], responses: { '200': { description: 'The process is up' } } },
      handle: () => json(200, { status: 'ok', service: 'event-pipeline', version: deps.version }),
    },
    {
      method: 'GET',
      path: '/readiness',
      versioned: true,
      rate: null,
      scope: null,
      body: false,
      documented: true,
      doc: {
        summary: 'Readiness: storage reachable (and Redis, when configured: reported, but an instance without Redis still serves, from the store)',
        tags: ['health'],
        responses: { '200': { description: 'Ready' }, '503': { description: 'Storage unusable' } },
      },
      handle: async () => {
        const busPing = deps.busPing;
        const [db, redis] = await Promise.all([
          deps.store.ping().then(
            () => 'connected',
            (err: unknown) => {
              deps.log.warning('readiness check failed', errorFields(err));
              return 'unavailable';
            },
          ),
          busPing === null
            ? Promise.resolve(undefined)
            : busPing().then(
                () => 'connected',
                () => 'unavailable',
              ),
        ]);
        const ready = db === 'connected';
        return json(ready ? 200 : 503, { ready, database: db, ...(redis === undefined ? {} : { redis }), router: router() });
      },
    },
  ];
}
