/**
 * @module http/rest/keys
 * API-key management for the admin scope: create (the secret is shown once, in the answer),
 * list, revoke, all within the tenant of the admin who asks: a tenant's admin never sees or
 * touches another tenant's keys. Keys for a new tenant are made with the `keys` CLI, by whoever
 * runs the server.
 */
import { Type } from '@sinclair/typebox';
import { apiKeyActor, mintApiKey, type ApiKeyStore } from '../../auth/api-keys.js';
import type { TenantId } from '../../domain/tenant.js';
import { keyToWire, parseNewKey } from '../../auth/key-requests.js';
import { SCOPES } from '../../auth/principal.js';
import type { Clock } from '../../clock.js';
import { PipelineError, validationError } from '../../domain/errors.js';
import type { Logger } from '../../log/logger.js';
import { parseJson } from '../body.js';
import { json, NO_STORE } from '../responses.js';
import type { Route } from '../route.js';
import { errorResponses, validationResponse } from './schemas.js';

/** Keys are small records; a body of a few KiB is plenty. */
const MAX_KEY_REQUEST_BYTES = 4096;

export interface KeyRoutesDeps {
  apiKeys: ApiKeyStore;
  clock: Clock;
  log: Logger;
  /** Ends the connections a revoked key still holds open; how many. */
  onRevoked: (tenant: TenantId, actor: string) => number;
}

const keySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  tenant: Type.String(),
  scopes: Type.Array(Type.String({ enum: [...SCOPES] })),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
});

export function keyRoutes(deps: KeyRoutesDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/admin/keys',
      versioned: true,
      rate: 'admin',
      scope: 'admin',
      body: true,
      maxBodyBytes: MAX_KEY_REQUEST_BYTES,
      documented: true,
      doc: {
        summary: 'Create a scoped API key; the key is in this answer only',
        tags: ['keys'],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: Type.Object({ name: Type.String({ maxLength: 100 }), scopes: Type.Array(Type.String({ enum: [...SCOPES] }), { minItems: 1 }), tenant: Type.Optional(Type.String()) }),
            },
          },
        },
        responses: {
          '201': { description: 'The new key', content: { 'application/json': { schema: Type.Intersect([keySchema, Type.Object({ key: Type.String() })]) } } },
          '422': validationResponse,
          ...errorResponses,
        },
      },
      handle: async (ctx) => {
        const parsed = parseNewKey(parseJson((ctx.body ?? Buffer.alloc(0)).toString('utf8')), ctx.principal.tenant);
        if (Array.isArray(parsed)) throw validationError('REQUEST_INVALID', parsed);
        if (parsed.tenant !== ctx.principal.tenant) {
          throw new PipelineError('AUTH_FORBIDDEN', `This credential creates keys in its own tenant ('${ctx.principal.tenant}') only`);
        }
        const { record, key, secretHash } = mintApiKey(parsed, deps.clock());
        await deps.apiKeys.insert(record, secretHash);
        deps.log.info('api key created', { key_id: record.id, tenant: record.tenant, scopes: record.scopes.join(' '), by: ctx.actor });
        return json(201, { ...keyToWire(record), key }, NO_STORE);
      },
    },
    {
      method: 'GET',
      path: '/admin/keys',
      versioned: true,
      rate: 'admin',
      scope: 'admin',
      body: false,
      documented: true,
      doc: {
        summary: "The tenant's API keys, newest first (never their secrets)",
        tags: ['keys'],
        responses: { '200': { description: 'Keys', content: { 'application/json': { schema: Type.Array(keySchema) } } }, ...errorResponses },
      },
      handle: async (ctx) => json(200, (await deps.apiKeys.list(ctx.principal.tenant)).map(keyToWire), NO_STORE),
    },
    {
      method: 'DELETE',
      path: '/admin/keys/{key_id}',
      versioned: true,
      rate: 'admin',
      scope: 'admin',
      body: false,
      documented: true,
      doc: {
        summary: 'Revoke an API key; it stops working at once',
        tags: ['keys'],
        parameters: [{ name: 'key_id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{12}$' } }],
        responses: {
          '200': { description: 'Revoked', content: { 'application/json': { schema: Type.Object({ id: Type.String(), revoked: Type.Boolean() }) } } },
          '404': { description: 'No such unrevoked key in this tenant', content: { 'application/json': { schema: Type.Object({ detail: Type.String() }) } } },
          ...errorResponses,
        },
      },
      handle: async (ctx) => {
        const id = ctx.params['key_id'] ?? '';
        const revoked = /^[0-9a-f]{12}$/.test(id) && (await deps.apiKeys.revoke(id, ctx.principal.tenant, deps.clock()));
        if (!revoked) throw new PipelineError('KEY_NOT_FOUND', 'API key not found');
        const closed = deps.onRevoked(ctx.principal.tenant, apiKeyActor(id));
        deps.log.info('api key revoked', { key_id: id, by: ctx.actor, connections_closed: closed });
        return json(200, { id, revoked: true }, NO_STORE);
      },
    },
  ];
}
