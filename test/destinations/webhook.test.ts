import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import type {
  DestinationContext,
  OutboundEvent,
  SendResult,
  StreamFormat,
} from '../../src/destinations/destination.js';
import {
  DEFAULT_MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  type WebhookSettings,
  webhookDestination,
  webhookSignature,
} from '../../src/destinations/webhook.js';
import { cloudEventJson } from '../../src/formats/cloudevents.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import {
  type MisbehavingServer,
  reset,
  respond,
  stall,
  startMisbehavingServer,
  streamBody,
} from '../helpers/misbehaving-server.js';
import { fromJson, outboundEvent, outboundEvents, SEED_EXAMPLES } from '../helpers/outbound-events.js';

const network = openNetworkPolicy();
const logger = pino({ level: 'silent' });

function context(format: StreamFormat = 'okta', timeoutMillis = 5000): DestinationContext {
  return { streamId: 'siem', streamName: 'Local webhook', format, network, logger, timeoutMillis };
}

const live = new AbortController().signal;

describe('webhook against a real server', () => {
  let server: MisbehavingServer;
  before(async () => {
    server = await startMisbehavingServer();
  });
  after(async () => {
    await server.close();
    await network.dispatcher.close();
  });

  /** Sends `batch` and returns the result and the one request it made. */
  async function exchange(
    settings: Partial<WebhookSettings>,
    batch: readonly OutboundEvent[],
    format: StreamFormat = 'okta',
    timeoutMillis = 5000,
  ) {
    const destination = webhookDestination.create(
      { url: `${server.url}/ingest`, ...settings },
      context(format, timeoutMillis),
    );
    const first = server.requests.length;
    const result = await destination.send(batch, live);
    await destination.close();
    return { result, requests: server.requests.slice(first), destination };
  }

  describe('formats', () => {
    const seed = SEED_EXAMPLES.map((json, i) => fromJson(json, i + 1));

    test('object (default): one event per request, the stored JSON as the body', async () => {
      const destination = webhookDestination.create({ url: `${server.url}/ingest` }, context());
      assert.equal(destination.maxBatchEvents, 1);
      const { result, requests } = await exchange({}, [seed[1] as OutboundEvent]);
      assert.deepEqual(result, { outcome: 'delivered', bytes: Buffer.byteLength(SEED_EXAMPLES[1] ?? '') });
      assert.equal(requests.length, 1);
      const [request] = requests;
      assert.ok(request);
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/ingest');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['x-flowstream-idempotency-key'], '3c38b738b561288ddc8d345a3b59e6f7');
      assert.match(request.headers['user-agent'] ?? '', /^flowstream\/\d/);
      assert.equal(request.headers['x-flowstream-signature'], undefined);
      assert.equal(request.headers['content-encoding'], undefined);
      assert.equal(request.bodyText, SEED_EXAMPLES[1]);
    });

    test('array: the events as a JSON array, in order', async () => {
      const { result, requests } = await exchange({ format: 'array' }, seed);
      assert.equal(result.outcome, 'delivered');
      const [request] = requests;
      assert.equal(request?.headers['content-type'], 'application/json');
      assert.equal(request?.headers['x-flowstream-idempotency-key'], undefined);
      assert.equal(request?.bodyText, `[${SEED_EXAMPLES.join(',')}]`);
    });

    test('ndjson: one event per line', async () => {
      const destination = webhookDestination.create({ url: server.url, format: 'ndjson' }, context());
      assert.equal(destination.maxBatchEvents, MAX_BATCH_EVENTS);
      assert.equal(destination.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES);
      const { requests } = await exchange({ format: 'ndjson' }, seed);
      assert.equal(requests[0]?.headers['content-type'], 'application/x-ndjson');
      assert.equal(requests[0]?.bodyText, `${SEED_EXAMPLES.join('\n')}\n`);
    });

    test('cloudevents structured mode for object', async () => {
      const event = seed[0] as OutboundEvent;
      const { requests } = await exchange({}, [event], 'cloudevents');
      assert.equal(requests[0]?.headers['content-type'], 'application/cloudevents+json');
      assert.equal(requests[0]?.bodyText, cloudEventJson(event));
      const ce = JSON.parse(requests[0]?.bodyText ?? '') as Record<string, unknown>;
      assert.equal(ce.id, '67c775008e83c5205f1114a86bba2521');
      assert.equal(ce.type, 'com.okta.workflows.execution.flow_start');
      assert.equal(ce.source, '/flowstream/orgs/00o4mhtja45vHndwd0g7/flows/632567');
    });

    test('cloudevents batched mode for array', async () => {
      const { requests } = await exchange({ format: 'array' }, seed, 'cloudevents');
      assert.equal(requests[0]?.headers['content-type'], 'application/cloudevents-batch+json');
      assert.equal(requests[0]?.bodyText, `[${seed.map((e) => cloudEventJson(e)).join(',')}]`);
    });

    test('cloudevents with ndjson: one structured event per line', async () => {
      const { requests } = await exchange({ format: 'ndjson' }, seed, 'cloudevents');
      assert.equal(requests[0]?.headers['content-type'], 'application/x-ndjson');
      assert.equal(requests[0]?.bodyText, seed.map((e) => `${cloudEventJson(e)}\n`).join(''));
    });

    test('an empty batch sends nothing', async () => {
      const { result, requests } = await exchange({ format: 'array' }, []);
      assert.deepEqual(result, { outcome: 'delivered', bytes: 0 });
      assert.equal(requests.length, 0);
    });
  });

  describe('headers, gzip and signing', () => {
    test('configured headers are sent; a configured Content-Type replaces ours', async () => {
      const { requests } = await exchange(
        {
          format: 'ndjson',
          headers: { Authorization: 'Bearer s3cret', 'Content-Type': 'application/json', 'X-Tenant': 'a' },
        },
        outboundEvents(2),
      );
      const headers = requests[0]?.headers;
      assert.equal(headers?.authorization, 'Bearer s3cret');
      assert.equal(headers?.['content-type'], 'application/json');
      assert.equal(headers?.['x-tenant'], 'a');
    });

    test('gzip compresses the body, and the receiver gets the same events', async () => {
      const batch = outboundEvents(50);
      const { result, requests } = await exchange({ format: 'ndjson', gzip: true }, batch);
      assert.equal(result.outcome, 'delivered');
      const [request] = requests;
      assert.equal(request?.headers['content-encoding'], 'gzip');
      assert.equal(request?.bodyText, batch.map((e) => `${e.json}\n`).join(''));
      assert.ok((request?.rawBody.byteLength ?? 0) < (request?.body.byteLength ?? 0) / 3);
    });

    test('the signature verifies with the receiver code in docs/destinations/webhook.md', async () => {
      const verify = await loadDocumentedVerifier();
      const secret = 'whsec_0123456789abcdef';
      for (const gzip of [false, true]) {
        const { requests } = await exchange(
          { format: 'array', signingSecret: secret, gzip },
          outboundEvents(3),
        );
        const [request] = requests;
        assert.ok(request);
        const header = request.headers['x-flowstream-signature'];
        assert.equal(typeof header, 'string');
        assert.match(String(header), /^t=\d+,v1=[0-9a-f]{64}$/);
        assert.equal(verify(secret, String(header), request.body), true);
        assert.equal(verify('another-secret-0000', String(header), request.body), false);
        const tampered = Buffer.from(request.body);
        tampered[5] = (tampered[5] ?? 0) ^ 1;
        assert.equal(verify(secret, String(header), tampered), false);
      }
      // A signature older than the tolerance is refused by the documented code.
      const body = Buffer.from('{"a":1}');
      const old = webhookSignature(secret, body, Math.floor(Date.now() / 1000) - 3600);
      assert.equal(verify(secret, old, body), false);
      assert.equal(verify(secret, webhookSignature(secret, body, Math.floor(Date.now() / 1000)), body), true);
    });

    test('webhookSignature is HMAC-SHA256 of "<t>.<body>"', () => {
      // Reference value computed independently: printf '1712255438.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
      assert.equal(
        webhookSignature('whsec_0123456789abcdef', '{"a":1}', 1712255438),
        `t=1712255438,v1=${REFERENCE_HMAC}`,
      );
    });
  });

  describe('failures', () => {
    const one = [outboundEvent({ seq: 1 })];
    const retryable = (result: SendResult) => {
      assert.equal(result.outcome, 'retryable');
      assert.ok(result.outcome === 'retryable');
      return result;
    };

    test('503 with Retry-After is retryable after that delay', async () => {
      server.script(respond(503, 'maintenance', { 'retry-after': '120' }));
      const result = retryable((await exchange({}, one)).result);
      assert.equal(result.retryAfterMillis, 120_000);
      assert.equal(result.error.code, 'HTTP_503');
      assert.equal(result.error.response, 'maintenance');
    });

    test('429 with an HTTP-date Retry-After is retryable', async () => {
      const at = new Date(Date.now() + 60_000).toUTCString();
      server.script(respond(429, '', { 'retry-after': at }));
      const result = retryable((await exchange({}, one)).result);
      assert.ok((result.retryAfterMillis ?? 0) > 50_000 && (result.retryAfterMillis ?? 0) <= 60_000);
    });

    test('a reset connection is retryable', async () => {
      server.script(reset('after-body'));
      const result = retryable((await exchange({ format: 'ndjson' }, outboundEvents(5))).result);
      assert.notEqual(result.error.code, 'TIMEOUT');
    });

    test('a stalled receiver is a TIMEOUT after the stream timeout', async () => {
      server.script(stall());
      const result = retryable((await exchange({}, one, 'okta', 250)).result);
      assert.equal(result.error.code, 'TIMEOUT');
    });

    test('400 is rejected (the runner bisects), 413 too', async () => {
      server.script(respond(400, '{"error":"bad event"}'), respond(413));
      assert.equal((await exchange({}, one)).result.outcome, 'rejected');
      assert.equal((await exchange({ format: 'array' }, outboundEvents(4))).result.outcome, 'rejected');
    });

    test('401 and 403 are fatal for the stream', async () => {
      server.script(respond(401), respond(403));
      assert.equal((await exchange({}, one)).result.outcome, 'fatal');
      assert.equal((await exchange({}, one)).result.outcome, 'fatal');
    });

    test('a redirect is not followed and is fatal', async () => {
      server.script(respond(307, '', { location: `${server.url}/other` }));
      const { result, requests } = await exchange({}, one);
      assert.equal(result.outcome, 'fatal');
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'HTTP_307');
      // Let any follow-up arrive, then check only the original request was made.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(requests.length, 1);
      assert.equal(server.requests.filter((r) => r.url === '/other').length, 0);
    });

    test('a huge 200 body is not read whole: delivered, and the receiver was not drained', async () => {
      const streamedBefore = server.bytesStreamed;
      const total = 8 * 1024 * 256 * 1024; // 2 GiB offered
      server.script(streamBody(200, Buffer.alloc(256 * 1024, 'g'), 8 * 1024));
      const { result } = await exchange({}, one);
      assert.equal(result.outcome, 'delivered');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(server.bytesStreamed - streamedBefore < total / 16);
    });

    test('a garbage 500 body is kept, truncated to 2 KiB', async () => {
      server.script(respond(500, Buffer.alloc(100_000, 0xfe)));
      const result = retryable((await exchange({}, one)).result);
      assert.ok((result.error.response?.length ?? 0) <= 2049);
    });
  });
});

describe('webhook settings', () => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  const validate = ajv.compile(webhookDestination.settingsSchema);
  const valid = (settings: unknown) => validate(settings) === true;

  test('valid settings', () => {
    assert.ok(valid({ url: 'http://127.0.0.1:9000/ingest' }));
    assert.ok(
      valid({
        url: 'https://collector.example.com',
        headers: { Authorization: 'Bearer x' },
        format: 'ndjson',
      }),
    );
    assert.ok(
      valid({
        url: 'HTTPS://[::1]:8443/a?b=c@d',
        format: 'array',
        gzip: true,
        signingSecret: 'x'.repeat(16),
      }),
    );
    assert.ok(valid({ url: 'https://h', maxBatchBytes: 1024 * 1024 }));
  });

  const invalid: Array<[string, unknown]> = [
    ['missing url', {}],
    ['unknown key', { url: 'https://h', method: 'PUT' }],
    ['ftp url', { url: 'ftp://h/x' }],
    ['no scheme', { url: 'h:9000/x' }],
    ['credentials in the url', { url: 'https://user:pass@h/x' }],
    ['unknown format', { url: 'https://h', format: 'xml' }],
    ['short signing secret', { url: 'https://h', signingSecret: 'short' }],
    ['non-string header', { url: 'https://h', headers: { 'X-A': 1 } }],
    ['header value with CRLF', { url: 'https://h', headers: { 'X-A': 'a\r\nX-B: b' } }],
    ['header name with a space', { url: 'https://h', headers: { 'X A': 'a' } }],
    ['reserved header', { url: 'https://h', headers: { 'content-length': '5' } }],
    ['reserved header, other case', { url: 'https://h', headers: { 'Content-Encoding': 'br' } }],
    ['reserved header, upper case', { url: 'https://h', headers: { HOST: 'x' } }],
    ['our signature header', { url: 'https://h', headers: { 'X-Flowstream-Signature': 'x' } }],
    ['gzip not a boolean', { url: 'https://h', gzip: 'yes' }],
    ['tiny maxBatchBytes', { url: 'https://h', maxBatchBytes: 10 }],
  ];
  for (const [name, settings] of invalid) {
    test(`refused: ${name}`, () => {
      assert.equal(valid(settings), false);
    });
  }

  test('a header whose name only starts like a reserved one is fine', () => {
    assert.ok(
      valid({ url: 'https://h', headers: { 'Content-Type': 'application/json', 'Host-Alias': 'x' } }),
    );
  });

  test('headers and the signing secret are secret', () => {
    assert.deepEqual([...webhookDestination.secretSettings].sort(), ['/headers/*', '/signingSecret']);
  });

  test('targets: the URL host, IPv6 without brackets', () => {
    assert.deepEqual(webhookDestination.targets({ url: 'https://collector.example.com:8443/x' }), [
      'collector.example.com',
    ]);
    assert.deepEqual(webhookDestination.targets({ url: 'http://[::1]:9000/' }), ['::1']);
    assert.deepEqual(webhookDestination.targets({ url: 'http://10.0.0.7/' }), ['10.0.0.7']);
  });

  test('maxBatchBytes also caps one event', () => {
    const destination = webhookDestination.create(
      { url: 'https://h', format: 'array', maxBatchBytes: 2048 },
      context(),
    );
    assert.equal(destination.maxBatchBytes, 2048);
    assert.equal(destination.maxEventBytes, 2048);
  });
});

/** HMAC-SHA256('whsec_0123456789abcdef', '1712255438.{"a":1}'), from openssl. */
const REFERENCE_HMAC = '00eae3aae3f4f1195f6b9c62bca6e0f839e7c6adc4b96b7b9a5165f48af49562';

type Verifier = (secret: string, header: string, rawBody: Buffer, toleranceSeconds?: number) => boolean;

/** Extracts the marked ```js block from the webhook docs and imports it as a module. */
async function loadDocumentedVerifier(): Promise<Verifier> {
  const doc = await readFile(new URL('../../docs/destinations/webhook.md', import.meta.url), 'utf8');
  const match = /<!-- receiver-verify[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(match?.[1], 'the receiver-verify block is in docs/destinations/webhook.md');
  const dir = await mkdtemp(join(tmpdir(), 'flowstream-webhook-'));
  try {
    const file = join(dir, 'verify.mjs');
    await writeFile(file, match[1]);
    const module = (await import(pathToFileURL(file).href)) as { verifyFlowstreamSignature: Verifier };
    return module.verifyFlowstreamSignature;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
