/**
 * @module ingest/idempotency
 * Idempotency keys as producers send them (the `Idempotency-Key` header, or an
 * `idempotency_key` field on WebSocket messages and batch items), checked, and tagged with a
 * digest of the event so that a retry can be told from a different event under the same key.
 */
import { createHash } from 'node:crypto';
import type { EventDraft, IdempotencyTag } from '../domain/event.js';
import { validationError, type PipelineError } from '../domain/errors.js';

/** Keys are 1–255 visible ASCII characters (UUIDs, ULIDs, "quiz-42/answer-7", …). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_FIELD = 'idempotency_key';

/** The digest of everything a producer chose about the event (not its receive time). */
export function fingerprint(d: EventDraft): string {
  return createHash('sha256').update(JSON.stringify([d.eventType, d.source, d.sessionId, d.userId, d.payloadJson])).digest('base64url');
}

/**
 * The key for an event: `explicit` (a header) if given, else the input's `idempotency_key`
 * field. Undefined when there is none; a PipelineError when it is not a valid key.
 */
export function readIdempotencyKey(input: unknown, explicit: string | undefined, loc: (string | number)[]): string | undefined | PipelineError {
  const key: unknown = explicit ?? (input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>)[IDEMPOTENCY_FIELD] : undefined);
  if (key === undefined || key === null) return undefined;
  if (typeof key === 'string' && IDEMPOTENCY_KEY_PATTERN.test(key)) return key;
  return validationError('REQUEST_INVALID', [
    { type: 'string_pattern_mismatch', loc, msg: 'An idempotency key is 1 to 255 visible ASCII characters' },
  ]);
}

export function tag(draft: EventDraft, key: string | undefined): EventDraft {
  if (key === undefined) return draft;
  const t: IdempotencyTag = { key, fingerprint: fingerprint(draft) };
  return { ...draft, idempotency: t };
}
