import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { createNetworkPolicy, type NetworkPolicy } from '../../src/net/network-policy.js';
import { bearer, startTestService, type TestService, TOKENS } from './helpers/service.js';
import { sampleEvent } from './helpers/test-app.js';

/**
 * Every route's body and query, fuzzed with fast-check under a time limit per route: bad input
 * gets a 4xx with an Okta-shaped error body, never a 5xx, and the service keeps answering.
 * The fuzzing token is org A's (all scopes): it reaches every handler but cannot create streams
 * that write on this machine (file, stdout). Names resolve nowhere (no DNS, no connections).
 */

const TIME_LIMIT_MILLIS = 1500;
const NUM_RUNS = 120;

let t: TestService;
/** Routes for which some fuzzed input was valid: the fuzzing reached past validation. */
const reachedSuccess = new Set<string>();
let network: NetworkPolicy;

before(async () => {
  network = createNetworkPolicy({
    resolve: async (name) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    },
  });
  t = await startTestService({ network });
  const fixture = await t.service.app.inject({
    method: 'POST',
    url: '/api/v1/logStreams',
    headers: bearer(TOKENS.orgA),
    payload: {
      id: 'fz',
      name: 'fuzz',
      type: 'webhook',
      status: 'INACTIVE',
      settings: { url: 'https://fuzz.invalid/x' },
    },
  });
  assert.equal(fixture.statusCode, 200, fixture.body);
});
after(async () => {
  await t.close();
  await network.close?.();
});

const junk = fc.oneof(
  fc.string(),
  fc.integer().map(String),
  fc.constantFrom(
    '',
    '-1',
    '0',
    '1e3',
    '9'.repeat(40),
    'null',
    'true',
    '%00',
    'end',
    '2024-01-01T00:00:00Z',
    'ACTIVE',
  ),
);

/** A query string of known and unknown keys with odd values, sometimes repeated. */
function query(keys: readonly string[]): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), junk), { maxLength: 5 })
    .map((pairs) => {
      if (pairs.length === 0) return '';
      return `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
    });
}

const settingKeys = [
  'url',
  'token',
  'headers',
  'apiKey',
  'format',
  'signingSecret',
  'index',
  'path',
  'region',
  'gzip',
  'site',
];
const streamBody = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('fz')),
    name: fc.oneof(fc.string({ maxLength: 210 }), fc.integer()),
    type: fc.oneof(
      fc.constantFrom(
        'webhook',
        'splunk_hec',
        'datadog',
        'elasticsearch',
        'aws_eventbridge',
        'file',
        'stdout',
      ),
      fc.string(),
    ),
    org: fc.constantFrom('ORG_A', 'ORG_B', '*', ''),
    status: fc.constantFrom('ACTIVE', 'INACTIVE', 'PAUSED', 1),
    settings: fc.oneof(
      fc.dictionary(
        fc.constantFrom(...settingKeys),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.webUrl(), junk),
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    filter: fc.oneof(
      fc.record({ eventTypes: fc.array(junk, { maxLength: 3 }) }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    format: fc.constantFrom('okta', 'cloudevents', 'xml'),
    transforms: fc.jsonValue({ maxDepth: 3 }),
    delivery: fc.dictionary(
      fc.constantFrom('batchMaxEvents', 'concurrency', 'requestTimeoutMillis', 'x'),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    _links: fc.jsonValue({ maxDepth: 1 }),
    ['__proto__']: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

/** Stream objects that are mostly valid, so that fuzzing also reaches creation and update. */
const validishStream = fc.record({
  name: fc.string({ minLength: 1, maxLength: 40 }),
  type: fc.constant('webhook'),
  status: fc.constant('INACTIVE'),
  settings: fc.record(
    {
      url: fc.webUrl({ validSchemes: ['https'] }),
      format: fc.constantFrom('object', 'array', 'ndjson'),
      headers: fc.dictionary(fc.constantFrom('Authorization', 'X-Key'), fc.string({ maxLength: 20 })),
    },
    { requiredKeys: ['url'] },
  ),
  filter: fc.record(
    { eventTypes: fc.subarray(['FLOW_START', 'FLOW_FAIL', 'FLOW_COMPLETE'], { minLength: 1 }) },
    { requiredKeys: [] },
  ),
});

/** A body: JSON of any shape, a structured one, or bytes that are not JSON. */
function body(
  structured: fc.Arbitrary<unknown>,
): fc.Arbitrary<{ payload: string | Buffer; contentType: string }> {
  return fc.oneof(
    structured.map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' })),
    fc
      .jsonValue({ maxDepth: 4 })
      .map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' })),
    fc.string().map((s) => ({ payload: s, contentType: 'application/json' })),
    fc
      .uint8Array({ maxLength: 200 })
      .map((b) => ({ payload: Buffer.from(b), contentType: 'application/octet-stream' })),
    fc.constant({ payload: '{"__proto__": {"polluted": true}}', contentType: 'application/json' }),
    fc.constant({ payload: '', contentType: 'text/plain' }),
  );
}

interface FuzzRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as registered. */
  readonly route: string;
  readonly url: fc.Arbitrary<string>;
  readonly body?: fc.Arbitrary<{ payload: string | Buffer; contentType: string }>;
}

const id = fc.oneof(
  { weight: 2, arbitrary: fc.constant('fz') },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 300 }).map(encodeURIComponent) },
);
const streamPath = (suffix: string) => id.map((i) => `/api/v1/logStreams/${i}${suffix}`);
const withQuery = (path: fc.Arbitrary<string>, keys: readonly string[]) =>
  fc.tuple(path, query(keys)).map(([p, q]) => `${p}${q}`);

const event = fc
  .tuple(
    fc.integer({ min: 1, max: 1_000_000 }),
    fc.dictionary(fc.constantFrom('duration', 'org_id', 'event_type', 'timestamp', 'x'), junk),
  )
  .map(([n, fields]) => ({ ...sampleEvent(9_000_000 + n, 'ORG_A'), ...fields }));

const ROUTES: readonly FuzzRoute[] = [
  {
    method: 'POST',
    route: '/api/v1/events',
    url: fc.constant('/api/v1/events'),
    body: fc.oneof(
      body(fc.oneof(event, fc.array(event, { maxLength: 5 }))),
      fc.array(event, { maxLength: 5 }).map((events) => ({
        payload: `${events.map((e) => JSON.stringify(e)).join('\n')}\n{broken`,
        contentType: 'application/x-ndjson',
      })),
      event.map((e) => ({ payload: gzipSync(JSON.stringify(e)), contentType: 'application/json+gzip' })),
    ),
  },
  {
    method: 'GET',
    route: '/api/v1/events',
    url: withQuery(fc.constant('/api/v1/events'), ['after', 'limit', 'eventType', 'flowId']),
  },
  {
    method: 'GET',
    route: '/api/v1/logStreams',
    url: withQuery(fc.constant('/api/v1/logStreams'), ['limit', 'after', 'filter']),
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams',
    url: fc.constant('/api/v1/logStreams'),
    body: body(fc.oneof(streamBody, validishStream)),
  },
  { method: 'GET', route: '/api/v1/logStreams/:id', url: streamPath('') },
  {
    method: 'PUT',
    route: '/api/v1/logStreams/:id',
    url: streamPath(''),
    body: body(fc.oneof(streamBody, validishStream)),
  },
  {
    method: 'DELETE',
    route: '/api/v1/logStreams/:id',
    url: id.filter((i) => i !== 'fz').map((i) => `/api/v1/logStreams/${i}`),
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/lifecycle/deactivate',
    url: streamPath('/lifecycle/deactivate'),
  },
  { method: 'GET', route: '/api/v1/logStreams/:id/health', url: streamPath('/health') },
  { method: 'POST', route: '/api/v1/logStreams/:id/test', url: streamPath('/test') },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/replay',
    url: streamPath('/replay'),
    body: body(
      fc.oneof(
        fc.record({ from: junk, extra: junk }, { requiredKeys: [] }),
        fc.record({ from: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) }),
      ),
    ),
  },
  {
    method: 'GET',
    route: '/api/v1/logStreams/:id/deadLetters',
    url: withQuery(streamPath('/deadLetters'), ['limit', 'after']),
  },
  {
    method: 'POST',
    route: '/api/v1/logStreams/:id/deadLetters/redeliver',
    url: streamPath('/deadLetters/redeliver'),
    body: body(fc.record({ ids: fc.oneof(fc.array(fc.integer()), junk) }, { requiredKeys: [] })),
  },
  {
    method: 'POST',
    route: '/api/v1/tokens',
    url: fc.constant('/api/v1/tokens'),
    body: body(
      fc.oneof(
        fc.record({
          scopes: fc.subarray(['events:write', 'streams:read', 'streams:write'] as const, { minLength: 1 }),
        }),
        fc.record(
          {
            name: junk,
            org: fc.constantFrom('ORG_A', 'ORG_B', '*', ''),
            scopes: fc.array(fc.constantFrom('events:write', 'streams:read', 'streams:write', 'admin'), {
              maxLength: 4,
            }),
            expiresAt: junk,
          },
          { requiredKeys: [] },
        ),
      ),
    ),
  },
  { method: 'GET', route: '/api/v1/tokens', url: withQuery(fc.constant('/api/v1/tokens'), ['limit']) },
  { method: 'DELETE', route: '/api/v1/tokens/:id', url: id.map((i) => `/api/v1/tokens/${i}`) },
  {
    method: 'GET',
    route: '/api/v1/audit',
    url: withQuery(fc.constant('/api/v1/audit'), [
      'limit',
      'after',
      'action',
      'targetId',
      'actorId',
      'since',
      'until',
    ]),
  },
];

function assertNotAServerError(status: number, text: string, where: string): void {
  assert.ok(status < 500, `${where} answered ${status}: ${text}`);
  if (status >= 400) {
    const parsed = JSON.parse(text) as { errorCode?: unknown; errorSummary?: unknown };
    assert.equal(typeof parsed.errorCode, 'string', `${where}: ${text}`);
    assert.equal(typeof parsed.errorSummary, 'string', `${where}: ${text}`);
  }
}

describe('fuzzing every route: only 4xx for bad input', () => {
  for (const route of ROUTES) {
    test(`${route.method} ${route.route}`, async () => {
      const bodies = route.body ?? fc.constant(undefined);
      await fc.assert(
        fc.asyncProperty(route.url, bodies, async (url, b) => {
          const request: InjectOptions = {
            method: route.method,
            url,
            headers: {
              ...bearer(TOKENS.orgA),
              ...(b === undefined ? {} : { 'content-type': b.contentType.replace('+gzip', '') }),
              ...(b?.contentType.endsWith('+gzip') ? { 'content-encoding': 'gzip' } : {}),
            },
            ...(b === undefined ? {} : { payload: b.payload }),
          };
          const response = await t.service.app.inject(request);
          if (response.statusCode < 300) reachedSuccess.add(`${route.method} ${route.route}`);
          assertNotAServerError(response.statusCode, response.body, `${route.method} ${url}`);
        }),
        { numRuns: NUM_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MILLIS },
      );
    });
  }

  test('any Authorization header: 401 or through, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Bearer ${s}`),
          fc.string().map((s) => `SSWS ${s}`),
        ),
        async (authorization) => {
          let response: Awaited<ReturnType<typeof t.service.app.inject>>;
          try {
            response = await t.service.app.inject({
              method: 'GET',
              url: '/api/v1/logStreams',
              headers: { authorization },
            });
          } catch {
            return; // a header value Node refuses to send
          }
          assertNotAServerError(
            response.statusCode,
            response.body,
            `authorization ${JSON.stringify(authorization)}`,
          );
          assert.ok([200, 401].includes(response.statusCode));
        },
      ),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MILLIS },
    );
  });

  test('the fuzzing got past validation on the routes that create and change things', () => {
    for (const route of [
      'POST /api/v1/logStreams',
      'PUT /api/v1/logStreams/:id',
      'POST /api/v1/logStreams/:id/replay',
      'POST /api/v1/tokens',
      'POST /api/v1/events',
    ]) {
      assert.ok(reachedSuccess.has(route), `${route} never succeeded`);
    }
  });

  test('the service still answers, and the fixture stream is intact', async () => {
    const response = await t.service.app.inject({
      method: 'GET',
      url: '/api/v1/logStreams/fz',
      headers: bearer(TOKENS.orgA),
    });
    assert.equal(response.statusCode, 200);
    const ready = await t.service.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });
});
