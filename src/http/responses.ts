/**
 * @module http/responses
 * Writing responses: the security headers every response carries, JSON bodies, and errors
 * mapped from PipelineError through the error catalogue.
 */
import type { ServerResponse } from 'node:http';
import type { PipelineError } from '../domain/errors.js';

/** `/docs` loads only the server's own scripts and styles; Swagger UI sets inline styles. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** Responses about students (events, history, admin records): never cached by browsers or proxies. */
export const NO_STORE: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store' };

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
};

export interface Reply {
  status: number;
  body: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * A reply that keeps the response open and writes to it over time (Server-Sent Events). The
 * server writes the status and headers (with the security and CORS headers), then calls `start`.
 */
export interface StreamReply {
  status: number;
  headers: Record<string, string>;
  start(res: ServerResponse): void;
}

export const isStreamReply = (r: Reply | StreamReply): r is StreamReply => 'start' in r;

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: JSON.stringify(body),
  ...(headers === undefined ? {} : { headers }),
});

/** A reply whose body is already JSON text (stored events are serialised once). */
export const rawJson = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  status,
  body,
  ...(headers === undefined ? {} : { headers }),
});

export function send(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const body = reply.body;
  res.writeHead(reply.status, {
    ...SECURITY_HEADERS,
    'Content-Type': reply.contentType ?? 'application/json',
    'Content-Length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
    ...extraHeaders,
    ...reply.headers,
  });
  res.end(body);
}

/** The contract's error bodies: `{"detail": [...]}` for validation, `{"detail": "..."}` otherwise. */
export function errorReply(err: PipelineError): Reply {
  const headers: Record<string, string> = { 'X-Error-Code': err.code };
  if (err.retryAfterSeconds !== undefined) headers['Retry-After'] = String(err.retryAfterSeconds);
  if (err.httpStatus === 413) headers['Connection'] = 'close';
  return json(err.httpStatus, { detail: err.issues ?? err.message }, headers);
}

export function internalErrorReply(): Reply {
  return json(500, { detail: 'Internal Server Error' }, { 'X-Error-Code': 'INTERNAL' });
}
