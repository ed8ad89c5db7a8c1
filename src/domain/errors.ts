/**
 * @module domain/errors
 * The one error type the service raises on purpose. Transports turn it into a status code
 * and a body (http/error-response.ts); everything else is a bug and answers 500 without
 * details.
 */
import { ERROR_HTTP_STATUS, ERROR_RETRYABLE, type ErrorCode } from '../../protocol/error-codes.js';

/** One failed field, in the shape FastAPI clients already parse. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
}

export class PipelineError extends Error {
  readonly code: ErrorCode;
  /** Field-level problems for validation errors; answered as `detail[]`. */
  readonly issues: readonly ValidationIssue[] | undefined;
  /** Seconds a client should wait before retrying (rate limits). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { issues?: ValidationIssue[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.issues = options.issues;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.code];
  }

  get retryable(): boolean {
    return ERROR_RETRYABLE[this.code];
  }
}

/** The contract's 429, with how long to wait. */
export function rateLimited(retryAfterSeconds: number): PipelineError {
  return new PipelineError('RATE_LIMITED', 'Rate limit exceeded. Try again later.', { retryAfterSeconds });
}

/** A 422 built from field issues; the message summarises the first one. */
export function validationError(
  code: 'REQUEST_INVALID' | 'INGEST_EVENT_INVALID' | 'FILTER_INVALID' | 'REQUEST_JSON_INVALID',
  issues: ValidationIssue[],
): PipelineError {
  const first = issues[0];
  const summary = first === undefined ? 'Invalid input' : `${first.loc.slice(1).join('.') || first.loc.join('.')}: ${first.msg}`;
  return new PipelineError(code, summary, { issues });
}
