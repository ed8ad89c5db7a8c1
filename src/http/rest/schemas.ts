/**
 * @module http/rest/schemas
 * Response shapes for OpenAPI. Request bodies reuse the validating schemas from domain/.
 */
import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../../../protocol/event-types.js';

const nullableString = (description: string) => Type.Unsafe<string | null>({ type: ['string', 'null'], description });

export const eventOutputSchema = Type.Object({
  id: Type.String({ pattern: '^evt_[0-9a-f]{12}$', description: 'Assigned by the server', examples: ['evt_a1b2c3d4e5f6'] }),
  event_type: Type.String({ enum: [...EVENT_TYPES] }),
  source: Type.String(),
  session_id: nullableString('Session identifier'),
  user_id: nullableString('User identifier'),
  payload: Type.Record(Type.String(), Type.Unknown()),
  timestamp: Type.String({ description: 'Server receive time, ISO 8601 UTC with 6 fractional digits', examples: ['2026-01-15T10:30:45.123456Z'] }),
  seq: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'Position in commit order: strictly increasing, never reused. Null for an event of an ephemeral type, which is delivered live and never stored',
  }),
  duplicate: Type.Optional(Type.Boolean({ description: 'Present (true) when an Idempotency-Key matched an event stored earlier; that event is returned and nothing new is stored' })),
});

export const validationErrorSchema = Type.Object({
  detail: Type.Array(
    Type.Object({ loc: Type.Array(Type.Union([Type.String(), Type.Integer()])), msg: Type.String(), type: Type.String() }),
  ),
});

export const messageErrorSchema = Type.Object({ detail: Type.String() });

export const errorResponses = {
  '401': { description: 'Invalid or missing API key (when REQUIRE_AUTH=true)', content: { 'application/json': { schema: messageErrorSchema } } },
  '429': { description: 'Rate limit exceeded; see Retry-After', content: { 'application/json': { schema: messageErrorSchema } } },
} as const;

export const validationResponse = {
  description: 'Invalid input: one entry per failed field',
  content: { 'application/json': { schema: validationErrorSchema } },
} as const;
