/**
 * @module domain/filter
 * Subscription filters: parsed and validated once, matched many times. A filter is the AND of
 * its keys; `event_types` matches when the type is listed (empty: any type); `session_id` and
 * `user_id` match by equality, and an event whose field is null never matches a set one.
 */
import { Type } from '@sinclair/typebox';
import { EVENT_TYPES, type EventType } from '../../protocol/event-types.js';
import type { FiltersObject } from '../../protocol/messages.js';
import { MAX_ID_FIELD_LENGTH } from './event.js';
import { PipelineError, validationError } from './errors.js';
import { parseStartPosition, type StartPosition } from './position.js';
import { compileValidator } from './schema-validator.js';

export interface Filter {
  /** Empty means any type. */
  readonly eventTypes: ReadonlySet<EventType>;
  readonly sessionId: string | null;
  readonly userId: string | null;
}

/** The fields a filter looks at; a StoredEvent has them. */
export interface Matchable {
  readonly eventType: EventType;
  readonly sessionId: string | null;
  readonly userId: string | null;
}

export const filterSchema = Type.Object(
  {
    event_types: Type.Optional(
      Type.Unsafe<EventType[] | null>({
        type: ['array', 'null'],
        items: { type: 'string', enum: [...EVENT_TYPES] },
        maxItems: EVENT_TYPES.length * 4,
        description: 'Deliver only these types (empty or absent: every type)',
      }),
    ),
    session_id: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: MAX_ID_FIELD_LENGTH })),
    user_id: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: MAX_ID_FIELD_LENGTH })),
  },
  { additionalProperties: true },
);

const check = compileValidator(filterSchema);

export function parseFilter(input: unknown, locRoot = 'filters'): Filter | PipelineError {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return validationError('FILTER_INVALID', [
      { type: 'dict_type', loc: [locRoot], msg: 'Filters should be a JSON object' },
    ]);
  }
  const result = check(input, locRoot);
  if (!result.ok) {
    for (const issue of result.issues) {
      if (issue.type === 'enum') {
        const idx = issue.loc[2];
        const list = (input as { event_types?: unknown[] }).event_types;
        const bad = typeof idx === 'number' && Array.isArray(list) ? String(list[idx]) : '?';
        issue.msg = `Unknown event type '${bad}'. Valid types: ${EVENT_TYPES.join(', ')}`;
      }
    }
    return validationError('FILTER_INVALID', result.issues);
  }
  const v = result.value;
  return {
    eventTypes: new Set(v.event_types ?? []),
    sessionId: v.session_id === '' ? null : (v.session_id ?? null),
    userId: v.user_id === '' ? null : (v.user_id ?? null),
  };
}

/** A subscription request: filters, and where to start when `from` is given. */
export interface SubscribeRequest {
  readonly filter: Filter;
  readonly from: StartPosition | undefined;
}

/** Filters plus an optional `from` (see domain/position.ts). */
export function parseSubscribeRequest(input: unknown, locRoot = 'filters'): SubscribeRequest | PipelineError {
  const filter = parseFilter(input, locRoot);
  if (filter instanceof PipelineError) return filter;
  const raw = (input as { from?: unknown }).from;
  if (raw === undefined || raw === null) return { filter, from: undefined };
  const from = parseStartPosition(raw, [locRoot, 'from']);
  return from instanceof PipelineError ? from : { filter, from };
}

export function matches(filter: Filter, event: Matchable): boolean {
  return (
    (filter.eventTypes.size === 0 || filter.eventTypes.has(event.eventType)) &&
    (filter.sessionId === null || filter.sessionId === event.sessionId) &&
    (filter.userId === null || filter.userId === event.userId)
  );
}

export function filterToWire(filter: Filter): FiltersObject {
  return { event_types: [...filter.eventTypes], session_id: filter.sessionId, user_id: filter.userId };
}
