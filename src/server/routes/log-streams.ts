import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog, NewAuditRecord } from '../../security/audit-log.js';
import { changedPaths } from '../../security/audit-log.js';
import type { Authenticator } from '../../security/authenticator.js';
import { coversOrg, type Principal } from '../../security/tokens.js';
import type { StreamDefinition } from '../../streams/stream.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import type { DeadLetter } from '../../streams/stream-store.js';
import { principalOf, requireScope } from '../auth.js';
import { ApiError } from '../errors.js';
import {
  DeadLetterPageSchema,
  DeadLetterQuerySchema,
  errorResponses,
  IdParamsSchema,
  LogStreamInputSchema,
  LogStreamListQuerySchema,
  NoQuerySchema,
  RedeliverBodySchema,
  RedeliveryReportSchema,
  ReplayBodySchema,
  ReplayResultSchema,
  TestResultSchema,
} from '../schemas.js';
import { securityWarnings } from '../security-warnings.js';

export interface LogStreamsRouteOptions {
  readonly streams: StreamManager;
  readonly authenticator: Authenticator;
  /** Where admin actions are recorded. Default: not recorded. */
  readonly audit?: AuditLog;
}

type Params = { id: string };

/**
 * Destination types that write on the flowstream host itself (a file path, the process's stdout):
 * only the operator may manage them, or one org's token could write event JSON to any file the
 * service can write.
 */
export const HOST_LOCAL_TYPES: ReadonlySet<string> = new Set(['file', 'stdout']);

/**
 * Okta's list filter: `type eq "splunk_hec"`, `status eq "ACTIVE"`, joined with ` and `.
 * Anything else is a 400 that says what is understood.
 */
export function parseStreamFilter(expression: string): ((s: StreamDefinition) => boolean) | undefined {
  const clauses = expression.split(/\s+and\s+/i);
  const tests: ((s: StreamDefinition) => boolean)[] = [];
  for (const clause of clauses) {
    const match = /^\s*(type|status|org|name)\s+eq\s+"([^"]*)"\s*$/i.exec(clause);
    if (!match) return undefined;
    const field = match[1]!.toLowerCase() as 'type' | 'status' | 'org' | 'name';
    const value = match[2]!;
    tests.push((s) => s[field] === value);
  }
  return (s) => tests.every((t) => t(s));
}

const ref = (id: string) => Type.Ref(id);
const TAGS = ['logStreams'];

/**
 * `/api/v1/logStreams` (SPEC §3): Okta's log streams API, extended with health, test, replay and
 * dead letters. A token sees and changes only the streams of its own org (`*`: all); a stream of
 * another org answers 404, so ids of other orgs are not revealed. Every change is recorded in the
 * audit trail (who, when, which fields; never values).
 */
export async function logStreamsRoutes(app: FastifyInstance, options: LogStreamsRouteOptions): Promise<void> {
  const { streams, audit } = options;
  const readHook = requireScope(options.authenticator, 'streams:read');
  const writeHook = requireScope(options.authenticator, 'streams:write');
  const base = (request: FastifyRequest): string => `${request.protocol}://${request.host}/api/v1/logStreams`;

  const present = (stream: StreamDefinition, request: FastifyRequest): Record<string, unknown> => {
    const self = `${base(request)}/${encodeURIComponent(stream.id)}`;
    const lifecycle = stream.status === 'ACTIVE' ? 'deactivate' : 'activate';
    return {
      ...streams.redacted(stream),
      _links: {
        self: { href: self, method: 'GET' },
        [lifecycle]: { href: `${self}/lifecycle/${lifecycle}`, method: 'POST' },
        health: { href: `${self}/health`, method: 'GET' },
      },
    };
  };

  /**
   * The stream, if the principal's org covers it. SPEC §3: a valid token for another org gets 403
   * (which tells it that the id exists; ids are random ULIDs or names its operator chose).
   */
  const visible = (principal: Principal, id: string): StreamDefinition => {
    const stream = streams.get(id);
    if (stream === undefined) {
      throw new ApiError('FS_NOT_FOUND', { causes: [`No log stream has the id ${JSON.stringify(id)}.`] });
    }
    if (!coversOrg(principal, stream.org)) {
      throw new ApiError('FS_FORBIDDEN_ORG', {
        causes: [`Log stream ${JSON.stringify(id)} belongs to another org.`],
      });
    }
    return stream;
  };

  /**
   * The input a create/update may save: the principal's own org unless it is the operator. An
   * update without `org` keeps the stream's org: defaulting it to `*` would hand every org's events
   * to one org's destination.
   */
  const checkInput = (
    principal: Principal,
    body: unknown,
    existing?: StreamDefinition,
  ): Record<string, unknown> => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError('FS_VALIDATION', { causes: ['The body must be a log stream object.'] });
    }
    // A stream object read from the API may be written back whole: `_links` is ours, not the stream's.
    const { _links: _ignored, ...input } = body as Record<string, unknown>;
    if (principal.org !== '*' && typeof input.type === 'string' && HOST_LOCAL_TYPES.has(input.type)) {
      throw new ApiError('FS_FORBIDDEN_DESTINATION_TYPE', {
        causes: [
          `Log streams of type ${input.type} write on the flowstream host; an operator token must manage them.`,
        ],
      });
    }
    if (input.org === undefined) {
      if (existing !== undefined) return { ...input, org: existing.org };
      return principal.org === '*' ? input : { ...input, org: principal.org };
    }
    if (typeof input.org !== 'string' || !coversOrg(principal, input.org)) {
      throw new ApiError('FS_FORBIDDEN_ORG', {
        causes: ['A token can only manage log streams of its own org.'],
      });
    }
    return input;
  };

  const record = (
    request: FastifyRequest,
    stream: Pick<StreamDefinition, 'id' | 'org'>,
    action: NewAuditRecord['action'],
    extra: Pick<NewAuditRecord, 'changes' | 'details'> = {},
  ): void => {
    if (audit === undefined) return;
    const principal = principalOf(request);
    audit.record({
      actor: { tokenId: principal.tokenId, name: principal.name, org: principal.org },
      action,
      org: stream.org,
      target: { type: 'logStream', id: stream.id },
      ...extra,
    });
  };

  app.get<{ Querystring: { limit?: number; after?: string; filter?: string } }>(
    '/api/v1/logStreams',
    {
      onRequest: readHook,
      schema: {
        summary: 'List log streams',
        description:
          "The token's org's log streams, by id. Paging as Okta's: `limit`, and the `Link: <…>; rel=\"next\"` " +
          'header (its `after` is the last id of the page).',
        tags: TAGS,
        querystring: LogStreamListQuerySchema,
        response: { 200: Type.Array(ref('LogStream')), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, response) => {
      const principal = principalOf(request);
      const { limit = 20, after, filter: expression } = request.query;
      let filter: ((s: StreamDefinition) => boolean) | undefined;
      if (expression !== undefined) {
        filter = parseStreamFilter(expression);
        if (filter === undefined) {
          throw new ApiError('FS_VALIDATION', {
            causes: [
              'filter understands `type eq "…"`, `status eq "…"`, `org eq "…"`, `name eq "…"`, joined with `and`.',
            ],
          });
        }
      }
      const all = streams
        .list()
        .filter((s) => coversOrg(principal, s.org) && (filter === undefined || filter(s)))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const start = after === undefined ? 0 : all.findIndex((s) => s.id > after);
      const page = start === -1 ? [] : all.slice(start, start + limit);
      const last = page.at(-1);
      if (last !== undefined && all.at(-1)?.id !== last.id) {
        const next = new URLSearchParams({ limit: String(limit), after: last.id });
        if (expression !== undefined) next.set('filter', expression);
        response.header('link', `<${base(request)}?${next}>; rel="next"`);
      }
      return page.map((s) => present(s, request));
    },
  );

  app.post(
    '/api/v1/logStreams',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Create a log stream',
        description:
          'A token of an org creates streams of its org only (`org` defaults to it); types that write on the ' +
          'host (file, stdout) need an operator token. Destinations on private addresses are refused unless ' +
          '`network.allowPrivateNetworks` is true (FS_STREAM_DESTINATION_FORBIDDEN).',
        tags: TAGS,
        body: LogStreamInputSchema,
        querystring: NoQuerySchema,
        response: { 200: ref('LogStream'), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const created = await streams.create(checkInput(principal, request.body));
      record(request, created, 'logStream.create', {
        changes: changedPaths({}, created, ['created', 'lastUpdated']),
        details: { type: created.type, status: created.status },
      });
      return present(created, request);
    },
  );

  app.get<{ Params: Params }>(
    '/api/v1/logStreams/:id',
    {
      onRequest: readHook,
      schema: {
        summary: 'Get a log stream',
        tags: TAGS,
        params: IdParamsSchema,
        querystring: NoQuerySchema,
        response: { 200: ref('LogStream'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => present(visible(principalOf(request), request.params.id), request),
  );

  app.put<{ Params: Params }>(
    '/api/v1/logStreams/:id',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Replace a log stream',
        description:
          'The whole stream object; secrets sent back as `********` keep their stored value. The cursor, ' +
          'counters and dead letters are kept.',
        tags: TAGS,
        params: IdParamsSchema,
        body: LogStreamInputSchema,
        querystring: NoQuerySchema,
        response: { 200: ref('LogStream'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const before = visible(principal, request.params.id);
      const updated = await streams.update(request.params.id, checkInput(principal, request.body, before));
      record(request, updated, 'logStream.update', {
        changes: changedPaths(before, updated, ['created', 'lastUpdated']),
      });
      return present(updated, request);
    },
  );

  app.delete<{ Params: Params }>(
    '/api/v1/logStreams/:id',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Delete a log stream',
        description: 'Stops its delivery and removes its definition, cursor and dead letters.',
        tags: TAGS,
        params: IdParamsSchema,
        querystring: NoQuerySchema,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, response) => {
      const stream = visible(principalOf(request), request.params.id);
      await streams.delete(request.params.id);
      record(request, stream, 'logStream.delete', { details: { type: stream.type } });
      return response.code(204).send();
    },
  );

  for (const lifecycle of ['activate', 'deactivate'] as const) {
    app.post<{ Params: Params }>(
      `/api/v1/logStreams/:id/lifecycle/${lifecycle}`,
      {
        onRequest: writeHook,
        schema: {
          summary: lifecycle === 'activate' ? 'Activate a log stream' : 'Deactivate a log stream',
          description:
            lifecycle === 'activate'
              ? 'ACTIVE: delivery runs. A PAUSED stream resumes from its cursor.'
              : 'INACTIVE: delivery stops; the cursor stays.',
          tags: TAGS,
          params: IdParamsSchema,
          querystring: NoQuerySchema,
          response: { 200: ref('LogStream'), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const before = visible(principalOf(request), request.params.id);
        const after =
          lifecycle === 'activate'
            ? await streams.activate(request.params.id)
            : await streams.deactivate(request.params.id);
        record(request, after, `logStream.${lifecycle}`, {
          changes: before.status === after.status ? [] : ['/status'],
        });
        return present(after, request);
      },
    );
  }

  app.get<{ Params: Params }>(
    '/api/v1/logStreams/:id/health',
    {
      onRequest: readHook,
      schema: {
        summary: 'Health of a log stream',
        description: 'Delivery state, lag and counters; `warnings` lists settings that weaken security.',
        tags: TAGS,
        params: IdParamsSchema,
        querystring: NoQuerySchema,
        response: { 200: ref('StreamHealth'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const stream = visible(principalOf(request), request.params.id);
      const health = await streams.health(request.params.id);
      return { ...health, warnings: securityWarnings(stream) };
    },
  );

  app.post<{ Params: Params }>(
    '/api/v1/logStreams/:id/test',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Send a test event',
        description:
          "Sends one synthetic event straight to the destination and reports the destination's answer.",
        tags: TAGS,
        params: IdParamsSchema,
        querystring: NoQuerySchema,
        response: { 200: TestResultSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const stream = visible(principalOf(request), request.params.id);
      const result = await streams.test(request.params.id);
      record(request, stream, 'logStream.test', { details: { outcome: result.outcome } });
      return { ok: result.outcome === 'delivered', ...result };
    },
  );

  app.post<{ Params: Params; Body: { from: string } }>(
    '/api/v1/logStreams/:id/replay',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Replay from a time',
        description: 'Moves the cursor back to the first event ingested at or after `from` (never forward).',
        tags: TAGS,
        params: IdParamsSchema,
        body: ReplayBodySchema,
        querystring: NoQuerySchema,
        response: { 200: ReplayResultSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const stream = visible(principalOf(request), request.params.id);
      const from = Date.parse(request.body.from);
      if (Number.isNaN(from)) {
        throw new ApiError('FS_VALIDATION', {
          causes: ['body.from must be an ISO 8601 timestamp, e.g. {"from": "2024-04-04T18:30:00Z"}.'],
        });
      }
      const result = await streams.replay(request.params.id, from);
      const fromIso = new Date(from).toISOString();
      record(request, stream, 'logStream.replay', {
        changes: result.previousCursor === result.cursor ? [] : ['/cursor'],
        details: { from: fromIso, previousCursor: result.previousCursor, cursor: result.cursor },
      });
      return { from: fromIso, ...result };
    },
  );

  app.get<{ Params: Params; Querystring: { limit?: number; after?: number } }>(
    '/api/v1/logStreams/:id/deadLetters',
    {
      onRequest: readHook,
      schema: {
        summary: 'List dead letters',
        description: 'Events the destination refused for good, with its answer; oldest first.',
        tags: TAGS,
        params: IdParamsSchema,
        querystring: DeadLetterQuerySchema,
        response: { 200: DeadLetterPageSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      visible(principalOf(request), request.params.id);
      const { limit = 100, after } = request.query;
      const page = streams.deadLetters(request.params.id, {
        limit,
        ...(after === undefined ? {} : { after }),
      });
      return { items: page.items.map(presentDeadLetter), nextAfter: page.nextAfter };
    },
  );

  app.post<{ Params: Params }>(
    '/api/v1/logStreams/:id/deadLetters/redeliver',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Redeliver dead letters',
        description: 'Sends these dead letters (or all) again, oldest first; a delivered one is removed.',
        tags: TAGS,
        params: IdParamsSchema,
        body: RedeliverBodySchema,
        querystring: NoQuerySchema,
        response: { 200: RedeliveryReportSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const stream = visible(principalOf(request), request.params.id);
      const body: unknown = request.body ?? {};
      const ids =
        body !== null && typeof body === 'object' && !Array.isArray(body)
          ? (body as { ids?: unknown }).ids
          : 0;
      if (ids !== undefined && (!Array.isArray(ids) || !ids.every((i) => Number.isSafeInteger(i)))) {
        throw new ApiError('FS_VALIDATION', {
          causes: ['body.ids must be an array of dead letter ids (integers).'],
        });
      }
      const report = await streams.redeliverDeadLetters(request.params.id, ids as number[] | undefined);
      record(request, stream, 'logStream.deadLetters.redeliver', {
        details: {
          requested: ids === undefined ? 'all' : (ids as number[]).length,
          delivered: report.delivered,
          remaining: report.remaining,
        },
      });
      return report;
    },
  );
}

function presentDeadLetter(d: DeadLetter): Record<string, unknown> {
  return {
    id: d.id,
    seq: d.seq,
    eventType: d.eventType,
    executionId: d.executionId,
    idempotencyKey: d.idempotencyKey,
    event: JSON.parse(d.json) as unknown,
    error: d.error,
    attempts: d.attempts,
    firstFailedAt: new Date(d.firstFailedAtMillis).toISOString(),
    lastFailedAt: new Date(d.lastFailedAtMillis).toISOString(),
  };
}
