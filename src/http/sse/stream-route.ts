/**
 * @module http/sse/stream-route
 * `GET /api/v1/events/stream`: a subscription over Server-Sent Events, for browsers
 * (`EventSource`) and anything that reads a streamed HTTP response.
 *
 * Filters are query parameters (`event_type` repeated or comma-separated, `session_id`,
 * `user_id`). The start position is the `Last-Event-ID` header (sent by EventSource on every
 * reconnect), else a `last_event_id` parameter, else `from` (`earliest`, `latest`, a `seq`, or
 * an ISO 8601 time); none means live events only. With a position the stream replays the stored
 * matching events after it and then goes live, with no gap and no duplicate, exactly as a
 * WebSocket subscription does (delivery/catchup.ts), and says `event: caught_up` when it has.
 */
import type { ServerResponse } from 'node:http';
import { EVENT_TYPES, isEventType, type EventType } from '../../../protocol/event-types.js';
import type { CredentialSessions } from '../../auth/credential-sessions.js';
import { checkScopeOfInterest } from '../../auth/narrowing.js';
import { PipelineError, validationError, type ValidationIssue } from '../../domain/errors.js';
import { filterToWire, type Filter } from '../../domain/filter.js';
import { parseStartPosition, type StartPosition } from '../../domain/position.js';
import type { Subscription } from '../../delivery/router.js';
import type { SubscriptionService } from '../../delivery/subscription-service.js';
import type { Route } from '../route.js';
import type { StreamReply } from '../responses.js';
import { errorResponses, validationResponse } from '../rest/schemas.js';
import { SseSink } from './sse-sink.js';

/** How long an EventSource waits before reconnecting after the stream ends. */
const RECONNECT_DELAY_MS = 2000;
/** Longest id field a string filter may hold (as for WebSocket filters and events). */
const MAX_ID_LENGTH = 200;

export interface StreamRouteDeps {
  subscriptions: SubscriptionService;
  heartbeatMs: number;
  /** Ends a stream when its token expires or its key is revoked. */
  sessions: CredentialSessions;
}

export interface StreamRoutes {
  routes: Route[];
  /** Ends every open stream once its queued events are written (or at the deadline). */
  closeAll(deadlineMs: number): Promise<void>;
}

function parseStreamFilter(q: URLSearchParams): Filter {
  const issues: ValidationIssue[] = [];
  const types = new Set<EventType>();
  for (const raw of q.getAll('event_type')) {
    for (const t of raw.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (isEventType(t)) types.add(t);
      else issues.push({ type: 'enum', loc: ['query', 'event_type'], msg: `Unknown event type '${t.slice(0, 64)}'. Valid types: ${EVENT_TYPES.join(', ')}` });
    }
  }
  const id = (name: string): string | null => {
    const v = q.get(name);
    if (v === null || v === '') return null;
    if (v.length > MAX_ID_LENGTH) issues.push({ type: 'string_too_long', loc: ['query', name], msg: `String should have at most ${MAX_ID_LENGTH} characters` });
    return v;
  };
  const filter: Filter = { eventTypes: types, sessionId: id('session_id'), userId: id('user_id') };
  if (issues.length > 0) throw validationError('FILTER_INVALID', issues);
  return filter;
}

function parseStreamPosition(lastEventId: string | undefined, q: URLSearchParams): StartPosition | undefined {
  const resume = lastEventId ?? q.get('last_event_id') ?? undefined;
  if (resume !== undefined && resume !== '') {
    const p = parseStartPosition(resume.trim(), [lastEventId === undefined ? 'query' : 'header', lastEventId === undefined ? 'last_event_id' : 'Last-Event-ID']);
    if (p instanceof PipelineError || p.kind !== 'seq') throw p instanceof PipelineError ? p : validationError('FILTER_INVALID', [{ type: 'int_parsing', loc: ['query', 'last_event_id'], msg: 'Last-Event-ID should be a seq number' }]);
    return p;
  }
  const from = q.get('from');
  if (from === null || from === '') return undefined;
  const p = parseStartPosition(/^(earliest|latest|\d+)$/.test(from) ? from : { time: from }, ['query', 'from']);
  if (p instanceof PipelineError) throw p;
  return p;
}

export function streamRoutes(deps: StreamRouteDeps): StreamRoutes {
  const open = new Map<ServerResponse, { sink: SseSink; sub: Subscription }>();

  const route: Route = {
    method: 'GET',
    path: '/events/stream',
    versioned: true,
    rate: 'query',
    scope: 'subscribe',
    queryAuth: true,
    body: false,
    documented: true,
    doc: {
      summary: 'Subscribe over Server-Sent Events: stored events after Last-Event-ID (or from), then live',
      tags: ['events'],
      parameters: [
        { name: 'event_type', in: 'query', required: false, description: 'Only these types; repeat the parameter or separate with commas', schema: { type: 'string' } },
        { name: 'session_id', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'user_id', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'Last-Event-ID', in: 'header', required: false, description: 'Resume after this seq (EventSource sends it on reconnect)', schema: { type: 'string' } },
        { name: 'last_event_id', in: 'query', required: false, description: 'As Last-Event-ID, for clients that cannot set headers', schema: { type: 'string' } },
        { name: 'from', in: 'query', required: false, description: '`earliest`, `latest` (default), a seq, or an ISO 8601 time', schema: { type: 'string' } },
      ],
      responses: {
        '200': {
          description:
            'text/event-stream: `event: subscribed`, then one message per event (`id:` = seq, `data:` = the event), `event: caught_up` after a replay, `event: reset` when the position is gone, and `: heartbeat` comments',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        '422': validationResponse,
        ...errorResponses,
      },
    },
    handle: (ctx): StreamReply => {
      const filter = parseStreamFilter(ctx.query);
      const outside = checkScopeOfInterest(ctx.principal, filter);
      if (outside !== undefined) throw outside;
      const header = ctx.req.headers['last-event-id'];
      const from = parseStreamPosition(Array.isArray(header) ? header[0] : header, ctx.query);
      if (deps.subscriptions.full) throw new PipelineError('SUBSCRIBE_LIMIT_REACHED', 'Too many subscribers on this server; try again later');
      return {
        status: 200,
        headers: {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          'X-Accel-Buffering': 'no',
        },
        start: (res) => {
          const sink = new SseSink(res);
          res.write(`retry: ${RECONNECT_DELAY_MS}\n\n`);
          const head = deps.subscriptions.head;
          const sub = deps.subscriptions.open(sink, ctx.principal.tenant, filter, from);
          res.write(`event: subscribed\ndata: ${JSON.stringify({ status: 'subscribed', subscriber_id: sub.id, filters: filterToWire(filter), head_seq: head })}\n\n`);
          open.set(res, { sink, sub });
          const heartbeat = setInterval(() => sink.heartbeat(), deps.heartbeatMs);
          heartbeat.unref();
          // The stream says why it ends; an EventSource then reconnects, and its old
          // credential is refused (401), which stops it.
          const untrack = deps.sessions.track(ctx.principal, (reason) => {
            res.end(`event: end\ndata: ${JSON.stringify({ type: 'end', reason })}\n\n`);
          });
          res.once('close', () => {
            untrack();
            clearInterval(heartbeat);
            open.delete(res);
            deps.subscriptions.close(sub);
          });
        },
      };
    },
  };

  return {
    routes: [route],
    async closeAll(deadlineMs) {
      const deadline = Date.now() + deadlineMs;
      while (Date.now() < deadline && [...open.values()].some(({ sub }) => sub.queue.length > 0)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const { sink } of open.values()) sink.close();
    },
  };
}
