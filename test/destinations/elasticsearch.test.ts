import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { pino } from 'pino';
import type {
  Destination,
  DestinationContext,
  OutboundEvent,
  SendResult,
  StreamFormat,
} from '../../src/destinations/destination.js';
import {
  authorizationHeader,
  BULK_FILTER_PATH,
  bulkBody,
  classifyBulkItem,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_EVENTS,
  documentId,
  type ElasticsearchSettings,
  ElasticsearchSettingsError,
  elasticsearchDestination,
  indexName,
  withTimestampField,
} from '../../src/destinations/elasticsearch.js';
import { cloudEventJson } from '../../src/formats/cloudevents.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import {
  esErrorBody,
  type FakeElasticsearch,
  filterResponse,
  MAPPER_PARSING,
  REJECTED_EXECUTION,
  startFakeElasticsearch,
} from '../helpers/fake-elasticsearch.js';
import {
  type MisbehavingServer,
  respond,
  respondJson,
  startMisbehavingServer,
} from '../helpers/misbehaving-server.js';
import { fromJson, outboundEvent, outboundEvents, SEED_EXAMPLES } from '../helpers/outbound-events.js';

const network = openNetworkPolicy();
const logger = pino({ level: 'silent' });
const live = new AbortController().signal;

function context(format: StreamFormat = 'okta'): DestinationContext {
  return { streamId: 'es', streamName: 'Elasticsearch', format, network, logger, timeoutMillis: 5000 };
}

function destination(settings: ElasticsearchSettings, format: StreamFormat = 'okta'): Destination {
  return elasticsearchDestination.create(settings, context(format));
}

function partial(result: SendResult): Extract<SendResult, { outcome: 'partial' }> {
  assert.equal(result.outcome, 'partial', JSON.stringify(result));
  return result as Extract<SendResult, { outcome: 'partial' }>;
}

const bytesOf = (events: readonly OutboundEvent[]) =>
  events.reduce((sum, event) => sum + Buffer.byteLength(event.json, 'utf8'), 0);

describe('elasticsearch bulk bodies', () => {
  test('one create action per event with _index from the event date and _id = idempotency_key', () => {
    const seed = SEED_EXAMPLES.slice(0, 2).map((text, i) => fromJson(text, i + 1));
    const body = bulkBody(seed, { index: 'flowstream-%Y.%m.%d', format: 'okta' });
    assert.equal(
      body,
      `{"create":{"_index":"flowstream-2024.04.04","_id":"67c775008e83c5205f1114a86bba2521"}}\n${SEED_EXAMPLES[0]}\n` +
        `{"create":{"_index":"flowstream-2024.04.04","_id":"3c38b738b561288ddc8d345a3b59e6f7"}}\n${SEED_EXAMPLES[1]}\n`,
    );
  });

  test('a pretty-printed event becomes one line, otherwise unchanged', () => {
    const event = outboundEvent({ seq: 3, indent: 2 });
    assert.ok(event.json.includes('\n'));
    const body = bulkBody([event], { index: 'x', format: 'okta' });
    const lines = body.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[1] ?? ''), event.event);
  });

  test('cloudevents format: the document is the CloudEvents envelope', () => {
    const event = outboundEvent({ seq: 2 });
    const body = bulkBody([event], { index: 'ce', format: 'cloudevents' });
    assert.equal(
      body,
      `{"create":{"_index":"ce","_id":"${event.idempotencyKey}"}}\n${cloudEventJson(event)}\n`,
    );
  });

  test('timestampField is added as the first member unless the event has it', () => {
    const event = outboundEvent({ seq: 1 });
    const body = bulkBody([event], { index: 'x', format: 'okta', timestampField: '@timestamp' });
    const doc = body.split('\n')[1] ?? '';
    assert.equal(doc, `{"@timestamp":"${event.timestamp}",${event.json.slice(1)}`);
    assert.equal(withTimestampField('{}', 'ts', 'T', {}), '{"ts":"T"}');
    assert.equal(withTimestampField('{ }', 'ts', 'T', {}), '{"ts":"T" }');
    assert.equal(withTimestampField('{"ts":1}', 'ts', 'T', { ts: 1 }), '{"ts":1}');
  });

  test('index patterns expand %Y %m %d %H in UTC from the event timestamp', () => {
    const now = Date.parse('2030-01-02T03:04:05Z');
    assert.equal(indexName('logs-%Y.%m.%d', '2024-04-04T23:30:38.730-02:00', now), 'logs-2024.04.05');
    assert.equal(indexName('logs-%Y-%m-%d-%H', '2024-12-31T09:00:00Z', now), 'logs-2024-12-31-09');
    assert.equal(indexName('fixed', 'not a date', now), 'fixed');
    // A timestamp lenient ingest let through but that is no date: the time of sending.
    assert.equal(indexName('logs-%Y.%m.%d', 'yesterday', now), 'logs-2030.01.02');
  });

  test('documentId: the key, a seq-based id without one, a hash past 512 bytes', () => {
    assert.equal(documentId({ idempotencyKey: 'abc', seq: 9 }), 'abc');
    assert.equal(documentId({ idempotencyKey: '', seq: 9 }), 'flowstream-seq-9');
    const long = documentId({ idempotencyKey: 'k'.repeat(600), seq: 1 });
    assert.match(long, /^[0-9a-f]{64}$/);
  });

  test('authorization: basic, encoded API key, id:key API key', () => {
    assert.equal(
      authorizationHeader({ username: 'elastic', password: 'pw:x' }),
      `Basic ${Buffer.from('elastic:pw:x').toString('base64')}`,
    );
    assert.equal(
      authorizationHeader({ apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' }),
      'ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
    );
    assert.equal(
      authorizationHeader({ apiKey: 'id1:key1' }),
      `ApiKey ${Buffer.from('id1:key1').toString('base64')}`,
    );
    assert.equal(authorizationHeader({}), undefined);
  });

  test('property: every body parses back into action/document pairs, one per event', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ seq: fc.integer({ min: 1, max: 10_000 }), pretty: fc.boolean() }), {
          maxLength: 20,
        }),
        (specs) => {
          const batch = specs.map((spec) =>
            outboundEvent(spec.pretty ? { seq: spec.seq, indent: 2 } : { seq: spec.seq }),
          );
          const body = bulkBody(batch, { index: 'p-%Y', format: 'okta', timestampField: '@timestamp' });
          const lines = body.split('\n');
          assert.equal(lines.pop(), '');
          assert.equal(lines.length, batch.length * 2);
          batch.forEach((event, i) => {
            assert.deepEqual(JSON.parse(lines[2 * i] ?? ''), {
              create: { _index: 'p-2024', _id: event.idempotencyKey },
            });
            assert.deepEqual(JSON.parse(lines[2 * i + 1] ?? ''), {
              '@timestamp': event.timestamp,
              ...event.event,
            });
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('elasticsearch bulk item classification', () => {
  const item = (status: number, type?: string, reason = 'r') => ({
    create: type === undefined ? { status } : { status, error: { type, reason } },
  });
  const table: readonly [unknown, string][] = [
    [item(201), 'delivered'],
    [item(200), 'delivered'],
    [item(409, 'version_conflict_engine_exception'), 'delivered'],
    [item(429, 'es_rejected_execution_exception'), 'retryable'],
    [item(429, 'cluster_block_exception'), 'retryable'],
    [item(503, 'unavailable_shards_exception'), 'retryable'],
    [item(500, 'null_pointer_exception'), 'retryable'],
    [item(408, 'timeout'), 'retryable'],
    [item(400, 'mapper_parsing_exception'), 'rejected'],
    [item(400, 'document_parsing_exception'), 'rejected'],
    [item(400, 'illegal_argument_exception', 'field [x] too large'), 'rejected'],
    [item(400, 'illegal_argument_exception', 'pipeline with id [geo] does not exist'), 'stream'],
    [item(400, 'invalid_index_name_exception'), 'stream'],
    [item(404, 'index_not_found_exception'), 'stream'],
    [item(403, 'cluster_block_exception'), 'stream'],
    [item(403, 'security_exception'), 'stream'],
    [{ create: {} }, 'retryable'],
    ['nonsense', 'retryable'],
  ];
  for (const [input, expected] of table) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(classifyBulkItem(input).kind, expected);
    });
  }

  test('the error keeps the type, status and reason', () => {
    const result = classifyBulkItem(
      item(400, 'mapper_parsing_exception', 'failed to parse field [duration]'),
    );
    assert.ok(result.kind === 'rejected');
    assert.equal(result.error.code, 'ES_MAPPER_PARSING_EXCEPTION');
    assert.equal(result.error.status, 400);
    assert.match(result.error.message, /failed to parse field \[duration\]/);
  });
});

describe('elasticsearch against a fake cluster', () => {
  let es: FakeElasticsearch;
  before(async () => {
    es = await startFakeElasticsearch({
      users: { elastic: 'changeme' },
      apiKeys: { VuaCfGcBCdbkQm: 'ui2lp2axTNmsyakw9tvNnw' },
      mappings: { duration: 'long' },
      dataStreams: ['logs-flowstream-default'],
    });
  });
  after(async () => {
    await es.close();
  });

  const basic = (): ElasticsearchSettings => ({ url: es.url, username: 'elastic', password: 'changeme' });

  test('stores every event once, in the dated index, and reports the JSON bytes', async () => {
    const before = es.requests.length;
    const batch = outboundEvents(5, 100);
    const result = await destination(basic()).send(batch, live);
    assert.deepEqual(result, { outcome: 'delivered', bytes: bytesOf(batch) });
    const request = es.requests[before];
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `/_bulk?filter_path=${encodeURIComponent(BULK_FILTER_PATH)}`);
    assert.equal(request.headers['content-type'], 'application/x-ndjson');
    assert.equal(request.bodyText, bulkBody(batch, { index: 'flowstream-%Y.%m.%d', format: 'okta' }));
    for (const event of batch) {
      const doc = es.indices.get('flowstream-2024.04.04')?.get(event.idempotencyKey);
      assert.ok(doc, event.idempotencyKey);
      assert.equal(doc.sourceText, event.json);
    }
  });

  test('re-delivery does not duplicate: 409 on create counts as delivered', async () => {
    const batch = outboundEvents(4, 200);
    const d = destination(basic());
    assert.equal((await d.send(batch.slice(0, 2), live)).outcome, 'delivered');
    const count = es.documentCount();
    // The runner re-sends from its cursor after a crash: two old events and two new ones.
    const result = await d.send(batch, live);
    assert.deepEqual(result, { outcome: 'delivered', bytes: bytesOf(batch) });
    assert.equal(es.documentCount(), count + 2);
    const response = JSON.parse(es.requests.at(-1)?.responseText ?? '{}') as {
      errors: boolean;
      items: { create: { status: number } }[];
    };
    assert.equal(response.errors, true);
    assert.deepEqual(
      response.items.map((i) => i.create.status),
      [409, 409, 201, 201],
    );
    for (const event of batch)
      assert.equal(es.indices.get('flowstream-2024.04.04')?.get(event.idempotencyKey)?.version, 1);
  });

  test('mixed item failures give a partial result; only the 429 is retried, then stored', async () => {
    const batch = outboundEvents(4, 300).map((event, i) =>
      i === 1 ? outboundEvent({ seq: 301, eventType: 'FLOW_COMPLETE', fields: { duration: 'slow' } }) : event,
    );
    const [first, poison, throttled, last] = batch;
    assert.ok(first && poison && throttled && last);
    es.failItem(throttled.idempotencyKey, REJECTED_EXECUTION);
    const d = destination(basic());
    const result = partial(await d.send(batch, live));
    assert.deepEqual(
      result.items.map((item) => item.outcome),
      ['delivered', 'rejected', 'retryable', 'delivered'],
    );
    assert.equal(result.bytes, bytesOf([first, last]));
    const rejected = result.items[1];
    assert.ok(rejected?.outcome === 'rejected');
    assert.equal(rejected.error.code, 'ES_DOCUMENT_PARSING_EXCEPTION');
    assert.equal(rejected.error.status, 400);
    assert.match(rejected.error.message, /failed to parse field \[duration\]/);
    const retry = result.items[2];
    assert.ok(retry?.outcome === 'retryable');
    assert.equal(retry.error.code, 'ES_ES_REJECTED_EXECUTION_EXCEPTION');
    // The runner re-sends only the retryable event.
    assert.deepEqual(await d.send([throttled], live), { outcome: 'delivered', bytes: bytesOf([throttled]) });
    assert.ok(es.indices.get('flowstream-2024.04.04')?.has(throttled.idempotencyKey));
    assert.equal(es.indices.get('flowstream-2024.04.04')?.has(poison.idempotencyKey), false);
  });

  test('a scripted mapper_parsing_exception rejects just that event', async () => {
    const batch = outboundEvents(2, 350);
    es.failItem(batch[0]?.idempotencyKey ?? '', MAPPER_PARSING);
    const result = partial(await destination(basic()).send(batch, live));
    assert.deepEqual(
      result.items.map((item) => item.outcome),
      ['rejected', 'delivered'],
    );
  });

  test('every item throttled: the whole batch is retryable', async () => {
    const batch = outboundEvents(2, 380);
    for (const event of batch) es.failItem(event.idempotencyKey, REJECTED_EXECUTION);
    const result = await destination(basic()).send(batch, live);
    assert.equal(result.outcome, 'retryable');
  });

  test('API key auth, in both the encoded and the id:key form', async () => {
    const encoded = Buffer.from('VuaCfGcBCdbkQm:ui2lp2axTNmsyakw9tvNnw').toString('base64');
    for (const apiKey of [encoded, 'VuaCfGcBCdbkQm:ui2lp2axTNmsyakw9tvNnw']) {
      const before = es.requests.length;
      const batch = outboundEvents(1, apiKey === encoded ? 400 : 401);
      assert.equal((await destination({ url: es.url, apiKey }).send(batch, live)).outcome, 'delivered');
      assert.equal(es.requests[before]?.headers.authorization, `ApiKey ${encoded}`);
    }
  });

  test('missing or wrong credentials are fatal for the stream, with the cluster answer kept', async () => {
    for (const settings of [
      { url: es.url },
      { url: es.url, username: 'elastic', password: 'wrong' },
      { url: es.url, apiKey: 'a:b' },
    ]) {
      const result = await destination(settings).send(outboundEvents(1, 450), live);
      assert.equal(result.outcome, 'fatal');
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'HTTP_401');
      assert.match(result.error.response ?? '', /security_exception/);
    }
  });

  test('whole-request 429 and 503 are retryable with Retry-After; 413 is rejected (the runner bisects)', async () => {
    es.failRequest(
      {
        status: 429,
        body: esErrorBody(429, 'es_rejected_execution_exception', 'queue full'),
        headers: { 'retry-after': '3' },
      },
      {
        status: 503,
        body: esErrorBody(
          503,
          'cluster_block_exception',
          'blocked by: [SERVICE_UNAVAILABLE/1/state not recovered]',
        ),
      },
    );
    const d = destination(basic());
    const throttled = await d.send(outboundEvents(1, 500), live);
    assert.deepEqual(throttled.outcome === 'retryable' && throttled.retryAfterMillis, 3000);
    assert.equal((await d.send(outboundEvents(1, 501), live)).outcome, 'retryable');
    const small = await startFakeElasticsearch({ maxContentLength: 2048 });
    try {
      const result = await destination({ url: small.url }).send(outboundEvents(10, 502), live);
      assert.equal(result.outcome, 'rejected');
      assert.ok(result.outcome === 'rejected');
      assert.equal(result.error.code, 'HTTP_413');
      assert.equal(
        (await destination({ url: small.url }).send(outboundEvents(1, 502), live)).outcome,
        'delivered',
      );
    } finally {
      await small.close();
    }
  });

  test('gzip bodies arrive intact', async () => {
    const before = es.requests.length;
    const batch = outboundEvents(20, 600);
    assert.equal((await destination({ ...basic(), gzip: true }).send(batch, live)).outcome, 'delivered');
    const request = es.requests[before];
    assert.equal(request?.headers['content-encoding'], 'gzip');
    assert.ok((request?.rawBytes ?? Infinity) < Buffer.byteLength(request?.bodyText ?? ''));
    assert.equal(request?.bodyText, bulkBody(batch, { index: 'flowstream-%Y.%m.%d', format: 'okta' }));
  });

  test('pipeline and a URL path prefix are honoured', async () => {
    const proxy = await startMisbehavingServer();
    try {
      proxy.script(respondJson(200, { errors: false, items: [{ create: { status: 201 } }] }));
      const result = await destination({ url: `${proxy.url}/es/`, pipeline: 'flowstream-geo' }).send(
        outboundEvents(1, 650),
        live,
      );
      assert.equal(result.outcome, 'delivered');
      assert.equal(
        proxy.requests[0]?.url,
        `/es/_bulk?filter_path=${encodeURIComponent(BULK_FILTER_PATH)}&pipeline=flowstream-geo`,
      );
    } finally {
      await proxy.close();
    }
    const stored = outboundEvents(1, 651);
    assert.equal((await destination({ ...basic(), pipeline: 'p1' }).send(stored, live)).outcome, 'delivered');
    assert.equal(
      es.indices.get('flowstream-2024.04.04')?.get(stored[0]?.idempotencyKey ?? '')?.pipeline,
      'p1',
    );
  });

  test('data streams: create with @timestamp is stored; without it every event is rejected', async () => {
    const batch = outboundEvents(2, 700);
    const stream = { ...basic(), index: 'logs-flowstream-default' };
    assert.equal(
      (await destination({ ...stream, timestampField: '@timestamp' }).send(batch, live)).outcome,
      'delivered',
    );
    const doc = es.indices.get('logs-flowstream-default')?.get(batch[0]?.idempotencyKey ?? '');
    assert.equal(doc?.source['@timestamp'], batch[0]?.timestamp);
    const missing = partial(await destination(stream).send(outboundEvents(1, 710), live));
    assert.equal(missing.items[0]?.outcome, 'rejected');
  });

  test('cloudevents format stores the envelope', async () => {
    const batch = outboundEvents(1, 800);
    assert.equal(
      (await destination({ ...basic(), index: 'ce' }, 'cloudevents').send(batch, live)).outcome,
      'delivered',
    );
    const doc = es.indices.get('ce')?.get(batch[0]?.idempotencyKey ?? '');
    assert.equal(doc?.source.specversion, '1.0');
    assert.deepEqual(doc?.source.data, batch[0]?.event);
  });

  test('declares its limits', () => {
    const d = destination(basic());
    assert.equal(d.maxBatchEvents, DEFAULT_MAX_BATCH_EVENTS);
    assert.equal(d.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES);
    assert.equal(d.maxEventBytes, DEFAULT_MAX_BATCH_BYTES);
    const small = destination({ ...basic(), maxBatchEvents: 7, maxBatchBytes: 4096 });
    assert.deepEqual([small.maxBatchEvents, small.maxBatchBytes, small.maxEventBytes], [7, 4096, 4096]);
  });
});

describe('elasticsearch against a misbehaving peer', () => {
  let server: MisbehavingServer;
  before(async () => {
    server = await startMisbehavingServer();
  });
  after(async () => {
    await server.close();
  });

  const send = (count = 2) => destination({ url: server.url }).send(outboundEvents(count, 900), live);

  test('stream-level item errors (missing index, write block) with nothing stored are fatal', async () => {
    server.script(
      respondJson(200, {
        errors: true,
        items: [
          {
            create: {
              status: 404,
              error: { type: 'index_not_found_exception', reason: 'no such index [flowstream-2024.04.04]' },
            },
          },
          {
            create: {
              status: 404,
              error: { type: 'index_not_found_exception', reason: 'no such index [flowstream-2024.04.04]' },
            },
          },
        ],
      }),
    );
    const result = await send();
    assert.equal(result.outcome, 'fatal');
    assert.ok(result.outcome === 'fatal');
    assert.equal(result.error.code, 'ES_INDEX_NOT_FOUND_EXCEPTION');
  });

  test('a stream-level item error next to a stored event is retried, never dead-lettered', async () => {
    server.script(
      respondJson(200, {
        errors: true,
        items: [
          { create: { status: 201 } },
          {
            create: {
              status: 403,
              error: {
                type: 'cluster_block_exception',
                reason: 'index [x] blocked by: [FORBIDDEN/8/index write (api)]',
              },
            },
          },
        ],
      }),
    );
    assert.deepEqual(
      partial(await send()).items.map((i) => i.outcome),
      ['delivered', 'retryable'],
    );
  });

  test('answers that cannot be read per item are retryable (re-sending creates is harmless)', async () => {
    for (const answer of [
      respond(200, 'not json', { 'content-type': 'application/json' }),
      respondJson(200, { errors: false, items: [{ create: { status: 201 } }] }),
      respondJson(200, { took: 1 }),
    ]) {
      server.script(answer);
      const result = await send();
      assert.equal(result.outcome, 'retryable');
      assert.ok(result.outcome === 'retryable');
      assert.equal(result.error.code, 'ES_BAD_RESPONSE');
    }
  });

  test('a 3xx is not followed and is fatal', async () => {
    server.script(respond(301, '', { location: 'http://elsewhere/' }));
    assert.equal((await send()).outcome, 'fatal');
  });
});

describe('elasticsearch settings', () => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  const validate = ajv.compile(elasticsearchDestination.settingsSchema);
  const valid = (settings: unknown) => validate(settings) === true;

  test('valid settings', () => {
    assert.ok(valid({ url: 'https://es.example.com:9200' }));
    assert.ok(
      valid({
        url: 'http://10.0.0.5:9200/proxy/es',
        username: 'u',
        password: 'p',
        index: 'logs-%Y.%m',
        gzip: true,
      }),
    );
    assert.ok(
      valid({
        url: 'https://h',
        apiKey: 'id:key',
        pipeline: 'p',
        timestampField: '@timestamp',
        maxBatchEvents: 5000,
        maxBatchBytes: 1 << 20,
      }),
    );
  });

  test('refused settings', () => {
    for (const bad of [
      {},
      { url: 'ftp://h' },
      { url: 'https://user:pw@h' },
      { url: 'https://h', username: 'u' },
      { url: 'https://h', password: 'p' },
      { url: 'https://h', username: 'u', password: 'p', apiKey: 'k' },
      { url: 'https://h', index: 'Upper' },
      { url: 'https://h', index: '-starts-with-dash' },
      { url: 'https://h', index: 'has space' },
      { url: 'https://h', index: 'bad-%Q' },
      { url: 'https://h', maxBatchEvents: 0 },
      { url: 'https://h', maxBatchBytes: 10 },
      { url: 'https://h', unknown: true },
    ]) {
      assert.equal(valid(bad), false, JSON.stringify(bad));
    }
  });

  test('secrets and targets', () => {
    assert.deepEqual(elasticsearchDestination.secretSettings, ['/password', '/apiKey']);
    assert.deepEqual(elasticsearchDestination.targets({ url: 'https://[::1]:9200' }), ['::1']);
    assert.deepEqual(elasticsearchDestination.targets({ url: 'https://es.example.com:9200/x' }), [
      'es.example.com',
    ]);
  });

  test('create refuses contradictory credentials the schema validator may not have checked', () => {
    assert.throws(
      () => destination({ url: 'https://h', apiKey: 'k', username: 'u', password: 'p' }),
      ElasticsearchSettingsError,
    );
    assert.throws(() => destination({ url: 'https://h', username: 'u' }), ElasticsearchSettingsError);
  });

  test('filter_path in the fake keeps what the destination reads', () => {
    const full = {
      took: 3,
      errors: true,
      items: [{ create: { _index: 'i', status: 409, error: { type: 't', reason: 'r', shard: '0' } } }],
    };
    assert.deepEqual(filterResponse(full, BULK_FILTER_PATH.split(',')), {
      errors: true,
      items: [{ create: { status: 409, error: { type: 't', reason: 'r' } } }],
    });
  });
});

after(async () => {
  await network.dispatcher.close();
});
