/**
 * @module http/body
 * Reads a request body up to a byte limit and parses it as JSON. A declared or actual size over
 * the limit is a 413 before anything is buffered past the limit; bad JSON is a 422.
 */
import type { IncomingMessage } from 'node:http';
import { PipelineError } from '../domain/errors.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new PipelineError('REQUEST_INVALID', 'Request body could not be read', { cause: err }));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): PipelineError {
  return new PipelineError('REQUEST_BODY_TOO_LARGE', `Request body is larger than ${limit} bytes`);
}

/** Parses JSON text; a failure is the 422 FastAPI clients expect (`json_invalid`). */
export function parseJson(text: string, locRoot = 'body'): unknown {
  if (text.trim() === '') {
    throw new PipelineError('REQUEST_JSON_INVALID', 'Field required', { issues: [{ type: 'missing', loc: [locRoot], msg: 'Field required' }] });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const msg = err instanceof Error ? err.message : 'JSON decode error';
    throw new PipelineError('REQUEST_JSON_INVALID', 'JSON decode error', {
      issues: [{ type: 'json_invalid', loc: [locRoot], msg: `JSON decode error: ${msg}` }],
      cause: err,
    });
  }
}
