import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import {
  type AwsEventBridgeSettings,
  AwsEventBridgeSettingsError,
  awsEventBridgeDestination,
  classifyResultEntry,
  classifySdkError,
  DEFAULT_MAX_BATCH_EVENTS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_SOURCE,
  eventBridgeHost,
  MAX_ENTRIES_PER_CALL,
  planCalls,
  toEntry,
} from '../../src/destinations/aws-eventbridge.js';
import type {
  Destination,
  DestinationContext,
  OutboundEvent,
  SendResult,
  StreamFormat,
} from '../../src/destinations/destination.js';
import { cloudEventJson } from '../../src/formats/cloudevents.js';
import { type NetworkPolicy, openNetworkPolicy } from '../../src/net/network-policy.js';
import { entrySize, type FakeEventBridge, startFakeEventBridge } from '../helpers/fake-eventbridge.js';
import { respond, stall, startMisbehavingServer } from '../helpers/misbehaving-server.js';
import { fromJson, outboundEvent, outboundEvents, SEED_EXAMPLES } from '../helpers/outbound-events.js';

const network = openNetworkPolicy();
const logger = pino({ level: 'silent' });
const live = new AbortController().signal;
const CREDENTIALS = {
  accessKeyId: 'AKIAFLOWSTREAMTEST01',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN',
};
const REGION = 'eu-central-1';

const opened: Destination[] = [];

function context(
  format: StreamFormat = 'okta',
  policy: NetworkPolicy = network,
  timeoutMillis = 5000,
): DestinationContext {
  return { streamId: 'eb', streamName: 'EventBridge', format, network: policy, logger, timeoutMillis };
}

function partial(result: SendResult): Extract<SendResult, { outcome: 'partial' }> {
  assert.equal(result.outcome, 'partial', JSON.stringify(result));
  return result as Extract<SendResult, { outcome: 'partial' }>;
}

const bytesOf = (events: readonly OutboundEvent[]) =>
  events.reduce((sum, event) => sum + Buffer.byteLength(event.json, 'utf8'), 0);

describe('aws_eventbridge entries and call plans', () => {
  test('an entry: Source, DetailType = event type, Detail = stored JSON, Time, bus; sized as EventBridge counts', () => {
    const event = fromJson(SEED_EXAMPLES[1] ?? '', 2);
    const { entry, bytes } = toEntry(event, {
      source: 'flowstream.test',
      eventBusName: 'orders',
      format: 'okta',
    });
    assert.deepEqual(entry, {
      Source: 'flowstream.test',
      DetailType: 'FLOW_COMPLETE',
      Detail: SEED_EXAMPLES[1],
      EventBusName: 'orders',
      Time: new Date('2024-04-04T18:30:38.777Z'),
    });
    assert.equal(bytes, entrySize(entry));
    assert.equal(
      bytes,
      14 + 'flowstream.test'.length + 'FLOW_COMPLETE'.length + Buffer.byteLength(SEED_EXAMPLES[1] ?? ''),
    );
  });

  test('an unparseable timestamp leaves Time out (and its 14 bytes)', () => {
    const event = outboundEvent({ seq: 1, fields: { timestamp: 'soon' } });
    const { entry, bytes } = toEntry(event, { source: 's', eventBusName: 'default', format: 'okta' });
    assert.equal(entry.Time, undefined);
    assert.equal(bytes, 1 + 'FLOW_START'.length + Buffer.byteLength(event.json));
  });

  test('cloudevents format: Detail is the CloudEvents envelope', () => {
    const event = outboundEvent({ seq: 4 });
    assert.equal(
      toEntry(event, { source: 's', eventBusName: 'b', format: 'cloudevents' }).entry.Detail,
      cloudEventJson(event),
    );
  });

  test('planCalls: at most 10 entries and maxRequestBytes per call, in order; oversized ones apart', () => {
    assert.deepEqual(
      planCalls(Array(23).fill(1), 1000).calls.map((c) => c.length),
      [10, 10, 3],
    );
    assert.deepEqual(planCalls([400, 400, 400, 1200, 100, 900], 1000), {
      calls: [[0, 1], [2, 4], [5]],
      oversized: [3],
    });
    assert.deepEqual(planCalls([], 1000), { calls: [], oversized: [] });
    for (let n = 1; n <= 40; n++) {
      const sizes = Array.from({ length: n }, (_, i) => ((i * 7919) % 600) + 1);
      const { calls, oversized } = planCalls(sizes, 1000);
      assert.deepEqual(
        calls.flat(),
        sizes.map((_, i) => i).filter((i) => !oversized.includes(i)),
      );
      for (const call of calls) {
        assert.ok(call.length <= MAX_ENTRIES_PER_CALL);
        assert.ok(call.reduce((sum, i) => sum + (sizes[i] ?? 0), 0) <= 1000);
      }
    }
  });
});

describe('aws_eventbridge classification', () => {
  const entryTable: readonly [Parameters<typeof classifyResultEntry>[0], string][] = [
    [{ EventId: 'e1' }, 'delivered'],
    [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }, 'retryable'],
    [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }, 'retryable'],
    [{ ErrorCode: 'InternalException' }, 'retryable'],
    [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }, 'rejected'],
    [{ ErrorCode: 'InvalidArgument' }, 'rejected'],
    [{ ErrorCode: 'RedactionFailure' }, 'rejected'],
    [{ ErrorCode: 'NotAuthorizedForDetailTypeException' }, 'rejected'],
    [{ ErrorCode: 'SomethingNew' }, 'rejected'],
    [{ ErrorCode: 'AccessDeniedException' }, 'stream'],
    [{ ErrorCode: 'NotAuthorizedForSourceException' }, 'stream'],
    [{ ErrorCode: 'InvalidAccountIdException' }, 'stream'],
    [{ ErrorCode: 'ResourceNotFoundException' }, 'stream'],
    [{}, 'retryable'],
    [undefined, 'retryable'],
  ];
  for (const [entry, expected] of entryTable) {
    test(`entry ${JSON.stringify(entry)} → ${expected}`, () => {
      assert.equal(classifyResultEntry(entry).kind, expected);
    });
  }

  const sdkError = (name: string, status: number, headers: Record<string, string> = {}) => {
    const err = Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
    Object.defineProperty(err, '$response', { value: { statusCode: status, headers }, enumerable: false });
    return err;
  };
  const errorTable: readonly [unknown, string][] = [
    [sdkError('ThrottlingException', 400), 'retryable'],
    [sdkError('TooManyRequestsException', 429), 'retryable'],
    [sdkError('InternalException', 500), 'retryable'],
    [sdkError('ServiceUnavailable', 503), 'retryable'],
    [sdkError('RequestExpired', 400), 'retryable'],
    [
      Object.assign(sdkError('InvalidSignatureException', 400), {
        message: 'Signature expired: 20240101T000000Z is now earlier than ...',
      }),
      'retryable',
    ],
    [sdkError('InvalidSignatureException', 400), 'stream'],
    [sdkError('AccessDeniedException', 400), 'stream'],
    [sdkError('UnrecognizedClientException', 400), 'stream'],
    [sdkError('ExpiredTokenException', 400), 'stream'],
    [sdkError('ResourceNotFoundException', 400), 'stream'],
    [sdkError('MissingAuthenticationTokenException', 403), 'stream'],
    [sdkError('ValidationException', 400), 'rejected'],
    [sdkError('SerializationException', 400), 'rejected'],
    [sdkError('Unknown', 502), 'retryable'],
    [sdkError('Unknown', 403), 'stream'],
    [sdkError('Unknown', 400), 'rejected'],
    [
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'stream',
    ],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'retryable'],
  ];
  for (const [err, expected] of errorTable) {
    test(`exception ${(err as Error).name} ${(err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? ''} → ${expected}`, () => {
      assert.equal(classifySdkError(err).kind, expected);
    });
  }

  test('Retry-After on a throttled call is honoured', () => {
    const result = classifySdkError(sdkError('ThrottlingException', 400, { 'Retry-After': '7' }));
    assert.ok(result.kind === 'retryable');
    assert.equal(result.retryAfterMillis, 7000);
    assert.equal(result.error.code, 'EVENTBRIDGE_ThrottlingException');
  });
});

describe('aws_eventbridge through the real AWS SDK against a fake EventBridge', () => {
  let eb: FakeEventBridge;
  before(async () => {
    eb = await startFakeEventBridge({
      credentials: CREDENTIALS,
      region: REGION,
      buses: ['default', 'flowstream'],
    });
  });
  after(async () => {
    for (const d of opened) await d.close();
    await eb.close();
  });

  function destination(
    extra: Partial<AwsEventBridgeSettings> = {},
    format: StreamFormat = 'okta',
    policy: NetworkPolicy = network,
  ): Destination {
    const d = awsEventBridgeDestination.create(
      { region: REGION, endpoint: eb.url, ...CREDENTIALS, eventBusName: 'flowstream', ...extra },
      context(format, policy),
    );
    opened.push(d);
    return d;
  }

  test('PutEvents is signed and carries Source, DetailType, Detail, EventBusName and Time', async () => {
    const before = eb.requests.length;
    const seed = SEED_EXAMPLES.map((text, i) => fromJson(text, i + 1));
    const arn = 'arn:aws:events:eu-central-1:123456789012:event-bus/flowstream';
    const result = await destination({ eventBusName: arn }).send(seed, live);
    assert.deepEqual(result, { outcome: 'delivered', bytes: bytesOf(seed) });
    const request = eb.requests[before];
    assert.ok(request);
    assert.equal(request.status, 200);
    assert.equal(request.headers['x-amz-target'], 'AWSEvents.PutEvents');
    assert.equal(request.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(request.headers['x-amz-security-token'], CREDENTIALS.sessionToken);
    assert.match(
      String(request.headers.authorization),
      new RegExp(`Credential=${CREDENTIALS.accessKeyId}/\\d{8}/${REGION}/events/aws4_request`),
    );
    assert.equal(request.headers['amz-sdk-request'], 'attempt=1; max=1');
    const wire = JSON.parse(request.bodyText) as { Entries: Record<string, unknown>[] };
    assert.deepEqual(
      wire.Entries,
      seed.map((event) => ({
        Time: Date.parse(event.timestamp) / 1000,
        Source: DEFAULT_SOURCE,
        DetailType: event.eventType,
        Detail: event.json,
        EventBusName: arn,
      })),
    );
    const received = eb.events.slice(-4);
    assert.deepEqual(
      received.map((e) => [e.Source, e.DetailType, e.Detail, e.EventBusName]),
      seed.map((event) => [DEFAULT_SOURCE, event.eventType, event.json, 'flowstream']),
    );
  });

  test('at most 10 entries per call: 25 events make calls of 10, 10 and 5', async () => {
    const before = eb.requests.length;
    const eventsBefore = eb.events.length;
    const batch = outboundEvents(25, 100);
    assert.deepEqual(await destination().send(batch, live), { outcome: 'delivered', bytes: bytesOf(batch) });
    const calls = eb.requests.slice(before).map((r) => r.entryCount);
    assert.deepEqual(
      [...calls].sort((a, b) => b - a),
      [10, 10, 5],
    );
    const keys = eb.events
      .slice(eventsBefore)
      .map((e) => (JSON.parse(e.Detail) as { idempotency_key: string }).idempotency_key);
    assert.deepEqual([...keys].sort(), batch.map((e) => e.idempotencyKey).sort());
  });

  test('calls stay under maxRequestBytes, measured as EventBridge does', async () => {
    const small = await startFakeEventBridge({
      credentials: CREDENTIALS,
      region: REGION,
      maxRequestEntryBytes: 4096,
    });
    try {
      const batch = outboundEvents(12, 150);
      const d = awsEventBridgeDestination.create(
        { region: REGION, endpoint: small.url, ...CREDENTIALS, maxRequestBytes: 4096 },
        context(),
      );
      opened.push(d);
      assert.equal((await d.send(batch, live)).outcome, 'delivered');
      assert.ok(small.requests.length > 2);
      for (const request of small.requests) {
        assert.equal(request.status, 200);
        const entries = (JSON.parse(request.bodyText) as { Entries: Parameters<typeof entrySize>[0][] })
          .Entries;
        assert.ok(entries.reduce((sum, e) => sum + entrySize(e), 0) <= 4096);
      }
      assert.equal(small.events.length, 12);
    } finally {
      await small.close();
    }
  });

  test('per-entry failures: only the failed retryable entry is retried; permanent ones are rejected', async () => {
    const batch = outboundEvents(6, 200);
    const [, throttled, , malformed] = batch;
    assert.ok(throttled && malformed);
    eb.failEntry(throttled.idempotencyKey, {
      ErrorCode: 'ThrottlingException',
      ErrorMessage: 'Rate exceeded',
    });
    eb.failEntry(malformed.idempotencyKey, {
      ErrorCode: 'MalformedDetail',
      ErrorMessage: 'Detail is malformed.',
    });
    const d = destination();
    const eventsBefore = eb.events.length;
    const result = partial(await d.send(batch, live));
    assert.deepEqual(
      result.items.map((i) => i.outcome),
      ['delivered', 'retryable', 'delivered', 'rejected', 'delivered', 'delivered'],
    );
    assert.equal(result.bytes, bytesOf(batch.filter((e) => e !== throttled && e !== malformed)));
    const rejected = result.items[3];
    assert.ok(rejected?.outcome === 'rejected');
    assert.equal(rejected.error.code, 'EVENTBRIDGE_MalformedDetail');
    assert.match(rejected.error.message, /Detail is malformed/);
    assert.equal(eb.events.length, eventsBefore + 4);
    // The runner re-sends the retryable one alone: it arrives, and nothing else is sent twice.
    assert.deepEqual(await d.send([throttled], live), { outcome: 'delivered', bytes: bytesOf([throttled]) });
    assert.equal(eb.events.length, eventsBefore + 5);
  });

  test('an event over the entry limit is rejected without being sent; the rest go', async () => {
    const huge = outboundEvent({ seq: 300, fields: { error_message: 'x'.repeat(5000) } });
    const batch = [outboundEvent({ seq: 301 }), huge, outboundEvent({ seq: 302 })];
    const d = destination({ maxRequestBytes: 4096 });
    assert.ok(Buffer.byteLength(huge.json) > d.maxEventBytes!);
    const before = eb.requests.length;
    const result = partial(await d.send(batch, live));
    assert.deepEqual(
      result.items.map((i) => i.outcome),
      ['delivered', 'rejected', 'delivered'],
    );
    const item = result.items[1];
    assert.ok(item?.outcome === 'rejected');
    assert.equal(item.error.code, 'EVENTBRIDGE_ENTRY_TOO_LARGE');
    assert.match(item.error.message, /over the limit of 4096 bytes \(maxRequestBytes\)/);
    for (const request of eb.requests.slice(before))
      assert.ok(!request.bodyText.includes(huge.idempotencyKey));
  });

  test('ThrottlingException for the call: retryable; InternalException (500): retryable', async () => {
    eb.failRequest({ type: 'ThrottlingException', message: 'Rate exceeded' });
    const throttled = await destination().send(outboundEvents(3, 400), live);
    assert.equal(throttled.outcome, 'retryable');
    assert.ok(throttled.outcome === 'retryable');
    assert.equal(throttled.error.code, 'EVENTBRIDGE_ThrottlingException');
    eb.failRequest({ status: 500, type: 'InternalException', message: 'Internal service error' });
    assert.equal((await destination().send(outboundEvents(1, 410), live)).outcome, 'retryable');
  });

  test('access denied, unknown key, wrong secret and a missing bus are fatal for the stream', async () => {
    eb.failRequest({
      type: 'AccessDeniedException',
      messageKey: 'Message',
      message: 'User: arn:aws:iam::123456789012:user/x is not authorized to perform: events:PutEvents',
    });
    const denied = await destination().send(outboundEvents(2, 500), live);
    assert.ok(denied.outcome === 'fatal');
    assert.equal(denied.error.code, 'EVENTBRIDGE_AccessDeniedException');
    assert.match(denied.error.message, /not authorized to perform: events:PutEvents/);
    const cases: [Partial<AwsEventBridgeSettings>, string][] = [
      [{ accessKeyId: 'AKIAUNKNOWNKEY000000' }, 'EVENTBRIDGE_UnrecognizedClientException'],
      [{ secretAccessKey: 'not-the-secret' }, 'EVENTBRIDGE_InvalidSignatureException'],
      [{ eventBusName: 'missing-bus' }, 'EVENTBRIDGE_ResourceNotFoundException'],
    ];
    for (const [settings, code] of cases) {
      const result = await destination(settings).send(outboundEvents(1, 510), live);
      assert.ok(result.outcome === 'fatal', JSON.stringify(result));
      assert.equal(result.error.code, code);
    }
  });

  test('a stream-level entry error: fatal when nothing got through, else retried (never dead-lettered)', async () => {
    const batch = outboundEvents(2, 600);
    for (const event of batch) {
      eb.failEntry(event.idempotencyKey, {
        ErrorCode: 'NotAuthorizedForSourceException',
        ErrorMessage: 'Not authorized for the source.',
      });
    }
    assert.equal((await destination().send(batch, live)).outcome, 'fatal');
    const mixed = outboundEvents(2, 610);
    eb.failEntry(mixed[1]?.idempotencyKey ?? '', {
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: 'denied',
    });
    assert.deepEqual(
      partial(await destination().send(mixed, live)).items.map((i) => i.outcome),
      ['delivered', 'retryable'],
    );
  });

  test('a call refused for its content is split until the refused entry is alone', async () => {
    // The service's limit is lower than the destination believes: multi-entry calls are refused
    // with ValidationException, single entries pass, and the one too large even alone is rejected.
    const strict = await startFakeEventBridge({
      credentials: CREDENTIALS,
      region: REGION,
      maxRequestEntryBytes: 2500,
    });
    try {
      const big = outboundEvent({ seq: 700, fields: { error_message: 'y'.repeat(2600) } });
      const batch = [...outboundEvents(3, 701), big];
      const d = awsEventBridgeDestination.create(
        { region: REGION, endpoint: strict.url, ...CREDENTIALS },
        context(),
      );
      opened.push(d);
      const result = partial(await d.send(batch, live));
      assert.deepEqual(
        result.items.map((i) => i.outcome),
        ['delivered', 'delivered', 'delivered', 'rejected'],
      );
      const item = result.items[3];
      assert.ok(item?.outcome === 'rejected');
      assert.equal(item.error.code, 'EVENTBRIDGE_ValidationException');
      assert.equal(strict.events.length, 3);
    } finally {
      await strict.close();
    }
  });

  test('cloudevents format sends the envelope as Detail', async () => {
    const batch = outboundEvents(1, 800);
    assert.equal((await destination({}, 'cloudevents').send(batch, live)).outcome, 'delivered');
    const received = eb.events.at(-1);
    assert.equal(received?.Detail, cloudEventJson(batch[0] as OutboundEvent));
  });

  test('every connection goes through the network policy dispatcher', async () => {
    let dispatched = 0;
    class CountingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatched++;
        return super.dispatch(options, handler);
      }
    }
    const counting = new CountingAgent();
    const refusing = new Agent({
      connect: (_options, callback) => {
        callback(
          Object.assign(new Error('destination address is not allowed'), { code: 'FORBIDDEN_DESTINATION' }),
          null,
        );
      },
    });
    try {
      const before = eb.requests.length;
      const result = await destination({}, 'okta', { ...network, dispatcher: counting }).send(
        outboundEvents(3, 900),
        live,
      );
      assert.equal(result.outcome, 'delivered');
      assert.equal(dispatched, eb.requests.length - before);
      assert.ok(dispatched >= 1);
      const refused = await destination({}, 'okta', { ...network, dispatcher: refusing }).send(
        outboundEvents(1, 910),
        live,
      );
      assert.ok(refused.outcome === 'retryable');
      assert.equal(refused.error.code, 'FORBIDDEN_DESTINATION');
      assert.equal(eb.requests.length, before + dispatched);
    } finally {
      await counting.close();
      await refusing.close();
    }
  });

  test('without endpoint the SDK connects to the host targets() gave the policy, even with FIPS in the environment', async () => {
    const origins: string[] = [];
    class RecordingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        origins.push(String(options.origin));
        return super.dispatch(options, handler);
      }
    }
    // Records where the SDK goes, then refuses to connect anywhere.
    const recording = new RecordingAgent({
      connect: (_options, callback) => {
        callback(Object.assign(new Error('no network in tests'), { code: 'FORBIDDEN_DESTINATION' }), null);
      },
    });
    const fips = process.env.AWS_USE_FIPS_ENDPOINT;
    process.env.AWS_USE_FIPS_ENDPOINT = 'true';
    try {
      const settings = { region: 'eu-west-3', ...CREDENTIALS };
      const d = awsEventBridgeDestination.create(
        settings,
        context('okta', { ...network, dispatcher: recording }),
      );
      opened.push(d);
      assert.equal((await d.send(outboundEvents(1, 950), live)).outcome, 'retryable');
      assert.deepEqual(origins, [`https://${awsEventBridgeDestination.targets(settings)[0]}`]);
    } finally {
      if (fips === undefined) delete process.env.AWS_USE_FIPS_ENDPOINT;
      else process.env.AWS_USE_FIPS_ENDPOINT = fips;
      await recording.close();
    }
  });

  test('declares its limits; close is idempotent', async () => {
    const d = destination();
    assert.equal(d.maxBatchEvents, DEFAULT_MAX_BATCH_EVENTS);
    assert.equal(d.maxBatchBytes, undefined);
    assert.equal(d.maxEventBytes, DEFAULT_MAX_REQUEST_BYTES - 14 - DEFAULT_SOURCE.length - 128);
    await d.close();
    await d.close();
  });
});

describe('aws_eventbridge against a misbehaving endpoint', () => {
  test('a 503 that is not AWS JSON is retryable; a stalled answer times out, retryable', async () => {
    const server = await startMisbehavingServer();
    try {
      const create = (timeoutMillis: number) => {
        const d = awsEventBridgeDestination.create(
          { region: REGION, endpoint: server.url, ...CREDENTIALS },
          context('okta', network, timeoutMillis),
        );
        opened.push(d);
        return d;
      };
      server.script(respond(503, '<html>Service Unavailable</html>', { 'content-type': 'text/html' }));
      const unavailable = await create(5000).send(outboundEvents(1, 1000), live);
      assert.ok(unavailable.outcome === 'retryable', JSON.stringify(unavailable));
      assert.equal(unavailable.error.status, 503);
      server.script(stall());
      const stalled = await create(300).send(outboundEvents(1, 1001), live);
      assert.ok(stalled.outcome === 'retryable');
      assert.equal(stalled.error.code, 'TIMEOUT');
    } finally {
      await server.close();
    }
  });

  test('a closed port is a retryable network error', async () => {
    const server = await startMisbehavingServer();
    const url = server.url;
    await server.close();
    const d = awsEventBridgeDestination.create({ region: REGION, endpoint: url, ...CREDENTIALS }, context());
    opened.push(d);
    const result = await d.send(outboundEvents(1, 1100), live);
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'ECONNREFUSED');
  });
});

describe('aws_eventbridge settings', () => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  const validate = ajv.compile(awsEventBridgeDestination.settingsSchema);
  const valid = (settings: unknown) => validate(settings) === true;

  test('valid settings', () => {
    assert.ok(valid({ region: 'us-east-1' }));
    assert.ok(valid({ region: 'us-gov-west-1', eventBusName: 'orders', source: 'com.example.flows' }));
    assert.ok(
      valid({
        region: 'eu-west-1',
        eventBusName: 'arn:aws:events:eu-west-1:123456789012:event-bus/orders',
        ...CREDENTIALS,
        endpoint: 'https://vpce-0123.events.eu-west-1.vpce.amazonaws.com',
        maxBatchEvents: 500,
        maxRequestBytes: 262144,
      }),
    );
  });

  test('refused settings', () => {
    for (const bad of [
      {},
      { region: 'Europe' },
      { region: 'us-east-1', source: 'aws.events' },
      { region: 'us-east-1', source: '' },
      { region: 'us-east-1', eventBusName: 'has space' },
      { region: 'us-east-1', accessKeyId: CREDENTIALS.accessKeyId },
      { region: 'us-east-1', secretAccessKey: 'x' },
      { region: 'us-east-1', sessionToken: 'x' },
      { region: 'us-east-1', endpoint: 'ftp://x' },
      { region: 'us-east-1', endpoint: 'https://x/path' },
      { region: 'us-east-1', maxBatchEvents: 0 },
      { region: 'us-east-1', maxRequestBytes: 2 * 1024 * 1024 },
      { region: 'us-east-1', detailType: 'x' },
    ]) {
      assert.equal(valid(bad), false, JSON.stringify(bad));
    }
  });

  test('secrets and targets', () => {
    assert.deepEqual(awsEventBridgeDestination.secretSettings, ['/secretAccessKey', '/sessionToken']);
    assert.deepEqual(awsEventBridgeDestination.targets({ region: 'eu-west-1' }), [
      'events.eu-west-1.amazonaws.com',
    ]);
    assert.equal(eventBridgeHost({ region: 'cn-north-1' }), 'events.cn-north-1.amazonaws.com.cn');
    assert.deepEqual(
      awsEventBridgeDestination.targets({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4010' }),
      ['127.0.0.1'],
    );
  });

  test('create refuses half credentials the schema validator may not have checked', () => {
    assert.throws(
      () =>
        awsEventBridgeDestination.create({ region: REGION, accessKeyId: CREDENTIALS.accessKeyId }, context()),
      AwsEventBridgeSettingsError,
    );
    assert.throws(
      () => awsEventBridgeDestination.create({ region: REGION, sessionToken: 't' }, context()),
      AwsEventBridgeSettingsError,
    );
  });
});

after(async () => {
  for (const d of opened) await d.close();
  await network.dispatcher.close();
});
