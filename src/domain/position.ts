/**
 * @module domain/position
 * Where a subscription starts in the event history: after a `seq`, at a time, at the
 * beginning of what is stored, or now. Parsed from the `from` of a subscribe configuration,
 * an `update_filters`, or an SSE request.
 */
import type { Seq } from './event.js';
import { validationError, type PipelineError } from './errors.js';
import { formatInstant, parseInstant, type InstantUs } from './timestamp.js';

export type StartPosition =
  /** Only events committed from now on: the original protocol's behaviour. */
  | { readonly kind: 'latest' }
  /** Everything still stored, then live. */
  | { readonly kind: 'earliest' }
  /** Events with a `seq` greater than this one (the last one the client has). */
  | { readonly kind: 'seq'; readonly seq: Seq }
  /** Events received at or after this instant. */
  | { readonly kind: 'time'; readonly us: InstantUs };

const HELP = 'from should be a seq number (resume after it), {"time": "<ISO 8601>"}, "earliest" or "latest"';

export function parseStartPosition(value: unknown, loc: (string | number)[]): StartPosition | PipelineError {
  if (value === 'latest') return { kind: 'latest' };
  if (value === 'earliest') return { kind: 'earliest' };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { kind: 'seq', seq: value };
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return { kind: 'seq', seq: Number(value) };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const time = (value as { time?: unknown }).time;
    if (typeof time === 'string') {
      const us = parseInstant(time);
      if (us !== undefined) return { kind: 'time', us };
      return validationError('FILTER_INVALID', [{ type: 'datetime_parsing', loc: [...loc, 'time'], msg: `Invalid ISO 8601 timestamp '${time.slice(0, 64)}'` }]);
    }
  }
  return validationError('FILTER_INVALID', [{ type: 'value_error', loc, msg: HELP }]);
}

export function startPositionToWire(p: StartPosition): unknown {
  switch (p.kind) {
    case 'latest':
    case 'earliest':
      return p.kind;
    case 'seq':
      return p.seq;
    case 'time':
      return { time: formatInstant(p.us) };
  }
}
