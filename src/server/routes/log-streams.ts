import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../security/authenticator.js';
import { coversOrg, type Principal } from '../../security/tokens.js';
import type { DeadLetter } from '../../streams/stream-store.js';
import type { StreamDefinition } from '../../streams/stream.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import { principalOf, requireScope } from '../auth.js';
import { ApiError } from '../errors.js';

export interface LogStreamsRouteOptions {
  readonly streams: StreamManager;
  readonly authenticator: Authenticator;
}

type Params = { id: string };

/** Default and largest page of `GET /api/v1/logStreams`. */
const DEFAULT_PAGE = 20;
const MAX_PAGE = 200;

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

function pageParam(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < 1 || n > max) {
    throw new ApiError('FS_VALIDATION', { causes: [`${name} must be an integer from 1 to ${max}`] });
  }
  return n;
}

/**
 * `/api/v1/logStreams` (SPEC §3): Okta's log streams API, extended with health, test, replay and
 * dead letters. A token sees and changes only the streams of its own org (`*`: all); a stream of
 * another org answers 404, so ids of other orgs are not revealed.
 */
export async function logStreamsRoutes(app: FastifyInstance, options: LogStreamsRouteOptions): Promise<void> {
  const { streams } = options;
  const read = { preHandler: requireScope(options.authenticator, 'streams:read') };
  const write = { preHandler: requireScope(options.authenticator, 'streams:write') };
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

  /** The stream, if the principal's org covers it; 404 otherwise (existence is not revealed). */
  const visible = (principal: Principal, id: string): StreamDefinition => {
    const stream = streams.get(id);
    if (stream === undefined || !coversOrg(principal, stream.org)) {
      throw new ApiError('FS_NOT_FOUND', { causes: [`No log stream has the id ${JSON.stringify(id)}.`] });
    }
    return stream;
  };

  /** The org a create/update may set: the principal's own unless it is the operator. */
  const checkOrgOf = (principal: Principal, body: unknown): unknown => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError('FS_VALIDATION', { causes: ['The body must be a log stream object.'] });
    }
    const input = body as Record<string, unknown>;
    if (input.org === undefined) return principal.org === '*' ? input : { ...input, org: principal.org };
    if (typeof input.org !== 'string' || !coversOrg(principal, input.org)) {
      throw new ApiError('FS_FORBIDDEN_ORG', { causes: ['A token can only manage log streams of its own org.'] });
    }
    return input;
  };

  app.get('/api/v1/logStreams', read, async (request, response) => {
    const principal = principalOf(request);
    const query = request.query as Record<string, unknown>;
    const limit = pageParam(query.limit, 'limit', DEFAULT_PAGE, MAX_PAGE);
    const after = typeof query.after === 'string' ? query.after : undefined;
    let filter: ((s: StreamDefinition) => boolean) | undefined;
    if (typeof query.filter === 'string') {
      filter = parseStreamFilter(query.filter);
      if (filter === undefined) {
        throw new ApiError('FS_VALIDATION', {
          causes: ['filter understands `type eq "…"`, `status eq "…"`, `org eq "…"`, `name eq "…"`, joined with `and`.'],
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
      if (typeof query.filter === 'string') next.set('filter', query.filter);
      response.header('link', `<${base(request)}?${next}>; rel="next"`);
    }
    return page.map((s) => present(s, request));
  });

  app.post('/api/v1/logStreams', write, async (request) => {
    const principal = principalOf(request);
    return present(await streams.create(checkOrgOf(principal, request.body)), request);
  });

  app.get<{ Params: Params }>('/api/v1/logStreams/:id', read, async (request) =>
    present(visible(principalOf(request), request.params.id), request),
  );

  app.put<{ Params: Params }>('/api/v1/logStreams/:id', write, async (request) => {
    const principal = principalOf(request);
    visible(principal, request.params.id);
    return present(await streams.update(request.params.id, checkOrgOf(principal, request.body)), request);
  });

  app.delete<{ Params: Params }>('/api/v1/logStreams/:id', write, async (request, response) => {
    visible(principalOf(request), request.params.id);
    await streams.delete(request.params.id);
    return response.code(204).send();
  });

  app.post<{ Params: Params }>('/api/v1/logStreams/:id/lifecycle/activate', write, async (request) => {
    visible(principalOf(request), request.params.id);
    return present(await streams.activate(request.params.id), request);
  });

  app.post<{ Params: Params }>('/api/v1/logStreams/:id/lifecycle/deactivate', write, async (request) => {
    visible(principalOf(request), request.params.id);
    return present(await streams.deactivate(request.params.id), request);
  });

  app.get<{ Params: Params }>('/api/v1/logStreams/:id/health', read, async (request) => {
    visible(principalOf(request), request.params.id);
    return streams.health(request.params.id);
  });

  app.post<{ Params: Params }>('/api/v1/logStreams/:id/test', write, async (request) => {
    visible(principalOf(request), request.params.id);
    const result = await streams.test(request.params.id);
    return { ok: result.outcome === 'delivered', ...result };
  });

  app.post<{ Params: Params }>('/api/v1/logStreams/:id/replay', write, async (request) => {
    visible(principalOf(request), request.params.id);
    const body = (request.body ?? {}) as { from?: unknown };
    const from = typeof body.from === 'string' ? Date.parse(body.from) : Number.NaN;
    if (typeof body.from !== 'string' || Number.isNaN(from)) {
      throw new ApiError('FS_VALIDATION', { causes: ['from must be an ISO 8601 timestamp, e.g. {"from": "2024-04-04T18:30:00Z"}.'] });
    }
    return { from: new Date(from).toISOString(), ...(await streams.replay(request.params.id, from)) };
  });

  app.get<{ Params: Params }>('/api/v1/logStreams/:id/deadLetters', read, async (request) => {
    visible(principalOf(request), request.params.id);
    const query = request.query as Record<string, unknown>;
    const limit = pageParam(query.limit, 'limit', 100, 1000);
    const after = query.after === undefined ? undefined : pageParam(query.after, 'after', 0, Number.MAX_SAFE_INTEGER);
    const page = streams.deadLetters(request.params.id, { limit, ...(after === undefined ? {} : { after }) });
    return { items: page.items.map(presentDeadLetter), nextAfter: page.nextAfter };
  });

  app.post<{ Params: Params }>('/api/v1/logStreams/:id/deadLetters/redeliver', write, async (request) => {
    visible(principalOf(request), request.params.id);
    const body = (request.body ?? {}) as { ids?: unknown };
    if (body.ids !== undefined && (!Array.isArray(body.ids) || !body.ids.every((i) => Number.isSafeInteger(i)))) {
      throw new ApiError('FS_VALIDATION', { causes: ['ids must be an array of dead letter ids (integers).'] });
    }
    return streams.redeliverDeadLetters(request.params.id, body.ids as number[] | undefined);
  });
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
