/**
 * @module http/openapi
 * The OpenAPI 3.1 document, generated from the route table and the same schemas that validate
 * requests, plus a description of the WebSocket endpoints.
 */
import type { Route } from './route.js';

export function buildOpenApi(routes: readonly Route[], version: string, requireAuth: boolean): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (!r.documented) continue;
    const path = r.versioned ? `/api/v1${r.path}` : r.path;
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      ...r.doc,
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[^a-z]+(.)?/gi, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(r.scope !== null && requireAuth ? { security: [{ apiKey: [] }] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'realtime-event-pipeline',
      version,
      description:
        'Durable event ingest and filtered real-time delivery for educational platforms. Every route is also served without the `/api/v1` prefix.\n\n' +
        'WebSockets: `/ws/publish` (send events, one JSON object per message; each is answered in order with `{"status":"ok","event_id":...,"seq":...}` or `{"status":"error","message":...}`) and ' +
        '`/ws/subscribe` (first message: `{"event_types":[...],"session_id":...,"user_id":...}`; then matching events arrive as JSON objects). See the README for the full protocol and close codes.',
    },
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    paths,
  };
}
