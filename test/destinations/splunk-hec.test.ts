import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import type {
  DestinationContext,
  OutboundEvent,
  SendResult,
  StreamFormat,
} from '../../src/destinations/destination.js';
import type { SplunkHecSettings } from '../../src/destinations/splunk-hec.js';
import { hecBaseUrl, SplunkHecDestination, splunkHecDestination } from '../../src/destinations/splunk-hec.js';
import { HEC_CODES } from '../../src/destinations/splunk-hec-codes.js';
import { epochSecondsWithMillis } from '../../src/destinations/splunk-hec-envelope.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import type { FakeSplunkHec } from '../helpers/fake-splunk-hec.js';
import { hecAnswer, splitConcatenatedJson, startFakeSplunkHec } from '../helpers/fake-splunk-hec.js';
import { reset, respond, stall } from '../helpers/misbehaving-server.js';
import { fromJson, outboundEvent, outboundEvents, SEED_EXAMPLES } from '../helpers/outbound-events.js';

const network = openNetworkPolicy();
const logger = pino({ level: 'silent' });

function context(overrides: Partial<DestinationContext> = {}): DestinationContext {
  return {
    streamId: 'siem',
    streamName: 'Splunk',
    format: 'okta' as StreamFormat,
    network,
    logger,
    timeoutMillis: 2000,
    ...overrides,
  };
}

const seedBatch = (): OutboundEvent[] => SEED_EXAMPLES.map((json, i) => fromJson(json, i + 1));
const never = new AbortController().signal;

/** Resolves once `condition` holds (checked every 5 ms); fails after 5 s. */
async function until(condition: () => boolean): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 5000) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function errorCode(result: SendResult): string | undefined {
  return 'error' in result ? result.error.code : undefined;
}

after(async () => {
  await network.dispatcher.close();
});

describe('splunk_hec: what Splunk receives', () => {
  let hec: FakeSplunkHec;
  before(async () => {
    hec = await startFakeSplunkHec();
  });
  after(async () => {
    await hec.close();
  });

  test('concatenated envelopes around the stored event JSON, with time in epoch seconds and milliseconds', async () => {
    const destination = splunkHecDestination.create(
      {
        url: hec.url,
        token: hec.token,
        index: 'okta',
        host: 'flowstream-1',
        fields: { env: 'prod' },
        channel: '7f5e2a1c-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
      },
      context(),
    );
    const batch = seedBatch();
    const result = await destination.send(batch, never);
    const eventJsonBytes = batch.reduce((sum, e) => sum + Buffer.byteLength(e.json), 0);
    assert.deepEqual(result, { outcome: 'delivered', bytes: eventJsonBytes });

    const request = hec.eventRequests.at(-1);
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/services/collector/event');
    assert.equal(request.headers.authorization, `Splunk ${hec.token}`);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['content-encoding'], 'gzip');
    assert.equal(request.headers['x-splunk-request-channel'], '7f5e2a1c-3b4d-4e6f-8a9b-0c1d2e3f4a5b');
    const times = ['1712255438.730', '1712255438.777', '1712257095.861', '1712257095.901'];
    const expected = SEED_EXAMPLES.map(
      (json, i) =>
        `{"time":${times[i]},"host":"flowstream-1","source":"flowstream","sourcetype":"okta:workflows:execution","index":"okta","fields":{"env":"prod"},"event":${json}}\n`,
    ).join('');
    assert.equal(request.bodyText, expected);
    assert.equal(hec.events.length, 4);
    assert.deepEqual(hec.events[1]?.envelope.event, JSON.parse(SEED_EXAMPLES[1] as string));
    await destination.close();
  });

  test('defaults: source flowstream, sourcetype okta:workflows:execution, no host or index; a fresh GUID channel', async () => {
    const destination = new SplunkHecDestination({ url: hec.url, token: hec.token }, context());
    assert.match(
      destination.channel,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const event = outboundEvent({ seq: 3 });
    assert.equal((await destination.send([event], never)).outcome, 'delivered');
    const request = hec.eventRequests.at(-1);
    assert.equal(request?.headers['x-splunk-request-channel'], destination.channel);
    assert.equal(
      request?.bodyText,
      `{"time":${epochSecondsWithMillis(event.timestamp)},"source":"flowstream","sourcetype":"okta:workflows:execution","event":${event.json}}\n`,
    );
  });

  test('an event whose timestamp is not a date-time goes without time (Splunk stamps it on arrival)', async () => {
    const destination = new SplunkHecDestination(
      { url: hec.url, token: hec.token, sourcetype: '_json' },
      context(),
    );
    const event = outboundEvent({ seq: 1, fields: { timestamp: 'yesterday' } });
    assert.equal((await destination.send([event], never)).outcome, 'delivered');
    assert.equal(
      hec.eventRequests.at(-1)?.bodyText,
      `{"source":"flowstream","sourcetype":"_json","event":${event.json}}\n`,
    );
  });

  test('gzip: false sends the body as is; a pretty-printed event is sent on one line', async () => {
    const destination = new SplunkHecDestination({ url: hec.url, token: hec.token, gzip: false }, context());
    const event = outboundEvent({ seq: 2, indent: 2 });
    assert.equal((await destination.send([event], never)).outcome, 'delivered');
    const request = hec.eventRequests.at(-1);
    assert.equal(request?.headers['content-encoding'], undefined);
    assert.equal(request?.rawBody.toString('utf8'), request?.bodyText);
    const lines = request?.bodyText.split('\n') ?? [];
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '');
    assert.deepEqual(JSON.parse(lines[0] as string).event, event.event);
  });

  test('the cloudevents format puts a CloudEvent in `event`', async () => {
    const destination = new SplunkHecDestination(
      { url: hec.url, token: hec.token },
      context({ format: 'cloudevents' }),
    );
    const event = outboundEvent({ seq: 5 });
    assert.equal((await destination.send([event], never)).outcome, 'delivered');
    const sent = hec.events.at(-1)?.envelope.event as Record<string, unknown>;
    assert.equal(sent.specversion, '1.0');
    assert.equal(sent.id, event.idempotencyKey);
    assert.deepEqual(sent.data, event.event);
  });

  test('a URL that already names the collector endpoint is accepted', () => {
    for (const url of [
      'https://splunk.example.com:8088',
      'https://splunk.example.com:8088/',
      'https://splunk.example.com:8088/services/collector',
      'https://splunk.example.com:8088/services/collector/event',
      'https://splunk.example.com:8088/services/collector/event/1.0/',
    ]) {
      assert.equal(hecBaseUrl(url).href, 'https://splunk.example.com:8088/', url);
    }
    assert.equal(
      hecBaseUrl('https://proxy.example.com/splunk/services/collector').href,
      'https://proxy.example.com/splunk',
    );
  });

  test('an empty batch sends nothing', async () => {
    const destination = new SplunkHecDestination({ url: hec.url, token: hec.token }, context());
    const count = hec.requests.length;
    assert.deepEqual(await destination.send([], never), { outcome: 'delivered', bytes: 0 });
    assert.equal(hec.requests.length, count);
  });
});

describe('splunk_hec: batch limits', () => {
  test('declared limits leave room for the envelopes', () => {
    const destination = new SplunkHecDestination(
      { url: 'https://splunk.example.com:8088', token: 't', maxBatchEvents: 100, maxBatchBytes: 100_000 },
      context(),
    );
    assert.equal(destination.maxBatchEvents, 100);
    // The envelope around one event: time, source, sourcetype, the `event` key, braces, line feed.
    const overhead = (100_000 - destination.maxBatchBytes) / 100;
    assert.equal(destination.maxEventBytes, destination.maxBatchBytes);
    const envelope =
      '{"time":1712255438.730,"source":"flowstream","sourcetype":"okta:workflows:execution","event":}\n';
    assert.ok(overhead >= Buffer.byteLength(envelope) && overhead < 200, String(overhead));
    const defaults = new SplunkHecDestination(
      { url: 'https://splunk.example.com:8088', token: 't' },
      context(),
    );
    assert.equal(defaults.maxBatchEvents, 1000);
    assert.ok(defaults.maxBatchBytes > 800_000 && defaults.maxBatchBytes < 1_000_000);
  });

  test('a full batch at the declared limits fits in maxBatchBytes; one byte of multi-byte text too many is refused unsent', async () => {
    const hec = await startFakeSplunkHec({ maxContentLength: 20_000 });
    try {
      const settings: SplunkHecSettings = {
        url: hec.url,
        token: hec.token,
        maxBatchBytes: 20_000,
        maxBatchEvents: 10,
        gzip: false,
      };
      const destination = new SplunkHecDestination(settings, context());
      // Ten events whose JSON together is exactly the declared byte budget.
      const per = Math.floor(destination.maxBatchBytes / 10);
      const batch = Array.from({ length: 10 }, (_, i) => {
        const base = outboundEvent({ seq: i + 1, fields: { pad: '' } });
        return outboundEvent({ seq: i + 1, fields: { pad: 'x'.repeat(per - base.json.length) } });
      });
      assert.ok(batch.reduce((sum, e) => sum + e.json.length, 0) <= destination.maxBatchBytes);
      assert.equal((await destination.send(batch, never)).outcome, 'delivered');
      assert.ok((hec.eventRequests.at(-1)?.rawBody.byteLength ?? 0) <= 20_000);

      // The same character count in three-byte characters does not fit: refused before sending.
      const wide = batch.map((e, i) =>
        outboundEvent({ seq: i + 1, fields: { pad: '€'.repeat((e.event.pad as string).length) } }),
      );
      const count = hec.requests.length;
      const result = await destination.send(wide, never);
      assert.equal(result.outcome, 'rejected');
      assert.equal(errorCode(result), 'PAYLOAD_TOO_LARGE');
      assert.equal(hec.requests.length, count);
    } finally {
      await hec.close();
    }
  });

  test('a body over the collector max_content_length is refused with 413 (rejected: the runner bisects)', async () => {
    const hec = await startFakeSplunkHec({ maxContentLength: 5000 });
    try {
      const destination = new SplunkHecDestination(
        { url: hec.url, token: hec.token, gzip: false },
        context(),
      );
      const result = await destination.send(outboundEvents(20), never);
      assert.equal(result.outcome, 'rejected');
      assert.equal(errorCode(result), 'HTTP_413');
      assert.equal(hec.events.length, 0);
    } finally {
      await hec.close();
    }
  });
});

describe('splunk_hec: HEC answers and failures', () => {
  let hec: FakeSplunkHec;
  let destination: SplunkHecDestination;
  before(async () => {
    hec = await startFakeSplunkHec({ allowedIndexes: ['main'] });
    destination = new SplunkHecDestination(
      { url: hec.url, token: hec.token },
      context({ timeoutMillis: 500 }),
    );
  });
  after(async () => {
    await destination.close();
    await hec.close();
  });

  const expectedOutcome: Record<string, SendResult['outcome']> = {
    success: 'delivered',
    retryable: 'retryable',
    fatal: 'fatal',
    event: 'rejected',
  };

  test('every documented code 0-27, answered as Splunk answers it, maps to its outcome', async () => {
    assert.deepEqual(
      [...HEC_CODES.keys()],
      Array.from({ length: 28 }, (_, i) => i),
    );
    for (const [code, entry] of HEC_CODES) {
      hec.script(hecAnswer(code));
      const result = await destination.send([outboundEvent({ seq: code + 1 })], never);
      assert.equal(result.outcome, expectedOutcome[entry.kind], `code ${code}`);
      if (result.outcome !== 'delivered') {
        assert.equal(errorCode(result), `HEC_${code}`, `code ${code}`);
        assert.equal('error' in result && result.error.status, entry.httpStatus, `code ${code}`);
      }
    }
  });

  test('real refusals: wrong token 403 code 4, disallowed index 400 code 7 are fatal for the stream', async () => {
    const wrongToken = new SplunkHecDestination({ url: hec.url, token: 'not-the-token' }, context());
    const denied = await wrongToken.send(outboundEvents(2), never);
    assert.equal(denied.outcome, 'fatal');
    assert.equal(errorCode(denied), 'HEC_4');
    assert.equal('error' in denied && denied.error.status, 403);

    const wrongIndex = new SplunkHecDestination(
      { url: hec.url, token: hec.token, index: 'secret' },
      context(),
    );
    const refused = await wrongIndex.send(outboundEvents(2), never);
    assert.equal(refused.outcome, 'fatal');
    assert.equal(errorCode(refused), 'HEC_7');
    assert.match('error' in refused ? refused.error.message : '', /allowed indexes/);
    assert.equal(hec.events.length, 0);
  });

  test('a disabled token is fatal (403 code 1)', async () => {
    const disabled = await startFakeSplunkHec({ tokenDisabled: true });
    try {
      const result = await new SplunkHecDestination(
        { url: disabled.url, token: disabled.token },
        context(),
      ).send(outboundEvents(1), never);
      assert.equal(result.outcome, 'fatal');
      assert.equal(errorCode(result), 'HEC_1');
    } finally {
      await disabled.close();
    }
  });

  test('invalid data format naming one event: that event is rejected, the others are sent again', async () => {
    hec.script(hecAnswer(6, { 'invalid-event-number': 2 }));
    const result = await destination.send(outboundEvents(4), never);
    assert.equal(result.outcome, 'partial');
    assert.ok(result.outcome === 'partial');
    assert.deepEqual(
      result.items.map((item) => item.outcome),
      ['retryable', 'retryable', 'rejected', 'retryable'],
    );
    assert.equal(result.items[2]?.outcome === 'rejected' && result.items[2].error.code, 'HEC_6');
  });

  test('an event refusal without a usable position, or in a batch of one, rejects the batch', async () => {
    hec.script(
      hecAnswer(6),
      hecAnswer(6, { 'invalid-event-number': 9 }),
      hecAnswer(12, { 'invalid-event-number': 0 }),
    );
    assert.equal((await destination.send(outboundEvents(3), never)).outcome, 'rejected');
    assert.equal((await destination.send(outboundEvents(3), never)).outcome, 'rejected');
    const single = await destination.send(outboundEvents(1), never);
    assert.equal(single.outcome, 'rejected');
    assert.equal(errorCode(single), 'HEC_12');
  });

  test('server busy 503 code 9 and queue at capacity 429 code 26 honour Retry-After', async () => {
    hec.script(hecAnswer(9, {}, { 'retry-after': '7' }), hecAnswer(26, {}, { 'retry-after': '2' }));
    const busy = await destination.send(outboundEvents(2), never);
    assert.deepEqual(busy.outcome === 'retryable' && [busy.error.code, busy.retryAfterMillis], [
      'HEC_9',
      7000,
    ]);
    const full = await destination.send(outboundEvents(2), never);
    assert.deepEqual(full.outcome === 'retryable' && [full.error.code, full.retryAfterMillis], [
      'HEC_26',
      2000,
    ]);
  });

  test('answers that are not HEC JSON are classified by HTTP status', async () => {
    hec.script(
      respond(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' }),
      respond(200, ''),
      respond(404, 'Not Found'),
      respond(200, '{"text":"Mystery","code":99}'),
    );
    const gateway = await destination.send(outboundEvents(1), never);
    assert.deepEqual([gateway.outcome, errorCode(gateway)], ['retryable', 'HTTP_502']);
    assert.equal((await destination.send(outboundEvents(1), never)).outcome, 'delivered');
    const missing = await destination.send(outboundEvents(1), never);
    assert.deepEqual([missing.outcome, errorCode(missing)], ['fatal', 'HTTP_404']);
    const mystery = await destination.send(outboundEvents(1), never);
    assert.deepEqual([mystery.outcome, errorCode(mystery)], ['retryable', 'HEC_99']);
  });

  test('a connection reset and a stalled collector are retryable', async () => {
    hec.script(reset('after-body'), stall());
    const resetResult = await destination.send(outboundEvents(2), never);
    assert.equal(resetResult.outcome, 'retryable');
    const stalled = await destination.send(outboundEvents(2), never);
    assert.deepEqual([stalled.outcome, errorCode(stalled)], ['retryable', 'TIMEOUT']);
  });

  test("the runner's abort signal ends a send as a retryable TIMEOUT", async () => {
    hec.script(stall());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50).unref();
    const slow = new SplunkHecDestination(
      { url: hec.url, token: hec.token },
      context({ timeoutMillis: 10_000 }),
    );
    const started = Date.now();
    const result = await slow.send(outboundEvents(1), controller.signal);
    assert.deepEqual([result.outcome, errorCode(result)], ['retryable', 'TIMEOUT']);
    assert.ok(Date.now() - started < 5000);
  });
});

describe('splunk_hec: indexer acknowledgement', () => {
  let hec: FakeSplunkHec;
  before(async () => {
    hec = await startFakeSplunkHec({ indexerAcknowledgement: true });
  });
  after(async () => {
    await hec.close();
  });

  const acked = (settings: Partial<SplunkHecSettings> = {}, overrides: Partial<DestinationContext> = {}) =>
    new SplunkHecDestination(
      { url: hec.url, token: hec.token, indexerAcknowledgement: true, ackTimeoutMillis: 3000, ...settings },
      context(overrides),
    );

  test('delivered only after the ack poll says true; ack ids count up per channel', async () => {
    hec.setAckMode({ kind: 'immediate' });
    const destination = acked();
    const before = hec.ackRequests.length;
    const first = await destination.send(outboundEvents(2), never);
    assert.equal(first.outcome, 'delivered');
    const poll = hec.ackRequests[before];
    assert.ok(poll);
    assert.equal(poll.url, `/services/collector/ack?channel=${destination.channel}`);
    assert.equal(poll.headers.authorization, `Splunk ${hec.token}`);
    assert.equal(poll.headers['x-splunk-request-channel'], destination.channel);
    assert.deepEqual(JSON.parse(poll.bodyText), { acks: [0] });
    assert.equal((await destination.send(outboundEvents(1), never)).outcome, 'delivered');
    assert.deepEqual(JSON.parse(hec.ackRequests.at(-1)?.bodyText ?? ''), { acks: [1] });
    assert.deepEqual(
      hec.events.slice(-3).map((e) => [e.channel, e.ackId]),
      [
        [destination.channel, 0],
        [destination.channel, 0],
        [destination.channel, 1],
      ],
    );
  });

  test('an ack that comes after a few polls is waited for', async () => {
    hec.setAckMode({ kind: 'after', millis: 400 });
    const destination = acked({ ackPollIntervalMillis: 100 });
    const before = hec.ackRequests.length;
    const started = Date.now();
    assert.equal((await destination.send(outboundEvents(1), never)).outcome, 'delivered');
    assert.ok(Date.now() - started >= 400);
    assert.ok(hec.ackRequests.length - before >= 2);
  });

  test('an ack later than ackTimeoutMillis, or never, makes the batch retryable', async () => {
    hec.setAckMode({ kind: 'after', millis: 5000 });
    const late = await acked({ ackTimeoutMillis: 300 }).send(outboundEvents(1), never);
    assert.deepEqual([late.outcome, errorCode(late)], ['retryable', 'HEC_ACK_TIMEOUT']);
    hec.setAckMode({ kind: 'never' });
    const lost = await acked({ ackTimeoutMillis: 300 }).send(outboundEvents(1), never);
    assert.deepEqual([lost.outcome, errorCode(lost)], ['retryable', 'HEC_ACK_TIMEOUT']);
  });

  test('transient poll failures (busy, reset) are retried within the ack time', async () => {
    hec.setAckMode({ kind: 'immediate' });
    const destination = acked({ ackPollIntervalMillis: 50 });
    const posts = hec.eventRequests.length;
    const sending = destination.send(outboundEvents(1), never);
    await until(() => hec.eventRequests.length > posts);
    // The post has arrived; the first two polls meet a busy collector and a reset.
    hec.script(hecAnswer(9), reset());
    assert.equal((await sending).outcome, 'delivered');
    assert.equal(hec.eventRequests.length, posts + 1);
    // Busy, reset, then the poll that says true (requests of earlier tests may still arrive: count ours).
    assert.equal(hec.ackRequests.filter((r) => r.url.endsWith(destination.channel)).length, 3);
  });

  test('an ack timeout names the last poll problem', async () => {
    const destination = acked({ ackTimeoutMillis: 400, ackPollIntervalMillis: 50 });
    const posts = hec.eventRequests.length;
    const sending = destination.send(outboundEvents(1), never);
    await until(() => hec.eventRequests.length > posts);
    hec.server.always(hecAnswer(9));
    try {
      const result = await sending;
      assert.deepEqual([result.outcome, errorCode(result)], ['retryable', 'HEC_ACK_TIMEOUT']);
      assert.match('error' in result ? result.error.message : '', /last poll: HEC_9/);
    } finally {
      hec.server.always(hec.protocol);
    }
  });

  test('acknowledgement on in flowstream but off on the token is fatal, naming the fix', async () => {
    const noAcks = await startFakeSplunkHec({ indexerAcknowledgement: false });
    try {
      const result = await new SplunkHecDestination(
        { url: noAcks.url, token: noAcks.token, indexerAcknowledgement: true },
        context(),
      ).send(outboundEvents(1), never);
      assert.deepEqual([result.outcome, errorCode(result)], ['fatal', 'HEC_ACK_MISSING']);
      assert.match('error' in result ? result.error.message : '', /indexerAcknowledgement/);
    } finally {
      await noAcks.close();
    }
  });

  test('an ack poll refused with code 14 (ACK is disabled) is fatal', async () => {
    hec.setAckMode({ kind: 'immediate' });
    const destination = acked();
    const posts = hec.eventRequests.length;
    const sending = destination.send(outboundEvents(1), never);
    await until(() => hec.eventRequests.length > posts);
    hec.script(hecAnswer(14));
    const result = await sending;
    assert.deepEqual([result.outcome, errorCode(result)], ['fatal', 'HEC_14']);
  });

  test('a configured channel is used for posts and polls', async () => {
    hec.setAckMode({ kind: 'immediate' });
    const channel = 'A1B2C3D4-0000-4000-8000-00000000ABCD';
    const destination = acked({ channel });
    assert.equal((await destination.send(outboundEvents(1), never)).outcome, 'delivered');
    assert.equal(hec.eventRequests.at(-1)?.headers['x-splunk-request-channel'], channel);
    assert.equal(hec.ackRequests.at(-1)?.url, `/services/collector/ack?channel=${channel}`);
  });

  test('close() ends an ack wait at once, as a retryable TIMEOUT', async () => {
    hec.setAckMode({ kind: 'never' });
    const destination = acked({ ackTimeoutMillis: 30_000 });
    const polls = hec.ackRequests.length;
    const sending = destination.send(outboundEvents(1), never);
    await until(() => hec.ackRequests.length > polls);
    const started = Date.now();
    await destination.close();
    await destination.close();
    const result = await sending;
    assert.deepEqual([result.outcome, errorCode(result)], ['retryable', 'TIMEOUT']);
    assert.ok(Date.now() - started < 2000);
  });
});

describe('splunk_hec: definition', () => {
  test('settings refuse unknown keys and check URL, channel and limits', () => {
    const schema = splunkHecDestination.settingsSchema;
    assert.ok(Value.Check(schema, { url: 'https://splunk:8088', token: 't' }));
    assert.ok(
      Value.Check(schema, {
        url: 'http://127.0.0.1:8088/services/collector/event',
        token: 't',
        index: 'main',
        source: 's',
        sourcetype: 'st',
        host: 'h',
        fields: { a: 'b' },
        indexerAcknowledgement: true,
        channel: '7f5e2a1c-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
        gzip: false,
        maxBatchEvents: 10,
        maxBatchBytes: 10_000,
        ackTimeoutMillis: 1000,
        ackPollIntervalMillis: 100,
      }),
    );
    assert.ok(!Value.Check(schema, { url: 'https://splunk:8088', token: 't', tokn: 'x' }));
    assert.ok(!Value.Check(schema, { url: 'ftp://splunk', token: 't' }));
    assert.ok(!Value.Check(schema, { url: 'https://splunk:8088' }));
    assert.ok(!Value.Check(schema, { url: 'https://splunk:8088', token: 't', channel: 'not-a-guid' }));
    assert.ok(!Value.Check(schema, { url: 'https://splunk:8088', token: 't', maxBatchBytes: 10 }));
    assert.ok(!Value.Check(schema, { url: 'https://splunk:8088', token: 't', fields: { a: { b: 1 } } }));
  });

  test('the token is secret; the target is the URL host', () => {
    assert.equal(splunkHecDestination.type, 'splunk_hec');
    assert.deepEqual(splunkHecDestination.secretSettings, ['/token']);
    assert.deepEqual(splunkHecDestination.targets({ url: 'https://splunk.example.com:8088', token: 't' }), [
      'splunk.example.com',
    ]);
    assert.deepEqual(splunkHecDestination.targets({ url: 'http://[::1]:8088', token: 't' }), ['::1']);
  });

  test('epochSecondsWithMillis keeps exactly three decimals', () => {
    assert.equal(epochSecondsWithMillis('2024-04-04T18:30:38.730Z'), '1712255438.730');
    assert.equal(epochSecondsWithMillis('2024-04-04T18:30:38Z'), '1712255438.000');
    assert.equal(epochSecondsWithMillis('2024-04-04T18:30:38.001Z'), '1712255438.001');
    assert.equal(epochSecondsWithMillis('2024-04-04T20:30:38.730+02:00'), '1712255438.730');
    assert.equal(epochSecondsWithMillis('2024-04-04T18:30:38.730'), '1712255438.730');
    assert.equal(epochSecondsWithMillis('632567'), undefined);
    assert.equal(epochSecondsWithMillis(''), undefined);
  });

  test('the fake splits concatenated envelopes as HEC does', () => {
    const split = splitConcatenatedJson('{"event":"a"}{"event":{"b":"}{"}}\n {"event":[1]}');
    assert.ok('values' in split);
    assert.deepEqual(
      split.values.map((v) => v.value),
      [{ event: 'a' }, { event: { b: '}{' } }, { event: [1] }],
    );
    assert.deepEqual(splitConcatenatedJson('{"event":1}{"event":'), { errorAt: 1 });
    assert.deepEqual(splitConcatenatedJson('{"event":1} x'), { errorAt: 1 });
  });
});
