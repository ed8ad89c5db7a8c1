/**
 * @module http/route
 * A REST route: where it lives, how it is limited and authorised, what it does, and how
 * OpenAPI describes it. Handlers return a {@link Reply} or throw a PipelineError.
 */
import type { IncomingMessage } from 'node:http';
import type { RateClass } from '../limits/rate-limiter.js';
import type { Principal, Scope } from '../auth/principal.js';
import type { Reply, StreamReply } from './responses.js';

export interface RequestContext {
  readonly req: IncomingMessage;
  /** Who the request counts against: the client address. */
  readonly client: string;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  /** Who is asking (anonymous when auth is off or the route is public). */
  readonly principal: Principal;
  /** The principal's actor and the client address, for audit records: `api-key@10.0.0.7`. */
  readonly actor: string;
  /** The raw body, for routes with `body: true`. */
  readonly body: Buffer | undefined;
}

export interface OpenApiOperation {
  summary: string;
  tags: string[];
  parameters?: Record<string, unknown>[];
  requestBody?: Record<string, unknown>;
  responses: Record<string, Record<string, unknown>>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path with `{param}` segments, without the `/api/v1` prefix. */
  readonly path: string;
  /** Served under `/api/v1` as well as bare (false: bare only, e.g. `/docs`). */
  readonly versioned: boolean;
  readonly rate: RateClass | null;
  /** The scope a credential needs (checked before the body is read); null: public. */
  readonly scope: Scope | null;
  /** Also accept the key as an `api_key` query parameter (for browsers' EventSource, which cannot set headers). */
  readonly queryAuth?: boolean;
  readonly body: boolean;
  /** Overrides the server's body limit for this route (batch publish takes more). */
  readonly maxBodyBytes?: number;
  /** Listed in OpenAPI (false for the docs' own assets). */
  readonly documented: boolean;
  readonly doc: OpenApiOperation;
  readonly handle: (ctx: RequestContext) => Reply | StreamReply | Promise<Reply | StreamReply>;
}
