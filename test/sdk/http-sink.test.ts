import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FlowEvent, FlowStartEvent } from '../../src/schema/definitions.js';
import { validateEvent } from '../../src/schema/validate.js';
import { SdkOptionError } from '../../src/sdk/errors.js';
import { ExecutionLog } from '../../src/sdk/execution-log.js';
import type { SinkStats } from '../../src/sdk/sinks/event-sink.js';
import type { HttpSinkOptions, SinkDrop, SinkFailure, SinkRejection } from '../../src/sdk/sinks/http-sink.js';
import { HttpSink, readIngestAnswer } from '../../src/sdk/sinks/http-sink.js';
import type { Behaviour, MisbehavingServer, RecordedRequest } from '../helpers/misbehaving-server.js';
import {
  custom,
  reset,
  respond,
  respondJson,
  stall,
  startMisbehavingServer,
} from '../helpers/misbehaving-server.js';
import { ORG, PARENT_FLOW, USER } from './sdk-fixtures.js';

/** A strict-valid FLOW_START whose execution_id ends with `n` (so tests can read the order back). */
function event(n: number): FlowStartEvent {
  const suffix = n.toString(16).padStart(12, '0');
  return {
    event_type: 'FLOW_START',
    execution_id: `11111111-1111-4111-8111-${suffix}`,
    timestamp: '2024-04-04T18:30:38.730Z',
    flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
    flow_name: 'PDV Log Streaming',
    org_id: ORG.id,
    org_name: ORG.name,
    org_hostname: ORG.hostname,
    user_id: USER.id,
    user_email: USER.email,
    folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV',
    folder_id: '01J2CT7B5P5DFHKFDE85FW6BTV',
    folder_name: ['Examples'],
    engine_mode: 'realtime',
    idempotency_key: `22222222-2222-4222-8222-${suffix}`,
    throttled: false,
    depth: 0,
    address: 'root:kernel:string:0.0.1:compose',
  };
}

/** The `n`s of the events in a recorded request, in body order. */
function numbers(request: RecordedRequest | undefined): number[] {
  const body = JSON.parse(request?.bodyText ?? '[]') as FlowEvent[];
  return body.map((e) => Number.parseInt(e.execution_id.slice(-12), 16));
}

/** Ingest's answer for a well-formed body: everything accepted. */
function ingestOk(): Behaviour {
  return custom((_req, res, recorded) => {
    const count = (JSON.parse(recorded.bodyText) as unknown[]).length;
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accepted: count, duplicates: 0, rejected: [] }));
  });
}

interface Observed {
  readonly drops: SinkDrop[];
  readonly rejections: SinkRejection[];
  readonly failures: SinkFailure[];
}

function newSink(
  server: MisbehavingServer,
  options: Partial<HttpSinkOptions> = {},
): HttpSink & { seen: Observed } {
  const seen: Observed = { drops: [], rejections: [], failures: [] };
  const sink = new HttpSink({
    url: server.url,
    token: 'tok-123',
    scheduledDelayMillis: 20,
    initialBackoffMillis: 10,
    maxBackoffMillis: 50,
    timeoutMillis: 2000,
    shutdownTimeoutMillis: 2000,
    onDrop: (d) => seen.drops.push(d),
    onReject: (r) => seen.rejections.push(...r),
    onFailure: (f) => seen.failures.push(f),
    ...options,
  });
  return Object.assign(sink, { seen });
}

/** The bookkeeping identity every settled sink keeps. */
function assertBalanced(stats: SinkStats): void {
  assert.equal(
    stats.emittedTotal,
    stats.queued +
      stats.inFlight +
      stats.acceptedTotal +
      stats.duplicatesTotal +
      stats.rejectedTotal +
      stats.failedTotal +
      stats.droppedTotal,
    JSON.stringify(stats),
  );
}

describe('HttpSink against a real HTTP server', () => {
  let server: MisbehavingServer;
  before(async () => {
    server = await startMisbehavingServer({ default: ingestOk() });
  });
  after(async () => {
    await server.close();
  });

  const since = (start: number) => server.requests.slice(start);

  test('POSTs a JSON array to {url}/api/v1/events with the bearer token, and reads the 202 body', async () => {
    const start = server.requests.length;
    const sink = newSink(server);
    for (let i = 1; i <= 3; i++) sink.emit(event(i));
    await sink.flush();
    const [request] = since(start);
    assert.equal(since(start).length, 1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/api/v1/events');
    assert.equal(request?.headers.authorization, 'Bearer tok-123');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request?.bodyText ?? ''), [event(1), event(2), event(3)]);
    assert.deepEqual(sink.stats(), {
      emittedTotal: 3,
      queued: 0,
      inFlight: 0,
      sentTotal: 3,
      acceptedTotal: 3,
      duplicatesTotal: 0,
      rejectedTotal: 0,
      droppedTotal: 0,
      failedTotal: 0,
      retriesTotal: 0,
      requestsTotal: 1,
    });
    await sink.shutdown();
  });

  test('a base URL with a path keeps it; SSWS is sent when asked for', async () => {
    const start = server.requests.length;
    const sink = newSink(server, { url: `${server.url}/flowstream`, authScheme: 'SSWS' });
    assert.equal(sink.endpoint, `${server.url}/flowstream/api/v1/events`);
    sink.emit(event(1));
    await sink.flush();
    assert.equal(since(start)[0]?.url, '/flowstream/api/v1/events');
    assert.equal(since(start)[0]?.headers.authorization, 'SSWS tok-123');
    await sink.shutdown();
  });

  test('batches hold at most maxBatchSize events and leave in emit order', async () => {
    const start = server.requests.length;
    const sink = newSink(server, { maxBatchSize: 2 });
    for (let i = 1; i <= 5; i++) sink.emit(event(i));
    await sink.flush();
    assert.deepEqual(since(start).map(numbers), [[1, 2], [3, 4], [5]]);
    await sink.shutdown();
  });

  test('maxBatchBytes splits batches by size; a single larger event still goes, alone', async () => {
    const start = server.requests.length;
    const one = JSON.stringify(event(1)).length;
    const sink = newSink(server, { maxBatchBytes: one * 2 + 2 });
    for (let i = 1; i <= 5; i++) sink.emit(event(i));
    await sink.flush();
    assert.deepEqual(since(start).map(numbers), [[1, 2], [3, 4], [5]]);
    const tiny = newSink(server, { maxBatchBytes: 10 });
    const before = server.requests.length;
    tiny.emit(event(7));
    tiny.emit(event(8));
    await tiny.flush();
    assert.deepEqual(server.requests.slice(before).map(numbers), [[7], [8]]);
    await Promise.all([sink.shutdown(), tiny.shutdown()]);
  });

  test('a partial batch goes out after scheduledDelayMillis without a flush', async () => {
    const start = server.requests.length;
    const sink = newSink(server, { scheduledDelayMillis: 30 });
    sink.emit(event(1));
    assert.equal(since(start).length, 0);
    await server.waitForRequests(start + 1);
    assert.deepEqual(numbers(since(start)[0]), [1]);
    await sink.shutdown();
  });

  test('5xx then ok: the same batch is re-sent with the same idempotency keys', async () => {
    const start = server.requests.length;
    server.script(respond(503, 'busy'), respond(500, 'oops'));
    const sink = newSink(server);
    sink.emit(event(1));
    sink.emit(event(2));
    await sink.flush();
    const requests = since(start);
    assert.equal(requests.length, 3);
    assert.equal(requests[0]?.bodyText, requests[2]?.bodyText);
    const stats = sink.stats();
    assert.deepEqual([stats.retriesTotal, stats.acceptedTotal, stats.failedTotal], [2, 2, 0]);
    await sink.shutdown();
  });

  test('429 with Retry-After: 1 → the retry comes no earlier than one second later', async () => {
    const start = server.requests.length;
    server.script(respond(429, 'slow down', { 'retry-after': '1' }));
    const sink = newSink(server);
    sink.emit(event(1));
    await sink.flush();
    const [first, second] = since(start);
    assert.ok(first && second);
    assert.ok(
      second.receivedAtMillis - first.receivedAtMillis >= 1000,
      `${second.receivedAtMillis - first.receivedAtMillis} ms`,
    );
    assert.equal(sink.stats().acceptedTotal, 1);
    await sink.shutdown();
  });

  test('503 with Retry-After is honoured too; a longer one is cut to maxRetryAfterMillis', async () => {
    const start = server.requests.length;
    server.script(respond(503, 'full', { 'retry-after': '3600' }));
    const sink = newSink(server, { maxRetryAfterMillis: 100 });
    sink.emit(event(1));
    await sink.flush();
    const [first, second] = since(start);
    assert.ok(first && second);
    assert.ok(second.receivedAtMillis - first.receivedAtMillis >= 100);
    await sink.shutdown();
  });

  test('connection resets (before and after the body was read) are retried', async () => {
    const start = server.requests.length;
    server.script(reset('on-headers'), reset('after-body'));
    const sink = newSink(server);
    sink.emit(event(1));
    await sink.flush();
    assert.equal(since(start).length, 3);
    assert.equal(sink.stats().acceptedTotal, 1);
    assert.equal(sink.stats().retriesTotal, 2);
    await sink.shutdown();
  });

  test('a server that stalls past timeoutMillis is given up on for that request and retried', async () => {
    const start = server.requests.length;
    server.script(stall());
    const sink = newSink(server, { timeoutMillis: 300 });
    sink.emit(event(1));
    await sink.flush();
    assert.equal(since(start).length, 2);
    assert.deepEqual([sink.stats().acceptedTotal, sink.stats().retriesTotal], [1, 1]);
    await sink.shutdown();
  });

  test('202 with per-index rejected: those are rejected (not retried), the rest accepted or duplicates', async () => {
    const start = server.requests.length;
    const errors = [{ path: '/duration', code: 'FS_TYPE', message: 'duration must be a number' }];
    server.script(
      respondJson(202, {
        accepted: 2,
        duplicates: 1,
        rejected: [
          { index: 1, errors },
          { index: 99, errors },
        ],
      }),
    );
    const sink = newSink(server);
    for (let i = 1; i <= 4; i++) sink.emit(event(i));
    await sink.flush();
    assert.equal(since(start).length, 1);
    const stats = sink.stats();
    assert.deepEqual(
      [stats.sentTotal, stats.acceptedTotal, stats.duplicatesTotal, stats.rejectedTotal],
      [4, 2, 1, 1],
    );
    assert.deepEqual(sink.seen.rejections, [{ json: JSON.stringify(event(2)), status: 202, errors }]);
    assertBalanced(stats);
    await sink.shutdown();
  });

  test('400 with rejected indexes: the whole batch is rejected with the reasons, never re-sent', async () => {
    const start = server.requests.length;
    const errors = [{ path: '/flow_id', code: 'FS_REQUIRED', message: 'flow_id is required' }];
    server.script(respondJson(400, { accepted: 0, duplicates: 0, rejected: [{ index: 0, errors }] }));
    const sink = newSink(server);
    sink.emit(event(1));
    sink.emit(event(2));
    await sink.flush();
    assert.equal(since(start).length, 1);
    assert.equal(sink.stats().rejectedTotal, 2);
    assert.equal(sink.stats().retriesTotal, 0);
    assert.deepEqual(sink.seen.rejections[0], { json: JSON.stringify(event(1)), status: 400, errors });
    assert.deepEqual(sink.seen.rejections[1]?.errors, [
      { path: '', code: 'HTTP_400', message: 'the destination answered HTTP 400' },
    ]);
    assertBalanced(sink.stats());
    await sink.shutdown();
  });

  test('413 splits the batch in halves until it fits; one event too large is rejected', async () => {
    const start = server.requests.length;
    const tooLarge = custom((_req, res, recorded) => {
      const count = (JSON.parse(recorded.bodyText) as unknown[]).length;
      const hasHuge = recorded.bodyText.includes('HUGE');
      if (count > 2 || hasHuge) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end('{"errorCode":"E0000054","errorSummary":"too large"}');
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: count, duplicates: 0, rejected: [] }));
    });
    server.always(tooLarge);
    try {
      const sink = newSink(server);
      for (let i = 1; i <= 5; i++) sink.emit(event(i));
      sink.emit({ ...event(6), flow_name: 'HUGE' });
      await sink.flush();
      assert.deepEqual(since(start).map(numbers), [
        [1, 2, 3, 4, 5, 6],
        [1, 2, 3],
        [1, 2],
        [3],
        [4, 5, 6],
        [4, 5],
        [6],
      ]);
      const stats = sink.stats();
      assert.deepEqual([stats.acceptedTotal, stats.rejectedTotal, stats.retriesTotal], [5, 1, 0]);
      assert.equal(sink.seen.rejections[0]?.status, 413);
      assertBalanced(stats);
      await sink.shutdown();
    } finally {
      server.always(ingestOk());
    }
  });

  test('401 and 403 count the batch as failed at once; later batches are still tried', async () => {
    const start = server.requests.length;
    server.script(
      respondJson(401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorCauses: [] }),
      respondJson(403, { errorCode: 'E0000006', errorSummary: 'forbidden', errorCauses: [] }),
    );
    const sink = newSink(server);
    sink.emit(event(1));
    await sink.flush();
    sink.emit(event(2));
    await sink.flush();
    sink.emit(event(3));
    await sink.flush();
    assert.equal(since(start).length, 3);
    const stats = sink.stats();
    assert.deepEqual([stats.failedTotal, stats.acceptedTotal, stats.retriesTotal], [2, 1, 0]);
    assert.deepEqual(
      sink.seen.failures.map((f) => [f.error.code, f.events, f.attempts]),
      [
        ['HTTP_401', 1, 1],
        ['HTTP_403', 1, 1],
      ],
    );
    await sink.shutdown();
  });

  test('a batch is given up after retryTimeoutMillis of retryable failures', async () => {
    const start = server.requests.length;
    server.always(respond(503, 'down'));
    try {
      const sink = newSink(server, { retryTimeoutMillis: 300 });
      sink.emit(event(1));
      await sink.flush();
      assert.ok(since(start).length >= 2);
      assert.equal(sink.stats().failedTotal, 1);
      assert.equal(sink.seen.failures[0]?.error.code, 'HTTP_503');
      assertBalanced(sink.stats());
      await sink.shutdown();
    } finally {
      server.always(ingestOk());
    }
  });

  test('retries keep the order: a later batch waits for the earlier one', async () => {
    const start = server.requests.length;
    server.script(respond(502), respond(502));
    const sink = newSink(server, { maxBatchSize: 2 });
    for (let i = 1; i <= 6; i++) sink.emit(event(i));
    await sink.flush();
    assert.deepEqual(since(start).map(numbers), [
      [1, 2],
      [1, 2],
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    await sink.shutdown();
  });

  test('gzip: the body goes compressed and says so', async () => {
    const start = server.requests.length;
    const sink = newSink(server, { gzip: true });
    for (let i = 1; i <= 20; i++) sink.emit(event(i));
    await sink.flush();
    const [request] = since(start);
    assert.equal(request?.headers['content-encoding'], 'gzip');
    assert.ok((request?.rawBody.byteLength ?? 0) < (request?.body.byteLength ?? 0));
    assert.equal(numbers(request).length, 20);
    await sink.shutdown();
  });

  test('queue full: new events are dropped and counted, memory stays bounded', async () => {
    server.always(stall());
    try {
      const sink = newSink(server, { maxQueueSize: 10, maxBatchSize: 5, shutdownTimeoutMillis: 200 });
      for (let i = 1; i <= 100; i++) sink.emit(event(i));
      const stats = sink.stats();
      // The first 5 left in a batch at once (stalled in flight); 10 wait; the rest were dropped.
      assert.deepEqual([stats.inFlight, stats.queued, stats.droppedTotal], [5, 10, 85]);
      assert.equal(sink.seen.drops.length, 85);
      assert.deepEqual(sink.seen.drops[0], { reason: 'queue_full', events: 1 });
      assertBalanced(stats);
      await sink.shutdown();
      const end = sink.stats();
      // At the deadline the stalled request is abandoned (failed) and the queue dropped.
      assert.deepEqual([end.inFlight, end.queued, end.failedTotal, end.droppedTotal], [0, 0, 5, 95]);
      assert.deepEqual(sink.seen.drops.at(-1), { reason: 'shutdown', events: 10 });
      assert.equal(sink.seen.failures[0]?.error.code, 'SHUTDOWN');
      assertBalanced(end);
    } finally {
      server.always(ingestOk());
    }
  });

  test('emit never blocks: 100k events while the server stalls, the event loop keeps turning', async () => {
    server.always(stall());
    try {
      const sink = newSink(server, { shutdownTimeoutMillis: 100, timeoutMillis: 60_000 });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      const returned: unknown[] = [];
      const payload = event(1);
      for (let i = 0; i < 100_000; i++) {
        returned.push(sink.emit(payload));
        // Give the loop a turn now and then, as an engine would between executions.
        if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
      }
      // While the request is still stalled, timers fire: nothing in emit waits for the network.
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(ticker);
      assert.ok(ticks > 0);
      assert.ok(returned.every((r) => r === undefined));
      const stats = sink.stats();
      assert.equal(stats.emittedTotal, 100_000);
      assert.ok(stats.queued <= 2048);
      assert.equal(stats.inFlight, 500);
      assert.equal(stats.acceptedTotal, 0);
      assertBalanced(stats);
      await sink.shutdown();
      assertBalanced(sink.stats());
    } finally {
      server.always(ingestOk());
    }
  });

  test('flush with nothing queued resolves; concurrent flushes both resolve; shutdown is idempotent', async () => {
    const sink = newSink(server);
    await sink.flush();
    sink.emit(event(1));
    const first = sink.flush();
    sink.emit(event(2));
    const second = sink.flush();
    await Promise.all([first, second]);
    assert.equal(sink.stats().acceptedTotal, 2);
    const a = sink.shutdown();
    const b = sink.shutdown();
    assert.equal(a, b);
    await a;
    sink.emit(event(3));
    await sink.flush();
    await sink.shutdown();
    assert.equal(sink.stats().droppedTotal, 1);
    assert.deepEqual(sink.seen.drops, [{ reason: 'shutdown', events: 1 }]);
  });

  test('shutdown sends what is queued before it resolves', async () => {
    const start = server.requests.length;
    const sink = newSink(server, { scheduledDelayMillis: 60_000 });
    sink.emit(event(1));
    sink.emit(event(2));
    await sink.shutdown();
    assert.deepEqual(numbers(since(start)[0]), [1, 2]);
    assert.equal(sink.stats().acceptedTotal, 2);
  });

  test('an event that cannot be serialized is dropped, not thrown', () => {
    const sink = newSink(server);
    const cyclic: Record<string, unknown> = { ...event(1) };
    cyclic.self = cyclic;
    assert.doesNotThrow(() => sink.emit(cyclic as unknown as FlowEvent));
    assert.doesNotThrow(() => sink.emit({ ...event(1), big: 1n } as unknown as FlowEvent));
    assert.equal(sink.stats().droppedTotal, 2);
    assert.deepEqual(sink.seen.drops[0], { reason: 'not_serializable', events: 1 });
    return sink.shutdown();
  });

  test('a throwing callback does not stop delivery', async () => {
    server.script(respond(401));
    const sink = newSink(server, {
      onFailure: () => {
        throw new Error('callback bug');
      },
    });
    sink.emit(event(1));
    await sink.flush();
    sink.emit(event(2));
    await sink.flush();
    assert.deepEqual([sink.stats().failedTotal, sink.stats().acceptedTotal], [1, 1]);
    await sink.shutdown();
  });

  test('end to end: an ExecutionLog over an HttpSink delivers strict-valid events in order', async () => {
    const start = server.requests.length;
    const sink = newSink(server);
    const log = new ExecutionLog({ org: ORG, sink });
    const run = log.start(PARENT_FLOW, { user: USER, address: 'root:kernel:http:0.0.1:api_endpoint' });
    run.step(2);
    run.complete({ address: 'root:kernel:control:0.0.1:return' });
    await log.shutdown();
    const body = since(start).flatMap((r) => JSON.parse(r.bodyText) as unknown[]);
    assert.deepEqual(
      body.map((e) => (e as FlowEvent).event_type),
      ['FLOW_START', 'FLOW_COMPLETE'],
    );
    for (const e of body) assert.equal(validateEvent(e, 'strict').ok, true);
  });
});

describe('HttpSink without a server', () => {
  test('connection refused is retried, then the batch fails with the network code', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const failures: SinkFailure[] = [];
    const sink = new HttpSink({
      url: `http://127.0.0.1:${port}`,
      token: 't',
      initialBackoffMillis: 10,
      maxBackoffMillis: 20,
      retryTimeoutMillis: 200,
      onFailure: (f) => failures.push(f),
    });
    sink.emit(event(1));
    await sink.flush();
    assert.equal(sink.stats().failedTotal, 1);
    assert.ok(sink.stats().retriesTotal >= 1);
    assert.equal(failures[0]?.error.code, 'ECONNREFUSED');
    await sink.shutdown();
  });

  test('a broken dispatcher still settles every batch: flush resolves, the events count as failed', async () => {
    const network = {
      allowPrivateNetworks: true,
      get dispatcher(): never {
        throw new Error('dispatcher gone');
      },
      lookup: () => {},
      checkHost: async () => {},
    };
    const failures: SinkFailure[] = [];
    const sink = new HttpSink({
      url: 'http://127.0.0.1:1',
      token: 't',
      network: network as never,
      initialBackoffMillis: 5,
      maxBackoffMillis: 10,
      retryTimeoutMillis: 60,
      onFailure: (f) => failures.push(f),
    });
    sink.emit(event(1));
    await sink.flush();
    await sink.shutdown();
    assert.equal(sink.stats().failedTotal, 1);
    assert.match(failures[0]?.error.message ?? '', /dispatcher gone/);
  });

  test('options that cannot work throw SdkOptionError naming the option', () => {
    const cases: [Partial<HttpSinkOptions>, RegExp][] = [
      [{ url: 'not a url' }, /url/],
      [{ url: 'ftp://x' }, /url/],
      [{ token: '' }, /token/],
      [{ token: 'a\r\nb' }, /token/],
      [{ maxQueueSize: 0 }, /maxQueueSize/],
      [{ maxBatchSize: 1.5 }, /maxBatchSize/],
      [{ timeoutMillis: -1 }, /timeoutMillis/],
      [{ maxBackoffMillis: 1, initialBackoffMillis: 10 }, /maxBackoffMillis/],
      [{ authScheme: 'Basic' as never }, /authScheme/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new HttpSink({ url: 'http://127.0.0.1:1', token: 't', ...options }),
        (err: unknown) => err instanceof SdkOptionError && message.test(err.message),
      );
    }
  });

  test('readIngestAnswer tolerates malformed bodies', () => {
    assert.deepEqual(readIngestAnswer(undefined, 3), { duplicates: 0, rejected: [] });
    assert.deepEqual(readIngestAnswer({ duplicates: -1, rejected: 'x' }, 3), { duplicates: 0, rejected: [] });
    assert.deepEqual(
      readIngestAnswer(
        { duplicates: 1, rejected: [{ index: 2 }, { index: 2, errors: [{}] }, { index: 0.5 }, null] },
        3,
      ),
      { duplicates: 1, rejected: [{ index: 2, errors: [{ path: '', code: 'UNKNOWN', message: '' }] }] },
    );
  });
});
