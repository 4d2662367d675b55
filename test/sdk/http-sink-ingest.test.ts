import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/load-config.js';
import type { FlowEvent } from '../../src/schema/definitions.js';
import { validateEvent } from '../../src/schema/validate.js';
import { ExecutionLog } from '../../src/sdk/execution-log.js';
import type { SinkFailure, SinkRejection } from '../../src/sdk/sinks/http-sink.js';
import { HttpSink } from '../../src/sdk/sinks/http-sink.js';
import type { Service } from '../../src/server/service.js';
import { startService } from '../../src/server/service.js';
import { HELPER_FLOW, ORG, PARENT_FLOW, USER } from './sdk-fixtures.js';

/**
 * The SDK against flowstream's own ingest (real server, real SQLite log): what the sink reads from
 * the 202 body is what ingest answers, and what the SDK produces is what ingest stores.
 */

const WRITER = 'sdk-writer-token-0123456789';
const OTHER_ORG_WRITER = 'sdk-other-org-token-0123456789';

describe('HttpSink → flowstream ingest', () => {
  let dir: string;
  let service: Service;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fs-sdk-'));
    const config = resolveConfig({
      server: { host: '127.0.0.1', port: 0 },
      storage: { path: dir },
      auth: {
        tokens: [
          { name: 'writer', token: WRITER, org: ORG.id, scopes: ['events:write'] },
          {
            name: 'other',
            token: OTHER_ORG_WRITER,
            org: '01J29TH3XHECT79M257GG2QTKK',
            scopes: ['events:write'],
          },
        ],
      },
    });
    service = await startService({ config, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an engine run is stored event for event, typed as produced', async () => {
    const firstSeq = service.log.lastSeq();
    const sink = new HttpSink({ url: service.url, token: WRITER, scheduledDelayMillis: 10 });
    const log = new ExecutionLog({ org: ORG, sink });
    const run = log.start(PARENT_FLOW, { user: USER, address: 'root:kernel:http:0.0.1:api_endpoint' });
    const helper = run.startChild(HELPER_FLOW, { address: 'root:kernel:control:0.0.1:callable' });
    helper.step(2);
    helper.complete({ address: 'root:kernel:control:0.0.1:return' });
    run.rateLimited({
      address: 'http:request:2.0.0',
      statusCode: 429,
      backoffSeconds: 30,
      hostname: 'api.example.com',
    });
    run.step(5);
    run.complete({ address: 'root:kernel:control:0.0.1:return' });
    await log.shutdown();
    const stats = sink.stats();
    assert.deepEqual(
      [stats.acceptedTotal, stats.rejectedTotal, stats.failedTotal, stats.droppedTotal],
      [5, 0, 0, 0],
    );
    const stored = await service.log.readAfter(firstSeq, 100);
    assert.deepEqual(
      stored.map((e) => e.eventType),
      ['FLOW_START', 'FLOW_START', 'FLOW_COMPLETE', 'FLOW_RATE_LIMIT', 'FLOW_COMPLETE'],
    );
    for (const e of stored) {
      const event = JSON.parse(e.json) as FlowEvent;
      assert.equal(validateEvent(event, 'strict').ok, true);
      assert.equal(e.idempotencyKey, event.idempotency_key);
    }
  });

  test("a re-sent event is counted as a duplicate, an invalid one as rejected with ingest's reasons", async () => {
    const rejections: SinkRejection[] = [];
    const captured: FlowEvent[] = [];
    const log = new ExecutionLog({
      org: ORG,
      sink: {
        emit: (e) => captured.push(e),
        flush: async () => {},
        shutdown: async () => {},
        stats: () => sink.stats(),
      },
    });
    log.start(PARENT_FLOW, { user: USER, address: 'root:kernel:http:0.0.1:api_endpoint' });
    const [event] = captured;
    assert.ok(event);
    const sink = new HttpSink({ url: service.url, token: WRITER, onReject: (r) => rejections.push(...r) });
    sink.emit(event);
    sink.emit(event);
    sink.emit({
      ...event,
      idempotency_key: '99999999-9999-4999-8999-999999999999',
      duration: 'long',
    } as never);
    sink.emit({
      ...event,
      idempotency_key: '99999999-9999-4999-8999-999999999998',
      flow_id: undefined,
    } as never);
    await sink.shutdown();
    const stats = sink.stats();
    assert.deepEqual(
      [stats.acceptedTotal, stats.duplicatesTotal, stats.rejectedTotal, stats.requestsTotal],
      [2, 1, 1, 1],
    );
    assert.equal(rejections.length, 1);
    assert.equal(rejections[0]?.status, 202);
    assert.deepEqual(
      rejections[0]?.errors.map((e) => e.path),
      ['/flow_id'],
    );
  });

  test('a bad token (401) and a token for another org (403) fail the batch without retrying', async () => {
    const failures: SinkFailure[] = [];
    const captured: FlowEvent[] = [];
    const log = new ExecutionLog({
      org: ORG,
      sink: {
        emit: (e) => captured.push(e),
        flush: async () => {},
        shutdown: async () => {},
        stats: () => bad.stats(),
      },
    });
    log.start(PARENT_FLOW, { user: USER, address: 'root:kernel:http:0.0.1:api_endpoint' });
    const [event] = captured;
    assert.ok(event);
    const bad = new HttpSink({ url: service.url, token: 'nope', onFailure: (f) => failures.push(f) });
    const other = new HttpSink({
      url: service.url,
      token: OTHER_ORG_WRITER,
      onFailure: (f) => failures.push(f),
    });
    bad.emit(event);
    other.emit(event);
    await Promise.all([bad.shutdown(), other.shutdown()]);
    assert.deepEqual(
      failures.map((f) => [f.error.code, f.attempts]),
      [
        ['HTTP_401', 1],
        ['HTTP_403', 1],
      ],
    );
    assert.deepEqual([bad.stats().retriesTotal, other.stats().retriesTotal], [0, 0]);
  });
});
