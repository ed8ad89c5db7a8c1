/**
 * @module http/ws/error-message
 * A PipelineError as a WebSocket message: `{"status":"error","code","message"}`, with the
 * field issues as `detail` and `retry_after` when there are any.
 */
import type { PipelineError } from '../../domain/errors.js';

export function wsErrorMessage(err: PipelineError): string {
  return JSON.stringify({
    status: 'error',
    code: err.code,
    message: err.message,
    ...(err.issues === undefined ? {} : { detail: err.issues }),
    ...(err.retryAfterSeconds === undefined ? {} : { retry_after: err.retryAfterSeconds }),
  });
}
