import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../security/audit-log.js';
import type { Authenticator } from '../../security/authenticator.js';
import { principalOf, requireScope } from '../auth.js';
import { AuditQuerySchema, errorResponses } from '../schemas.js';

export interface AuditRouteOptions {
  readonly audit: AuditLog;
  readonly authenticator: Authenticator;
}

interface AuditQuery {
  limit?: number;
  after?: number;
  action?: string;
  targetId?: string;
  actorId?: string;
  since?: string;
  until?: string;
}

/**
 * `GET /api/v1/audit` (scope `streams:read`): the audit trail, oldest first, paged as Okta's
 * System Log is (`limit`, `Link: <…>; rel="next"`). The operator reads every record; a token of an
 * org reads the records of its org.
 */
export async function auditRoutes(app: FastifyInstance, options: AuditRouteOptions): Promise<void> {
  const base = (request: FastifyRequest): string => `${request.protocol}://${request.host}/api/v1/audit`;
  app.get<{ Querystring: AuditQuery }>(
    '/api/v1/audit',
    {
      onRequest: requireScope(options.authenticator, 'streams:read'),
      schema: {
        summary: 'Read the audit trail',
        description:
          'Admin actions (log stream create/update/delete/activate/deactivate/test/replay/redeliver, token ' +
          'create/revoke): who, when, what, and the JSON Pointers of changed fields (never values).',
        tags: ['audit'],
        querystring: AuditQuerySchema,
        response: { 200: Type.Array(Type.Ref('AuditRecord')), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, response) => {
      const principal = principalOf(request);
      const query = request.query;
      const limit = query.limit ?? 100;
      const page = options.audit.list({
        limit,
        ...(principal.org === '*' ? {} : { org: principal.org }),
        ...(query.after === undefined ? {} : { after: query.after }),
        ...(query.action === undefined ? {} : { action: query.action }),
        ...(query.targetId === undefined ? {} : { targetId: query.targetId }),
        ...(query.actorId === undefined ? {} : { actorId: query.actorId }),
        ...(query.since === undefined ? {} : { since: new Date(query.since).toISOString() }),
        ...(query.until === undefined ? {} : { until: new Date(query.until).toISOString() }),
      });
      if (page.nextAfter !== null) {
        const next = new URLSearchParams();
        for (const [key, value] of Object.entries(query)) {
          if (value !== undefined && key !== 'after') next.set(key, String(value));
        }
        next.set('limit', String(limit));
        next.set('after', String(page.nextAfter));
        response.header('link', `<${base(request)}?${next}>; rel="next"`);
      }
      return page.items;
    },
  );
}
