/**
 * @module http/rest/events
 * Publish, query, fetch and delete events over REST.
 */
import { Type } from '@sinclair/typebox';
import { canSee, checkPublisher, checkScopeOfInterest } from '../../auth/narrowing.js';
import { rateKeyOf } from '../../auth/principal.js';
import type { Clock } from '../../clock.js';
import { EVENT_TYPES } from '../../../protocol/event-types.js';
import { eventInputSchema, seqOfEventJson, type EventJson, type EventLimits } from '../../domain/event.js';
import { formatInstant } from '../../domain/timestamp.js';
import { PipelineError, rateLimited, type ValidationIssue } from '../../domain/errors.js';
import { acceptedBody, assertBatchSize, batchResultToWire, MAX_BATCH_EVENTS, type IngestService } from '../../ingest/ingest-service.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { Logger } from '../../log/logger.js';
import type { PipelineCounters } from '../../stats/counters.js';
import type { EventStore } from '../../storage/event-store.js';
import { parseJson } from '../body.js';
import { json, NO_STORE, rawJson } from '../responses.js';
import type { Route } from '../route.js';
import { boundedInt, optionalChoice, optionalEventType, optionalInstant, optionalString, throwIfIssues } from './query-params.js';
import { errorResponses, eventOutputSchema, messageErrorSchema, validationErrorSchema, validationResponse } from './schemas.js';

export const DEFAULT_QUERY_LIMIT = 100;


export interface EventRoutesDeps {
  ingest: IngestService;
  clock: Clock;
  store: EventStore;
  counters: PipelineCounters;
  limits: EventLimits;
  rateLimiter: RateLimiter;
  maxBatchBodyBytes: number;
  /** The largest `limit` a history request may ask for. */
  maxPageSize: number;
  log: Logger;
}

const queryParam = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

/** NDJSON: one JSON value per non-empty line; an unreadable line is that item's error. */
function parseNdjson(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return new PipelineError('REQUEST_JSON_INVALID', 'Invalid JSON', { issues: [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }] });
      }
    });
}

/**
 * The next page as an RFC 8288 link: the same query with the cursor moved past this page.
 * Ascending pages always have one (poll it to follow new events); descending pages only when
 * full (a shorter page reached the oldest match).
 */
function nextPageLink(target: string, query: URLSearchParams, events: readonly EventJson[], order: 'asc' | 'desc', limit: number): string | undefined {
  const last = events[events.length - 1];
  if (last === undefined || (order === 'desc' && events.length < limit)) return undefined;
  const next = new URLSearchParams(query);
  next.delete('after_seq');
  next.delete('before_seq');
  next.set('order', order);
  next.set(order === 'asc' ? 'after_seq' : 'before_seq', String(seqOfEventJson(last)));
  const path = target.split('?')[0] ?? '/api/v1/events';
  return `<${path}?${next.toString()}>; rel="next"`;
}

export function eventRoutes(deps: EventRoutesDeps): Route[] {
  const eventResponse = { description: 'The stored event', content: { 'application/json': { schema: eventOutputSchema } } };
  return [
    {
      method: 'POST',
      path: '/events',
      versioned: true,
      rate: 'publish',
      scope: 'publish',
      body: true,
      documented: true,
      doc: {
        summary: 'Publish an event (201 once it is durably stored)',
        tags: ['events'],
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              'Makes retries safe: a repeat with the same key and event answers with the event first stored, plus "duplicate": true, and stores nothing; the same key with a different event is a 409',
            schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
          },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: eventInputSchema(deps.limits) } } },
        responses: { '201': eventResponse, '409': { description: 'Idempotency key reused with a different event', content: { 'application/json': { schema: validationErrorSchema } } }, '413': { description: 'Body too large' }, '422': validationResponse, ...errorResponses },
      },
      handle: async (ctx) => {
        const input = parseJson((ctx.body ?? Buffer.alloc(0)).toString('utf8'));
        const notAllowed = checkPublisher(ctx.principal, input);
        if (notAllowed !== undefined) throw notAllowed;
        const key = ctx.req.headers['idempotency-key'];
        const accepted = await deps.ingest.publish(ctx.principal.tenant, input, 'body', Array.isArray(key) ? key.join(', ') : key);
        deps.counters.restPublisherSeen(ctx.client);
        return rawJson(201, acceptedBody(accepted), NO_STORE);
      },
    },
    {
      method: 'POST',
      path: '/events/batch',
      versioned: true,
      rate: 'publish',
      scope: 'publish',
      body: true,
      maxBodyBytes: deps.maxBatchBodyBytes,
      documented: true,
      doc: {
        summary: `Publish up to ${MAX_BATCH_EVENTS} events: a JSON array, or NDJSON (application/x-ndjson); the valid ones are stored in one commit`,
        tags: ['events'],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: Type.Array(eventInputSchema(deps.limits), { maxItems: MAX_BATCH_EVENTS }) },
            'application/x-ndjson': { schema: { type: 'string', description: 'One event object per line' } },
          },
        },
        responses: {
          '200': {
            description: 'One result per item, in order: {"status":"ok","event_id":…,"seq":…} or {"status":"error","detail":[…]}',
            content: { 'application/json': { schema: Type.Array(Type.Record(Type.String(), Type.Unknown())) } },
          },
          '413': { description: 'Body over MAX_BATCH_BODY_BYTES' },
          '422': validationResponse,
          ...errorResponses,
        },
      },
      handle: async (ctx) => {
        const text = (ctx.body ?? Buffer.alloc(0)).toString('utf8');
        const ndjson = (ctx.req.headers['content-type'] ?? '').includes('ndjson');
        const items = ndjson ? parseNdjson(text) : parseJson(text);
        if (!Array.isArray(items)) {
          throw new PipelineError('REQUEST_INVALID', 'Body should be a JSON array of events', {
            issues: [{ type: 'list_type', loc: ['body'], msg: 'Input should be a valid list (or NDJSON with Content-Type: application/x-ndjson)' }],
          });
        }
        assertBatchSize(items.length);
        // The route took one publish token; the batch costs one per event.
        if (items.length > 1) {
          const rate = deps.rateLimiter.take(rateKeyOf(ctx.principal, ctx.client), 'publish', items.length - 1);
          if (!rate.ok) throw rateLimited(rate.retryAfterSeconds);
        }
        const results = await deps.ingest.publishBatch(ctx.principal.tenant, items.map((item: unknown) => checkPublisher(ctx.principal, item) ?? item));
        deps.counters.restPublisherSeen(ctx.client);
        return json(200, results.map(batchResultToWire), NO_STORE);
      },
    },
    {
      method: 'GET',
      path: '/events',
      versioned: true,
      rate: 'query',
      scope: 'read',
      body: false,
      documented: true,
      doc: {
        summary: 'Query stored events, newest first',
        tags: ['events'],
        parameters: [
          queryParam('event_type', 'Only this type', { type: 'string', enum: [...EVENT_TYPES] }),
          queryParam('session_id', 'Only this session (empty: any)'),
          queryParam('user_id', 'Only this user (empty: any)'),
          queryParam('since', 'Only events received after this ISO 8601 instant (exclusive; any offset)', { type: 'string', format: 'date-time' }),
          queryParam('until', 'Only events received at or before this ISO 8601 instant', { type: 'string', format: 'date-time' }),
          queryParam('after_seq', 'Only events with a greater seq (a forward cursor; implies order=asc unless order is given)', { type: 'integer', minimum: 0 }),
          queryParam('before_seq', 'Only events with a smaller seq (a backward cursor)', { type: 'integer', minimum: 0 }),
          queryParam('order', 'desc: newest first (default); asc: oldest first', { type: 'string', enum: ['asc', 'desc'] }),
          queryParam('limit', 'At most this many', { type: 'integer', minimum: 1, maximum: deps.maxPageSize, default: Math.min(DEFAULT_QUERY_LIMIT, deps.maxPageSize) }),
        ],
        responses: {
          '200': {
            description: 'Matching events. A `Link: <…>; rel="next"` header gives the next page: for asc whenever the page has events (poll it to tail), for desc when the page is full.',
            content: { 'application/json': { schema: Type.Array(eventOutputSchema) } },
          },
          '400': { description: 'since is not ISO 8601', content: { 'application/json': { schema: messageErrorSchema } } },
          '422': validationResponse,
          ...errorResponses,
        },
      },
      handle: async (ctx) => {
        const issues: ValidationIssue[] = [];
        const eventType = optionalEventType(ctx.query, issues);
        const limit = boundedInt(ctx.query, 'limit', 1, deps.maxPageSize, Math.min(DEFAULT_QUERY_LIMIT, deps.maxPageSize), issues);
        const afterSeq = ctx.query.has('after_seq') ? boundedInt(ctx.query, 'after_seq', 0, Number.MAX_SAFE_INTEGER, 0, issues) : undefined;
        const beforeSeq = ctx.query.has('before_seq') ? boundedInt(ctx.query, 'before_seq', 0, Number.MAX_SAFE_INTEGER, 0, issues) : undefined;
        const order = optionalChoice(ctx.query, 'order', ['asc', 'desc'] as const, issues) ?? (afterSeq === undefined ? 'desc' : 'asc');
        throwIfIssues(issues);
        const sinceUs = optionalInstant(ctx.query, 'since');
        const untilUs = optionalInstant(ctx.query, 'until');
        const sessionId = optionalString(ctx.query, 'session_id');
        const userId = optionalString(ctx.query, 'user_id');
        const outside = checkScopeOfInterest(ctx.principal, { sessionId: sessionId ?? null, userId: userId ?? null });
        if (outside !== undefined) throw outside;
        const events = await deps.store.query({
          tenant: ctx.principal.tenant,
          eventType,
          sessionId,
          userId,
          sinceUs,
          untilUs,
          afterSeq,
          beforeSeq,
          order,
          limit,
        });
        const link = nextPageLink(ctx.req.url ?? '', ctx.query, events, order, limit);
        return rawJson(200, '[' + events.join(',') + ']', link === undefined ? NO_STORE : { ...NO_STORE, Link: link });
      },
    },
    {
      method: 'GET',
      path: '/events/{id}',
      versioned: true,
      rate: 'query',
      scope: 'read',
      body: false,
      documented: true,
      doc: {
        summary: 'Get one event by id',
        tags: ['events'],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': eventResponse, '404': { description: 'Event not found', content: { 'application/json': { schema: messageErrorSchema } } }, ...errorResponses },
      },
      handle: async (ctx) => {
        const event = await deps.store.getById(ctx.principal.tenant, ctx.params['id'] ?? '');
        // Outside a narrowed credential's sessions or users, an event answers like a missing one.
        if (event === undefined || !canSee(ctx.principal, event)) throw new PipelineError('EVENT_NOT_FOUND', 'Event not found');
        return rawJson(200, event.json, NO_STORE);
      },
    },
    {
      method: 'DELETE',
      path: '/events',
      versioned: true,
      rate: 'admin',
      scope: 'admin',
      body: false,
      documented: true,
      doc: {
        summary: 'Delete events (all, or those received before an instant)',
        tags: ['events'],
        parameters: [queryParam('before', 'Delete only events received before this ISO 8601 instant', { type: 'string', format: 'date-time' })],
        responses: {
          '200': { description: 'How many were deleted', content: { 'application/json': { schema: Type.Object({ deleted: Type.Integer() }) } } },
          '400': { description: 'before is not ISO 8601', content: { 'application/json': { schema: messageErrorSchema } } },
          ...errorResponses,
        },
      },
      handle: async (ctx) => {
        const beforeUs = optionalInstant(ctx.query, 'before');
        const deleted = await deps.store.deleteBefore(ctx.principal.tenant, beforeUs, { actor: ctx.actor, atUs: deps.clock(), action: 'delete_events' });
        deps.log.info('events deleted', { tenant: ctx.principal.tenant, by: ctx.actor, before: beforeUs === undefined ? null : formatInstant(beforeUs), deleted });
        return json(200, { deleted }, NO_STORE);
      },
    },
  ];
}
