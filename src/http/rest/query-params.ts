/**
 * @module http/rest/query-params
 * Query-string rules shared by history routes: integers with bounds (422), instants (400),
 * and "an empty value means no filter".
 */
import { isEventType, EVENT_TYPES, type EventType } from '../../../protocol/event-types.js';
import { PipelineError, type ValidationIssue } from '../../domain/errors.js';
import { parseInstant, type InstantUs } from '../../domain/timestamp.js';

export function optionalString(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

export function optionalEventType(q: URLSearchParams, issues: ValidationIssue[]): EventType | undefined {
  const v = optionalString(q, 'event_type');
  if (v === undefined) return undefined;
  if (isEventType(v)) return v;
  issues.push({ type: 'enum', loc: ['query', 'event_type'], msg: `Unknown event type '${v}'. Valid types: ${EVENT_TYPES.join(', ')}` });
  return undefined;
}

export function boundedInt(q: URLSearchParams, name: string, min: number, max: number, fallback: number, issues: ValidationIssue[]): number {
  const raw = q.get(name);
  if (raw === null) return fallback;
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    issues.push({ type: 'int_parsing', loc: ['query', name], msg: 'Input should be a valid integer, unable to parse string as an integer' });
    return fallback;
  }
  const n = Number(raw);
  if (n < min) issues.push({ type: 'greater_than_equal', loc: ['query', name], msg: `Input should be greater than or equal to ${min}` });
  else if (n > max) issues.push({ type: 'less_than_equal', loc: ['query', name], msg: `Input should be less than or equal to ${max}` });
  return n;
}

/** One of `values`, or a 422 naming them. */
export function optionalChoice<T extends string>(q: URLSearchParams, name: string, values: readonly T[], issues: ValidationIssue[]): T | undefined {
  const v = optionalString(q, name);
  if (v === undefined) return undefined;
  if ((values as readonly string[]).includes(v)) return v as T;
  issues.push({ type: 'enum', loc: ['query', name], msg: `Input should be ${values.map((x) => `'${x}'`).join(' or ')}` });
  return undefined;
}

/** An ISO 8601 instant, or a 400 that names the parameter (the contract's wording). */
export function optionalInstant(q: URLSearchParams, name: string): InstantUs | undefined {
  const v = optionalString(q, name);
  if (v === undefined) return undefined;
  const us = parseInstant(v);
  if (us === undefined) throw new PipelineError('REQUEST_TIMESTAMP_INVALID', `Invalid ISO 8601 timestamp for '${name}'`);
  return us;
}

export function throwIfIssues(issues: ValidationIssue[]): void {
  if (issues.length > 0) throw new PipelineError('REQUEST_INVALID', issues[0]?.msg ?? 'Invalid query', { issues });
}
