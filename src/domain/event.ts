/**
 * @module domain/event
 * Events: what a producer sends (validated into an {@link EventDraft}), what the store keeps
 * ({@link StoredEvent}) and how it looks on the wire, serialised exactly once.
 */
import { Type } from '@sinclair/typebox';
import { EVENT_TYPES, type EventType } from '../../protocol/event-types.js';
import { validationError, type PipelineError, type ValidationIssue } from './errors.js';
import { compileValidator } from './schema-validator.js';
import type { TenantId } from './tenant.js';
import { formatInstant, type InstantUs } from './timestamp.js';

/** `evt_` + 12 lowercase hex digits, assigned by the server. */
export type EventId = string;
/** Position in the store's commit order; strictly increasing, never reused. */
export type Seq = number;

/** A validated event, before the store gives it an id, a timestamp and a `seq`. */
export interface EventDraft {
  /** The publisher's tenant: never on the wire, only ever compared. */
  readonly tenant: TenantId;
  readonly eventType: EventType;
  readonly source: string;
  readonly sessionId: string | null;
  readonly userId: string | null;
  /** The payload as compact JSON, measured and bounded. */
  readonly payloadJson: string;
  /** When the server received it. */
  readonly receivedAtUs: InstantUs;
  /** Set when the producer gave an idempotency key: a retry is answered, not stored again. */
  readonly idempotency?: IdempotencyTag | undefined;
}

/** A producer's idempotency key and a digest of the event it first came with. */
export interface IdempotencyTag {
  readonly key: string;
  readonly fingerprint: string;
}

/** An event as stored and delivered. `json` is its wire form, built once at commit. */
export interface StoredEvent {
  readonly seq: Seq;
  readonly id: EventId;
  readonly tenant: TenantId;
  readonly eventType: EventType;
  readonly sessionId: string | null;
  readonly userId: string | null;
  readonly timestampUs: InstantUs;
  readonly json: string;
}

/**
 * An event on its way to subscribers: a stored one, or an ephemeral one (delivered live, never
 * stored) whose `seq` is null.
 */
export interface LiveEvent extends Omit<StoredEvent, 'seq'> {
  readonly seq: Seq | null;
}

/** Enough of an event to answer for it: what a duplicate publish returns. */
export interface EventRef {
  readonly seq: Seq;
  readonly id: EventId;
  readonly json: EventJson;
}

/** An event's wire form (see {@link serializeEvent}): what history reads send on as-is. */
export type EventJson = string;

/** The `seq` of an event's wire form, which always ends with `"seq":N}`. */
export function seqOfEventJson(json: EventJson): Seq {
  return Number(json.slice(json.lastIndexOf(':') + 1, -1));
}

export interface EventLimits {
  maxPayloadKeys: number;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
}

export const DEFAULT_MAX_PAYLOAD_KEYS = 50;
export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;
export const DEFAULT_MAX_PAYLOAD_DEPTH = 32;
export const SOURCE_PATTERN = '^[A-Za-z0-9_.-]+$';
export const MAX_SOURCE_LENGTH = 100;
export const MAX_ID_FIELD_LENGTH = 200;

/** The publish body as JSON Schema: validates input and documents it in OpenAPI. */
export function eventInputSchema(limits: EventLimits) {
  return Type.Object(
    {
      event_type: Type.Unsafe<EventType>({ type: 'string', enum: [...EVENT_TYPES], description: 'One of the 15 event types' }),
      source: Type.String({ minLength: 1, maxLength: MAX_SOURCE_LENGTH, pattern: SOURCE_PATTERN, description: 'Originating system', examples: ['quiz_engine'] }),
      session_id: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: MAX_ID_FIELD_LENGTH, description: 'Quiz/test session identifier' })),
      user_id: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: MAX_ID_FIELD_LENGTH, description: 'Student/user identifier' })),
      payload: Type.Optional(
        Type.Record(Type.String(), Type.Unknown(), {
          maxProperties: limits.maxPayloadKeys,
          description: `Event-specific data: a JSON object of at most ${limits.maxPayloadKeys} keys, ${limits.maxPayloadBytes} bytes as compact UTF-8 JSON, nested at most ${limits.maxPayloadDepth} deep`,
          'x-max-json-bytes': limits.maxPayloadBytes,
          'x-max-depth': limits.maxPayloadDepth,
        }),
      ),
    },
    { additionalProperties: true, description: 'An event to publish. Unknown fields are ignored.' },
  );
}

export type ValidateEvent = (input: unknown, tenant: TenantId, receivedAtUs: InstantUs, locRoot?: string) => EventDraft | PipelineError;

export function createEventValidator(limits: EventLimits): ValidateEvent {
  const check = compileValidator(eventInputSchema(limits), {
    event_type: {
      enum: (v) => `Unknown event type '${String(v)}'. Valid types: ${EVENT_TYPES.join(', ')}`,
    },
  });
  return (input, tenant, receivedAtUs, locRoot = 'body') => {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return validationError('INGEST_EVENT_INVALID', [
        { type: 'model_attributes_type', loc: [locRoot], msg: 'Input should be a valid dictionary or object' },
      ]);
    }
    const result = check(input, locRoot);
    if (!result.ok) return validationError('INGEST_EVENT_INVALID', result.issues);
    const body = result.value;
    const payload = body.payload ?? {};
    const issue = checkPayload(payload, limits, locRoot);
    if (typeof issue !== 'string') return validationError('INGEST_EVENT_INVALID', [issue]);
    return {
      tenant,
      eventType: body.event_type,
      source: body.source,
      // An empty id means "none", as in filters and queries.
      sessionId: body.session_id === '' ? null : (body.session_id ?? null),
      userId: body.user_id === '' ? null : (body.user_id ?? null),
      payloadJson: issue,
      receivedAtUs,
    };
  };
}

/** Returns the compact JSON of a payload within limits, or the issue that breaks them. */
function checkPayload(payload: Record<string, unknown>, limits: EventLimits, locRoot: string): string | ValidationIssue {
  const loc = [locRoot, 'payload'];
  // Walk iteratively: depth is bounded before JSON.stringify could overflow the stack.
  const stack: [unknown, number][] = [[payload, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return { type: 'finite_number', loc, msg: 'Numbers must be finite (no overflow to Infinity)' };
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > limits.maxPayloadDepth) {
      return { type: 'too_deep', loc, msg: `Payload nesting should be at most ${limits.maxPayloadDepth} levels deep` };
    }
    for (const child of Object.values(value)) if (child !== null && typeof child !== 'string') stack.push([child, depth + 1]);
  }
  const json = JSON.stringify(payload);
  const bytes = utf8ByteLength(json);
  if (bytes > limits.maxPayloadBytes) {
    return { type: 'too_large', loc, msg: `Payload is ${bytes} bytes as JSON; at most ${limits.maxPayloadBytes} allowed` };
  }
  return json;
}

export function utf8ByteLength(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** The wire form, keys in the contract's order. Built once, then stored and fanned out. */
export function serializeEvent(seq: Seq | null, id: EventId, draft: EventDraft, timestampUs: InstantUs): string {
  return (
    '{"id":"' +
    id +
    '","event_type":"' +
    draft.eventType +
    '","source":' +
    JSON.stringify(draft.source) +
    ',"session_id":' +
    JSON.stringify(draft.sessionId) +
    ',"user_id":' +
    JSON.stringify(draft.userId) +
    ',"payload":' +
    draft.payloadJson +
    ',"timestamp":"' +
    formatInstant(timestampUs) +
    '","seq":' +
    (seq === null ? 'null' : String(seq)) +
    '}'
  );
}
