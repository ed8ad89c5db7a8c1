/**
 * @module http/cors
 * CORS for the configured origins only (closed when none are configured).
 */
import type { IncomingMessage } from 'node:http';

export const PREFLIGHT_MAX_AGE_SECONDS = 600;

export class Cors {
  readonly #any: boolean;
  readonly #origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.#any = origins.includes('*');
    this.#origins = new Set(origins);
  }

  get enabled(): boolean {
    return this.#any || this.#origins.size > 0;
  }

  allows(origin: string): boolean {
    return this.#any || this.#origins.has(origin);
  }

  /** Headers for a response to `req`; empty when its origin is not allowed. */
  headers(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined || !this.allows(origin)) return {};
    return { 'Access-Control-Allow-Origin': this.#any ? '*' : origin, Vary: 'Origin', 'Access-Control-Expose-Headers': 'Retry-After, X-Error-Code, Link' };
  }

  preflightHeaders(req: IncomingMessage, methods: readonly string[]): Record<string, string> {
    const base = this.headers(req);
    if (Object.keys(base).length === 0) return {};
    return {
      ...base,
      'Access-Control-Allow-Methods': methods.join(', '),
      'Access-Control-Allow-Headers': 'Content-Type, X-API-Key, Authorization, Idempotency-Key, Last-Event-ID',
      'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
    };
  }
}
