/**
 * @module http/rest/privacy
 * A student's right to be forgotten, and the record of every delete: `DELETE
 * /users/{user_id}/events` erases one user's events everywhere (history, counts, replay, the
 * copies kept for idempotent retries) for good, and `GET /admin/audit` lists who deleted or
 * erased what, how many, and when.
 */
import { Type } from '@sinclair/typebox';
import type { Clock } from '../../clock.js';
import { MAX_ID_FIELD_LENGTH } from '../../domain/event.js';
import { validationError, type ValidationIssue } from '../../domain/errors.js';
import { formatInstant } from '../../domain/timestamp.js';
import type { EventStore } from '../../storage/event-store.js';
import { json, NO_STORE } from '../responses.js';
import type { Logger } from '../../log/logger.js';
import type { Route } from '../route.js';
import { boundedInt, throwIfIssues } from './query-params.js';
import { errorResponses } from './schemas.js';

export const MAX_AUDIT_PAGE = 1000;

export interface PrivacyRoutesDeps {
  store: EventStore;
  clock: Clock;
  log: Logger;
}

const auditRecordSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ description: 'When, ISO 8601 UTC' }),
  actor: Type.String({ description: 'Who: the credential kind and the client address' }),
  action: Type.String({ enum: ['delete_events', 'erase_user', 'retention_purge'] }),
  target: Type.Union([Type.String(), Type.Null()], { description: 'The erased user_id, or the `before` instant of a delete; null for everything' }),
  count: Type.Integer({ description: 'Events removed' }),
});

export function privacyRoutes(deps: PrivacyRoutesDeps): Route[] {
  return [
    {
      method: 'DELETE',
      path: '/users/{user_id}/events',
      versioned: true,
      rate: 'admin',
      scope: 'admin',
      body: false,
      documented: true,
      doc: {
        summary: "Erase every event of one user (a student's right to erasure); audited",
        tags: ['privacy'],
        parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string', maxLength: MAX_ID_FIELD_LENGTH } }],
        responses: {
          '200': { description: 'How many events were erased', content: { 'application/json': { schema: Type.Object({ user_id: Type.String(), deleted: Type.Integer() }) } } },
          ...errorResponses,
        },
      },
      handle: async (ctx) => {
        const userId = ctx.params['user_id'] ?? '';
        if (userId.length > MAX_ID_FIELD_LENGTH) {
          throw validationError('REQUEST_INVALID', [{ type: 'string_too_long', loc: ['path', 'user_id'], msg: `String should have at most ${MAX_ID_FIELD_LENGTH} characters` }]);
        }
        const deleted = await deps.store.eraseUser(ctx.principal.tenant, userId, { actor: ctx.actor, atUs: deps.clock() });
        // The user id stays in the audit log, not in the logs.
        deps.log.info('user erased', { tenant: ctx.principal.tenant, by: ctx.actor, deleted });
        return json(200, { user_id: userId, deleted }, NO_STORE);
      },
    },
    {
      method: 'GET',
      path: '/admin/audit',
      versioned: true,
      rate: 'admin',
      scope: 'admin',
      body: false,
      documented: true,
      doc: {
        summary: 'The audit log of deletes, erasures and retention purges, newest first',
        tags: ['privacy'],
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_PAGE, default: 100 } },
          { name: 'before_id', in: 'query', required: false, description: 'Only records older than this id (paging)', schema: { type: 'integer', minimum: 1 } },
        ],
        responses: { '200': { description: 'Audit records', content: { 'application/json': { schema: Type.Array(auditRecordSchema) } } }, ...errorResponses },
      },
      handle: async (ctx) => {
        const issues: ValidationIssue[] = [];
        const limit = boundedInt(ctx.query, 'limit', 1, MAX_AUDIT_PAGE, 100, issues);
        const beforeId = ctx.query.has('before_id') ? boundedInt(ctx.query, 'before_id', 1, Number.MAX_SAFE_INTEGER, 1, issues) : undefined;
        throwIfIssues(issues);
        const records = await deps.store.listAudit(ctx.principal.tenant, limit, beforeId);
        return json(
          200,
          records.map((r) => ({ id: r.id, at: formatInstant(r.atUs), actor: r.actor, action: r.action, target: r.target, count: r.count })),
          NO_STORE,
        );
      },
    },
  ];
}
