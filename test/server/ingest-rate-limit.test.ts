import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveConfig } from '../../src/config/load-config.js';
import { DEFAULT_INGEST_RATE_LIMIT } from '../../src/security/rate-limit.js';
import { bearer, STATIC_TOKENS, startTestService, type TestService, TOKENS } from './helpers/service.js';
import { sampleEvent } from './helpers/test-app.js';

let t: TestService;
let n = 0;

before(async () => {
  t = await startTestService({
    config: {
      auth: {
        ingestRateLimit: { eventsPerSecond: 1, burst: 5 },
        tokens: STATIC_TOKENS.map((s) =>
          s.name === 'b-admin' ? { ...s, ingestRateLimit: { burst: 1000 } } : s,
        ),
      },
    },
  });
});
after(async () => {
  await t.close();
});

function ingest(token: string, org: string, count: number) {
  const events = Array.from({ length: count }, () => sampleEvent(5_000_000 + ++n, org));
  return t.service.app.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: { ...bearer(token), 'content-type': 'application/x-ndjson' },
    payload: events.map((e) => JSON.stringify(e)).join('\n'),
  });
}

describe('per-token ingest rate limits', () => {
  test('counts events: over the burst gets 429 with Retry-After, stores nothing; other tokens are not affected', async () => {
    const first = await ingest(TOKENS.orgA, 'ORG_A', 4);
    assert.equal(first.statusCode, 202);
    assert.equal(first.headers['x-rate-limit-limit'], '5');
    assert.equal(first.headers['x-rate-limit-remaining'], '1');
    const seqBefore = t.service.log.lastSeq();
    const refused = await ingest(TOKENS.orgA, 'ORG_A', 3);
    assert.equal(refused.statusCode, 429);
    const body = refused.json() as { errorCode: string; errorCauses: { errorSummary: string }[] };
    assert.equal(body.errorCode, 'FS_RATE_LIMITED');
    assert.equal(refused.headers['retry-after'], '2');
    assert.ok(Number(refused.headers['x-rate-limit-reset']) > Date.now() / 1000);
    assert.equal(t.service.log.lastSeq(), seqBefore, 'nothing of a refused request is stored');
    assert.equal((await ingest(TOKENS.orgA, 'ORG_A', 1)).statusCode, 202, 'the one left is still there');
    assert.equal((await ingest(TOKENS.orgA, 'ORG_A', 1)).statusCode, 429);
    // Another token has its own bucket; a static token may have its own limit.
    assert.equal((await ingest(TOKENS.orgAIngest, 'ORG_A', 5)).statusCode, 202);
    const b = await ingest(TOKENS.orgB, 'ORG_B', 200);
    assert.equal(b.statusCode, 202);
    assert.equal(b.headers['x-rate-limit-limit'], '1000');
  });

  test('the limit is charged after authentication only: a bad token is 401, not 429', async () => {
    const response = await ingest('not-a-valid-token-at-all', 'ORG_A', 1);
    assert.equal(response.statusCode, 401);
  });
});

describe('configuration', () => {
  test('auth.ingestRateLimit defaults, a static token override takes the missing fields from it; unknown keys are errors', () => {
    assert.deepEqual(resolveConfig({}, {}).auth.ingestRateLimit, DEFAULT_INGEST_RATE_LIMIT);
    const config = resolveConfig(
      {
        auth: {
          ingestRateLimit: { eventsPerSecond: 10 },
          tokens: [
            {
              name: 'x',
              token: 'x-token-0123456789',
              org: 'A',
              scopes: ['events:write'],
              ingestRateLimit: { burst: 7 },
            },
          ],
        },
      },
      {},
    );
    assert.deepEqual(config.auth.ingestRateLimit, {
      eventsPerSecond: 10,
      burst: DEFAULT_INGEST_RATE_LIMIT.burst,
    });
    assert.deepEqual(config.auth.tokens[0]?.ingestRateLimit, { eventsPerSecond: 10, burst: 7 });
    assert.throws(() => resolveConfig({ auth: { ingestRateLimit: { rate: 1 } } }, {}), /unknown key "rate"/);
    assert.throws(() => resolveConfig({ auth: { ingestRateLimit: { burst: 0 } } }, {}), /burst/);
  });
});
