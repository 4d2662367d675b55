import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { InjectOptions } from 'fastify';
import { bearer, startReceiver, startTestService, type TestService, TOKENS } from './helpers/service.js';
import { sampleEvent } from './helpers/test-app.js';

/**
 * Every route × every kind of caller, with the exact status (and error code) each gets:
 * no token, a bad token, a token without the route's scope, a token of another org (org B on org
 * A's resources), the operator, and org A itself. Each 2xx body is also checked against the
 * route's schema in the OpenAPI document.
 */

type Caller = 'none' | 'bad' | 'wrongScope' | 'otherOrg' | 'operator' | 'ownOrg';
const CALLERS: readonly Caller[] = ['none', 'bad', 'wrongScope', 'otherOrg', 'operator', 'ownOrg'];

interface Ctx {
  streamId: string;
  tokenId: string;
}

interface Row {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as registered (`:id`). */
  readonly route: string;
  readonly scope: 'events:write' | 'streams:read' | 'streams:write' | null;
  /** Builds the request; may create fresh resources of org A first. */
  readonly request: (ctx: Ctx) => Promise<Omit<InjectOptions, 'method'> & { url: string }>;
  /** Expected status per caller (none/bad/wrongScope follow from `scope` unless given). */
  readonly expect: Partial<Record<Caller, number>> & { otherOrg: number; operator: number; ownOrg: number };
}

let t: TestService;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let n = 0;

async function freshStream(): Promise<string> {
  n++;
  const stream = await t.service.streams.create({
    id: `a-stream-${n}`,
    name: `A stream ${n}`,
    type: 'webhook',
    org: 'ORG_A',
    status: 'INACTIVE',
    settings: { url: receiver.url, headers: { Authorization: 'Bearer receiver-secret' } },
  });
  return stream.id;
}

function freshToken(): string {
  return t.service.tokens.create({ name: `a-${++n}`, org: 'ORG_A', scopes: ['streams:read'] }).record.id;
}

function streamBody(id?: string): Record<string, unknown> {
  return {
    ...(id === undefined ? {} : { id }),
    name: 'A webhook',
    type: 'webhook',
    org: 'ORG_A',
    status: 'INACTIVE',
    settings: { url: 'http://127.0.0.1:9/x' },
  };
}

const ROWS: readonly Row[] = [
  {
    method: 'POST',
    route: '/api/v1/events',
    scope: 'events:write',
    request: async () => ({
      url: '/api/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(sampleEvent(1_000_000 + ++n, 'ORG_A')),
    }),
    expect: { otherOrg: 403, operator: 202, ownOrg: 202 },
  },
  {
    method: 'GET',
    route: '/api/v1/events',
    scope: 'streams:read',
    request: async () => ({ url: '/api/v1/events?after=0&limit=5' }),
    expect: { otherOrg: 200, operator: 200, ownOrg: 200 },
  },
  {
    method: 'GET',
    route: '/api/v1/logStreams',
    scope: 'streams:read',
    request: async () => ({ url: '/api/v1/logStreams?limit=200' }),
    expect: { otherOrg: 200, operator: 200, ownOrg: 200 },
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams',
    scope: 'streams:write',
    request: async () => ({ url: '/api/v1/logStreams', payload: streamBody(`created-${++n}`) }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'GET',
    route: '/api/v1/logStreams/:id',
    scope: 'streams:read',
    request: async (c) => ({ url: `/api/v1/logStreams/${c.streamId}` }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'PUT',
    route: '/api/v1/logStreams/:id',
    scope: 'streams:write',
    request: async (c) => ({ url: `/api/v1/logStreams/${c.streamId}`, payload: streamBody() }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'DELETE',
    route: '/api/v1/logStreams/:id',
    scope: 'streams:write',
    request: async () => ({ url: `/api/v1/logStreams/${await freshStream()}` }),
    expect: { otherOrg: 403, operator: 204, ownOrg: 204 },
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/lifecycle/activate',
    scope: 'streams:write',
    request: async () => ({ url: `/api/v1/logStreams/${await freshStream()}/lifecycle/activate` }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/lifecycle/deactivate',
    scope: 'streams:write',
    request: async (c) => ({ url: `/api/v1/logStreams/${c.streamId}/lifecycle/deactivate` }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'GET',
    route: '/api/v1/logStreams/:id/health',
    scope: 'streams:read',
    request: async (c) => ({ url: `/api/v1/logStreams/${c.streamId}/health` }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/test',
    scope: 'streams:write',
    request: async () => ({ url: `/api/v1/logStreams/${await freshStream()}/test` }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/replay',
    scope: 'streams:write',
    request: async (c) => ({
      url: `/api/v1/logStreams/${c.streamId}/replay`,
      payload: { from: '2024-01-01T00:00:00Z' },
    }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'GET',
    route: '/api/v1/logStreams/:id/deadLetters',
    scope: 'streams:read',
    request: async (c) => ({ url: `/api/v1/logStreams/${c.streamId}/deadLetters?limit=10` }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/deadLetters/redeliver',
    scope: 'streams:write',
    request: async (c) => ({
      url: `/api/v1/logStreams/${c.streamId}/deadLetters/redeliver`,
      payload: { ids: [] },
    }),
    expect: { otherOrg: 403, operator: 200, ownOrg: 200 },
  },
  {
    method: 'POST',
    route: '/api/v1/tokens',
    scope: 'streams:write',
    request: async () => ({
      url: '/api/v1/tokens',
      payload: { name: 'x', org: 'ORG_A', scopes: ['streams:read'] },
    }),
    expect: { otherOrg: 403, operator: 201, ownOrg: 201 },
  },
  {
    method: 'GET',
    route: '/api/v1/tokens',
    scope: 'streams:read',
    request: async () => ({ url: '/api/v1/tokens' }),
    expect: { otherOrg: 200, operator: 200, ownOrg: 200 },
  },
  {
    method: 'DELETE',
    route: '/api/v1/tokens/:id',
    scope: 'streams:write',
    request: async () => ({ url: `/api/v1/tokens/${freshToken()}` }),
    expect: { otherOrg: 403, operator: 204, ownOrg: 204 },
  },
  {
    method: 'GET',
    route: '/api/v1/audit',
    scope: 'streams:read',
    request: async () => ({ url: '/api/v1/audit?limit=1000' }),
    expect: { otherOrg: 200, operator: 200, ownOrg: 200 },
  },
  ...(['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json'] as const).map(
    (route): Row => ({
      method: 'GET',
      route,
      scope: null,
      request: async () => ({ url: route }),
      expect: { none: 200, bad: 200, wrongScope: 200, otherOrg: 200, operator: 200, ownOrg: 200 },
    }),
  ),
];

/** The token each caller presents for a route needing `scope`. */
function headersOf(caller: Caller, scope: Row['scope']): Record<string, string> {
  switch (caller) {
    case 'none':
      return {};
    case 'bad':
      return bearer('fs_not-a-token-that-exists-anywhere');
    case 'wrongScope':
      return bearer(scope === 'streams:read' ? TOKENS.orgAIngest : TOKENS.orgAReader);
    case 'otherOrg':
      return bearer(TOKENS.orgB);
    case 'operator':
      return bearer(TOKENS.operator);
    case 'ownOrg':
      return { authorization: `SSWS ${TOKENS.orgA}` };
  }
}

function expected(row: Row, caller: Caller): { status: number; code?: string } {
  const given = row.expect[caller];
  if (given !== undefined) {
    const code = given === 404 ? 'FS_NOT_FOUND' : given === 403 ? 'FS_FORBIDDEN_ORG' : undefined;
    return code === undefined ? { status: given } : { status: given, code };
  }
  if (caller === 'none' || caller === 'bad') return { status: 401, code: 'FS_UNAUTHENTICATED' };
  return { status: 403, code: 'FS_FORBIDDEN_SCOPE' };
}

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;
let ajv: Ajv;
let document: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

function pointerSegment(s: string): string {
  return s.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Checks a response body against the route's documented response schema. */
function assertDocumented(row: Row, status: number, body: unknown): void {
  const path = row.route.replace(/:([A-Za-z]+)/g, '{$1}');
  const operation = document.paths[path]?.[row.method.toLowerCase()];
  assert.ok(operation, `${row.method} ${path} is in the OpenAPI document`);
  const response = operation.responses[String(status)] as { content?: Record<string, unknown> } | undefined;
  assert.ok(response, `${row.method} ${path} documents status ${status}`);
  if (status === 204 || row.route === '/metrics') return;
  const ref = `openapi#/paths/${pointerSegment(path)}/${row.method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  assert.ok(validate(body), `${row.method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
}

before(async () => {
  receiver = await startReceiver();
  t = await startTestService({ allowPrivateNetworks: true });
  const doc = await t.service.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  document = doc.json();
  ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  ajv.addSchema({ ...(document as object), $id: 'openapi' });
});
after(async () => {
  await t.close();
  await receiver.close();
});

describe('authorization matrix: every route × every caller', () => {
  for (const row of ROWS) {
    for (const caller of CALLERS) {
      const want = expected(row, caller);
      test(`${row.method} ${row.route} as ${caller} → ${want.status}${want.code ? ` ${want.code}` : ''}`, async () => {
        const ctx: Ctx = { streamId: await freshStream(), tokenId: freshToken() };
        const request = await row.request(ctx);
        const response = await t.service.app.inject({
          method: row.method,
          ...request,
          headers: {
            ...(request.headers as Record<string, string> | undefined),
            ...headersOf(caller, row.scope),
          },
        });
        assert.equal(response.statusCode, want.status, response.body);
        if (want.code !== undefined) {
          const body = response.json() as { errorCode: string; errorSummary: string; errorCauses: unknown[] };
          assert.equal(body.errorCode, want.code);
          assert.ok(body.errorSummary.length > 0);
          assert.ok(Array.isArray(body.errorCauses));
        }
        if (want.status === 401) assert.match(String(response.headers['www-authenticate']), /^Bearer/);
        const body =
          response.body === '' ? undefined : row.route === '/metrics' ? response.body : response.json();
        assertDocumented(row, want.status, body);
        if (caller === 'otherOrg' && want.status === 200) assertNothingOfOrgA(row.route, body);
      });
    }
  }
});

/** What org B's token lists holds nothing of org A. */
function assertNothingOfOrgA(route: string, body: unknown): void {
  const text = JSON.stringify(body);
  if (route === '/api/v1/logStreams' || route === '/api/v1/tokens') {
    assert.deepEqual(body, [], `${route} shows org B nothing of org A`);
  } else if (route === '/api/v1/events') {
    assert.deepEqual((body as { events: unknown[] }).events, []);
  } else if (route === '/api/v1/audit') {
    assert.ok(Array.isArray(body));
    assert.ok(!text.includes('ORG_A'), 'no audit record of org A');
  }
}

describe('the OpenAPI document', () => {
  test('has every registered route, and the matrix covers every documented operation', async () => {
    const tree = t.service.app.printRoutes({ commonPrefix: false });
    // printRoutes nests each path under its parent, 4 columns per level.
    const registered = new Set<string>();
    const parents: string[] = [];
    for (const line of tree.split('\n')) {
      const match = /^([\s│]*)[├└]── (\/\S*) \(([A-Z, ]+)\)/.exec(line);
      if (!match) continue;
      const depth = match[1]!.length / 4;
      parents.length = depth;
      const full = `${parents.join('')}${match[2]!}`;
      parents.push(match[2]!);
      for (const method of match[3]!.split(', ')) {
        if (method !== 'HEAD') registered.add(`${method} ${full}`);
      }
    }
    // The console's pages are HTML, not API: they are hidden from the document and need no token.
    for (const route of [...registered]) if (/^GET \/console(\/|$)/.test(route)) registered.delete(route);
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        documented.add(`${method.toUpperCase()} ${path.replace(/\{([A-Za-z]+)\}/g, ':$1')}`);
      }
    }
    assert.ok(registered.size >= 20, `found the routes in printRoutes (${registered.size})`);
    assert.deepEqual([...registered].sort(), [...documented].sort());
    const inMatrix = new Set(ROWS.map((r) => `${r.method} ${r.route}`));
    assert.deepEqual([...documented].sort(), [...inMatrix].sort());
  });

  test('each operation has a summary, responses, and its scope or no security', () => {
    for (const row of ROWS) {
      const path = row.route.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = document.paths[path]?.[row.method.toLowerCase()] as unknown as {
        summary?: string;
        security: unknown[];
        'x-required-scope'?: string;
        responses: Record<string, unknown>;
      };
      assert.ok(op.summary, `${row.method} ${path} has a summary`);
      assert.equal(op['x-required-scope'], row.scope ?? undefined, `${row.method} ${path} scope`);
      assert.equal(op.security.length, row.scope === null ? 0 : 2);
      if (row.scope !== null)
        for (const status of ['401', '403']) assert.ok(op.responses[status], `${path} ${status}`);
    }
  });
});
