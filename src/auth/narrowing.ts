/**
 * @module auth/narrowing
 * What a narrowed credential may see and do: a teacher's token only its class sessions, a
 * student app's token only its own user's events, and it publishes only as that user. One
 * place for the rules, used by history, subscriptions, SSE and publish alike.
 */
import { PipelineError } from '../domain/errors.js';
import type { Principal } from './principal.js';

function forbidden(message: string): PipelineError {
  return new PipelineError('AUTH_FORBIDDEN', message);
}

/**
 * A read or subscription asking for `sessionId`/`userId` (null: any) must stay inside the
 * principal's narrowing: a narrowed credential has to name one of its own sessions or users.
 */
export function checkScopeOfInterest(principal: Principal, want: { sessionId: string | null; userId: string | null }): PipelineError | undefined {
  if (principal.sessions !== null && (want.sessionId === null || !principal.sessions.has(want.sessionId))) {
    return forbidden('This credential may only read its own sessions: set session_id to one of them');
  }
  if (principal.users !== null && (want.userId === null || !principal.users.has(want.userId))) {
    return forbidden('This credential may only read its own users: set user_id to one of them');
  }
  return undefined;
}

/** Whether a single stored event is visible to the principal (a foreign one answers 404). */
export function canSee(principal: Principal, event: { sessionId: string | null; userId: string | null }): boolean {
  return (
    (principal.sessions === null || (event.sessionId !== null && principal.sessions.has(event.sessionId))) &&
    (principal.users === null || (event.userId !== null && principal.users.has(event.userId)))
  );
}

/** A credential bound to a user publishes only as that user. */
export function checkPublisher(principal: Principal, input: unknown): PipelineError | undefined {
  if (principal.publishAs === null) return undefined;
  const userId = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as { user_id?: unknown }).user_id : undefined;
  return userId === principal.publishAs ? undefined : forbidden(`This credential publishes only as user_id '${principal.publishAs}'`);
}
