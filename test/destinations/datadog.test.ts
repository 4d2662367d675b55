import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import type { DatadogSettings } from '../../src/destinations/datadog.js';
import {
  DATADOG_SITES,
  DatadogDestination,
  datadogDestination,
  datadogIntakeUrl,
  logMessage,
  logStatus,
} from '../../src/destinations/datadog.js';
import type { DestinationContext, OutboundEvent, SendResult } from '../../src/destinations/destination.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import type { FakeDatadog } from '../helpers/fake-datadog.js';
import { datadogAnswer, startFakeDatadog } from '../helpers/fake-datadog.js';
import { reset, stall } from '../helpers/misbehaving-server.js';
import { fromJson, outboundEvent, outboundEvents, SEED_EXAMPLES } from '../helpers/outbound-events.js';

const network = openNetworkPolicy();
const logger = pino({ level: 'silent' });
const never = new AbortController().signal;

function context(overrides: Partial<DestinationContext> = {}): DestinationContext {
  return {
    streamId: 'dd',
    streamName: 'Datadog',
    format: 'okta',
    network,
    logger,
    timeoutMillis: 2000,
    ...overrides,
  };
}

const seedBatch = (): OutboundEvent[] => SEED_EXAMPLES.map((json, i) => fromJson(json, i + 1));
/** One hour after the seed's events: their timestamps are within Datadog's window. */
const SEED_NOW = Date.parse('2024-04-04T19:30:00.000Z');

function errorCode(result: SendResult): string | undefined {
  return 'error' in result ? result.error.code : undefined;
}

after(async () => {
  await network.dispatcher.close();
});

describe('datadog: what Datadog receives', () => {
  let dd: FakeDatadog;
  before(async () => {
    dd = await startFakeDatadog();
  });
  after(async () => {
    await dd.close();
  });

  const settings = (extra: Partial<DatadogSettings> = {}): DatadogSettings => ({
    url: dd.url,
    apiKey: dd.apiKey,
    ...extra,
  });

  test('a JSON array of entries: reserved attributes, a summary, the event nested verbatim', async () => {
    const destination = new DatadogDestination(
      settings({ ddtags: ['env:prod', 'team:iam'], hostname: 'flowstream-1' }),
      context(),
      () => SEED_NOW,
    );
    const batch = seedBatch();
    const result = await destination.send(batch, never);
    const eventJsonBytes = batch.reduce((sum, e) => sum + Buffer.byteLength(e.json), 0);
    assert.deepEqual(result, { outcome: 'delivered', bytes: eventJsonBytes });

    const request = dd.requests.at(-1);
    assert.ok(request);
    assert.equal(request.url, '/api/v2/logs');
    assert.equal(request.headers['dd-api-key'], dd.apiKey);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['content-encoding'], 'gzip');
    const head =
      '{"ddsource":"okta-workflows","ddtags":"env:prod,team:iam","hostname":"flowstream-1","service":"flowstream"';
    const expected = [
      `${head},"status":"info","timestamp":1712255438730,"message":"FLOW_START \\"PDV Log Streaming\\" execution 326b7317-6ea5-4d6a-a9f5-0ee8675c0428","event":${SEED_EXAMPLES[0]}}`,
      `${head},"status":"info","timestamp":1712255438777,"message":"FLOW_COMPLETE \\"PDV Log Streaming\\" execution 326b7317-6ea5-4d6a-a9f5-0ee8675c0428","event":${SEED_EXAMPLES[1]}}`,
      `${head},"status":"info","timestamp":1712257095861,"message":"FLOW_START \\"2. Simple Helper flow\\" execution 538911d5-6234-4edc-9f24-38bb633a4574","event":${SEED_EXAMPLES[2]}}`,
      `${head},"status":"info","timestamp":1712257095901,"message":"FLOW_COMPLETE \\"2. Simple Helper flow\\" execution 538911d5-6234-4edc-9f24-38bb633a4574","event":${SEED_EXAMPLES[3]}}`,
    ];
    assert.equal(request.bodyText, `[${expected.join(',')}]`);
    assert.deepEqual(dd.logs.at(-1)?.log.event, JSON.parse(SEED_EXAMPLES[3] as string));
  });

  test('defaults: ddsource okta-workflows, service flowstream, no tags or hostname', async () => {
    const destination = new DatadogDestination(settings({ gzip: false }), context(), () => SEED_NOW);
    const event = fromJson(SEED_EXAMPLES[0] as string, 1);
    assert.equal((await destination.send([event], never)).outcome, 'delivered');
    const request = dd.requests.at(-1);
    assert.equal(request?.headers['content-encoding'], undefined);
    assert.equal(request?.rawBody.toString('utf8'), request?.bodyText);
    assert.deepEqual(Object.keys(dd.logs.at(-1)?.log ?? {}), [
      'ddsource',
      'service',
      'status',
      'timestamp',
      'message',
      'event',
    ]);
  });

  test('timestamp is left out when Datadog would drop the date (older than 18 h, or 2 h ahead)', async () => {
    const event = fromJson(SEED_EXAMPLES[0] as string, 1);
    const eventMillis = Date.parse('2024-04-04T18:30:38.730Z');
    const cases: [number, boolean][] = [
      [eventMillis + 17 * 3_600_000, true],
      [eventMillis + 19 * 3_600_000, false],
      [eventMillis - 1 * 3_600_000, true],
      [eventMillis - 3 * 3_600_000, false],
    ];
    for (const [now, kept] of cases) {
      const destination = new DatadogDestination(settings(), context(), () => now);
      assert.equal((await destination.send([event], never)).outcome, 'delivered');
      const log = dd.logs.at(-1)?.log;
      assert.equal(log?.timestamp, kept ? eventMillis : undefined, `now ${new Date(now).toISOString()}`);
      assert.equal(
        (log?.event as Record<string, unknown> | undefined)?.timestamp,
        '2024-04-04T18:30:38.730Z',
      );
    }
  });

  test('status and message follow the event type', () => {
    const fatal = outboundEvent({ seq: 3, eventType: 'FLOW_FAIL', fields: { fatal: true } });
    const retried = outboundEvent({ seq: 3, eventType: 'FLOW_FAIL', fields: { fatal: 'false' } });
    assert.equal(logStatus(fatal), 'error');
    assert.equal(
      logStatus(outboundEvent({ seq: 3, eventType: 'FLOW_FAIL', fields: { fatal: 'TRUE' } })),
      'error',
    );
    assert.equal(logStatus(retried), 'warning');
    assert.equal(logStatus(outboundEvent({ seq: 6, eventType: 'FLOW_RATE_LIMIT' })), 'warning');
    assert.equal(logStatus(outboundEvent({ seq: 7, eventType: 'FLOW_THROTTLE' })), 'warning');
    assert.equal(logStatus(outboundEvent({ seq: 2, eventType: 'FLOW_COMPLETE' })), 'info');
    assert.equal(
      logMessage(fatal),
      `FLOW_FAIL "Log Stream Example" execution ${fatal.executionId}: Example error message: "quota" exceeded`,
    );
    const long = outboundEvent({ seq: 1, fields: { flow_name: '🙂'.repeat(300) } });
    const message = logMessage(long);
    assert.equal(message.length <= 256, true);
    assert.ok(message.endsWith('…'));
    assert.doesNotMatch(message, /[\uD800-\uDBFF]…$/);
  });

  test('the cloudevents format nests a CloudEvent', async () => {
    const destination = new DatadogDestination(
      settings(),
      context({ format: 'cloudevents' }),
      () => SEED_NOW,
    );
    const event = outboundEvent({ seq: 4 });
    assert.equal((await destination.send([event], never)).outcome, 'delivered');
    const nested = dd.logs.at(-1)?.log.event as Record<string, unknown>;
    assert.equal(nested.specversion, '1.0');
    assert.deepEqual(nested.data, event.event);
  });
});

describe('datadog: limits', () => {
  test('declared limits: 1000 entries, under 5 MB and 1 MB of event JSON', () => {
    const destination = new DatadogDestination({ apiKey: 'k' }, context());
    assert.equal(destination.maxBatchEvents, 1000);
    assert.ok(destination.maxBatchBytes < 5_000_000 && destination.maxBatchBytes > 4_000_000);
    assert.ok(destination.maxEventBytes < 1_000_000 && destination.maxEventBytes > 990_000);
    const small = new DatadogDestination(
      { apiKey: 'k', maxBatchEvents: 10, maxBatchBytes: 100_000 },
      context(),
    );
    assert.equal(small.maxBatchEvents, 10);
    assert.ok(small.maxBatchBytes < 100_000 - 10 * 300);
  });

  test('a full batch at the declared limits is accepted by the intake', async () => {
    const dd = await startFakeDatadog();
    try {
      const destination = new DatadogDestination(
        { url: dd.url, apiKey: dd.apiKey },
        context(),
        () => SEED_NOW,
      );
      const per = Math.floor(destination.maxBatchBytes / 1000);
      const batch = Array.from({ length: 1000 }, (_, i) => {
        const base = outboundEvent({ seq: i + 1, fields: { pad: '' } });
        return outboundEvent({ seq: i + 1, fields: { pad: 'x'.repeat(per - base.json.length) } });
      });
      assert.ok(batch.reduce((sum, e) => sum + e.json.length, 0) <= destination.maxBatchBytes);
      assert.equal((await destination.send(batch, never)).outcome, 'delivered');
      assert.equal(dd.logs.length, 1000);
      assert.ok((dd.requests.at(-1)?.body.byteLength ?? 0) <= 5_000_000);
    } finally {
      await dd.close();
    }
  });

  test('an entry over 1 MB, or a body over the limit, is refused before sending', async () => {
    const dd = await startFakeDatadog();
    try {
      const destination = new DatadogDestination({ url: dd.url, apiKey: dd.apiKey }, context());
      const huge = outboundEvent({ seq: 1, fields: { pad: 'x'.repeat(1_000_000) } });
      const one = await destination.send([outboundEvent({ seq: 2 }), huge], never);
      assert.deepEqual([one.outcome, errorCode(one)], ['rejected', 'PAYLOAD_TOO_LARGE']);
      const wide = Array.from({ length: 8 }, (_, i) =>
        outboundEvent({ seq: i + 1, fields: { pad: '€'.repeat(300_000) } }),
      );
      const body = await destination.send(wide, never);
      assert.deepEqual([body.outcome, errorCode(body)], ['rejected', 'PAYLOAD_TOO_LARGE']);
      assert.equal(dd.requests.length, 0);
    } finally {
      await dd.close();
    }
  });

  test("the intake's own limits answer 413, which is rejected (the runner bisects)", async () => {
    const dd = await startFakeDatadog({ maxEntries: 5, maxPayloadBytes: 20_000 });
    try {
      const destination = new DatadogDestination({ url: dd.url, apiKey: dd.apiKey }, context());
      const tooMany = await destination.send(outboundEvents(6), never);
      assert.deepEqual([tooMany.outcome, errorCode(tooMany)], ['rejected', 'HTTP_413']);
      assert.match(
        'error' in tooMany ? tooMany.error.message : '',
        /Payload Too Large: 6 entries is above 5/,
      );
      const tooBig = await destination.send(
        outboundEvents(3).map((_e, i) => outboundEvent({ seq: i + 1, fields: { pad: 'y'.repeat(8000) } })),
        never,
      );
      assert.deepEqual([tooBig.outcome, errorCode(tooBig)], ['rejected', 'HTTP_413']);
      assert.equal(dd.logs.length, 0);
    } finally {
      await dd.close();
    }
  });
});

describe('datadog: answers and failures', () => {
  let dd: FakeDatadog;
  let destination: DatadogDestination;
  before(async () => {
    dd = await startFakeDatadog();
    destination = new DatadogDestination({ url: dd.url, apiKey: dd.apiKey }, context({ timeoutMillis: 500 }));
  });
  after(async () => {
    await destination.close();
    await dd.close();
  });

  test('each documented status maps to its outcome', async () => {
    const cases: [number, SendResult['outcome']][] = [
      [202, 'delivered'],
      [400, 'rejected'],
      [401, 'fatal'],
      [403, 'fatal'],
      [408, 'retryable'],
      [413, 'rejected'],
      [429, 'retryable'],
      [500, 'retryable'],
      [503, 'retryable'],
    ];
    for (const [status, outcome] of cases) {
      dd.script(datadogAnswer(status));
      const result = await destination.send(outboundEvents(2), never);
      assert.equal(result.outcome, outcome, `HTTP ${status}`);
      if (status !== 202) assert.equal(errorCode(result), `HTTP_${status}`);
    }
  });

  test('a wrong API key is fatal, with Datadog’s explanation', async () => {
    const wrong = new DatadogDestination({ url: dd.url, apiKey: 'nope' }, context());
    const result = await wrong.send(outboundEvents(1), never);
    assert.deepEqual([result.outcome, errorCode(result)], ['fatal', 'HTTP_403']);
    assert.match('error' in result ? result.error.message : '', /invalid API key/);
  });

  test('429 honours Retry-After', async () => {
    dd.script(datadogAnswer(429, { 'retry-after': '3' }));
    const result = await destination.send(outboundEvents(1), never);
    assert.deepEqual(result.outcome === 'retryable' && [result.error.code, result.retryAfterMillis], [
      'HTTP_429',
      3000,
    ]);
  });

  test('a reset and a stall are retryable', async () => {
    dd.script(reset('on-headers'), stall());
    assert.equal((await destination.send(outboundEvents(1), never)).outcome, 'retryable');
    const stalled = await destination.send(outboundEvents(1), never);
    assert.deepEqual([stalled.outcome, errorCode(stalled)], ['retryable', 'TIMEOUT']);
  });

  test('close() ends a send in flight', async () => {
    dd.script(stall());
    const slow = new DatadogDestination(
      { url: dd.url, apiKey: dd.apiKey },
      context({ timeoutMillis: 30_000 }),
    );
    const sending = slow.send(outboundEvents(1), never);
    await dd.server.waitForRequests(dd.requests.length + 1);
    await slow.close();
    await slow.close();
    const result = await sending;
    assert.deepEqual([result.outcome, errorCode(result)], ['retryable', 'TIMEOUT']);
  });
});

describe('datadog: definition', () => {
  test('site URLs and the url override', () => {
    assert.equal(datadogIntakeUrl({}), 'https://http-intake.logs.datadoghq.com/api/v2/logs');
    for (const site of DATADOG_SITES) {
      assert.equal(datadogIntakeUrl({ site }), `https://http-intake.logs.${site}/api/v2/logs`);
    }
    assert.equal(datadogIntakeUrl({ url: 'http://127.0.0.1:9999' }), 'http://127.0.0.1:9999/api/v2/logs');
    assert.equal(
      datadogIntakeUrl({ url: 'https://proxy.example.com/dd/' }),
      'https://proxy.example.com/dd/api/v2/logs',
    );
    assert.equal(
      datadogIntakeUrl({ site: 'datadoghq.eu', url: 'https://proxy.example.com/api/v2/logs' }),
      'https://proxy.example.com/api/v2/logs',
    );
    assert.deepEqual(datadogDestination.targets({ apiKey: 'k', site: 'us5.datadoghq.com' }), [
      'http-intake.logs.us5.datadoghq.com',
    ]);
    assert.deepEqual(datadogDestination.secretSettings, ['/apiKey']);
    assert.equal(datadogDestination.type, 'datadog');
  });

  test('settings refuse unknown keys, unknown sites and limits above the intake’s', () => {
    const schema = datadogDestination.settingsSchema;
    assert.ok(Value.Check(schema, { apiKey: 'k' }));
    assert.ok(
      Value.Check(schema, {
        apiKey: 'k',
        site: 'ap1.datadoghq.com',
        service: 's',
        ddsource: 'src',
        ddtags: ['a:b', 'c'],
        hostname: 'h',
        gzip: false,
        maxBatchEvents: 1000,
        maxBatchBytes: 5_000_000,
      }),
    );
    assert.ok(Value.Check(schema, { apiKey: 'k', ddtags: 'a:b,c', url: 'https://proxy.example.com' }));
    assert.ok(!Value.Check(schema, { apiKey: 'k', site: 'datadoghq.org' }));
    assert.ok(!Value.Check(schema, { apiKey: 'k', api_key: 'x' }));
    assert.ok(!Value.Check(schema, {}));
    assert.ok(!Value.Check(schema, { apiKey: 'k', maxBatchEvents: 1001 }));
    assert.ok(!Value.Check(schema, { apiKey: 'k', maxBatchBytes: 5_000_001 }));
    assert.ok(!Value.Check(schema, { apiKey: 'k', ddtags: ['a,b'] }));
  });
});
