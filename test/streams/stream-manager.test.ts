import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { OutboundEvent } from '../../src/destinations/destination.js';
import type { EventLog } from '../../src/log/event-log.js';
import { openSqliteEventLog } from '../../src/log/sqlite-event-log.js';
import { type NetworkPolicy, openNetworkPolicy } from '../../src/net/network-policy.js';
import { hashEmail } from '../../src/streams/pii.js';
import { REDACTED } from '../../src/streams/redact.js';
import { StreamError } from '../../src/streams/stream-errors.js';
import type { StreamInput } from '../../src/streams/stream-input.js';
import { StreamManager, type StreamManagerOptions } from '../../src/streams/stream-manager.js';
import { makeEvents, nOf } from './helpers/events.js';
import { FAST_DELIVERY, silentLogger } from './helpers/harness.js';
import { MemoryEventLog } from './helpers/memory-event-log.js';
import { deliverAll, fatal, rejectWhere, retryable, TestPeer, testDefinition } from './helpers/test-peer.js';
import { delay, waitFor } from './helpers/wait.js';

const fastDelivery = { ...FAST_DELIVERY };

let dir: string;
let log: EventLog;
let peers: Map<string, TestPeer>;
let registry: Registry;
let network: NetworkPolicy;
const managers: StreamManager[] = [];

function synthetic(): OutboundEvent {
  const event = {
    event_type: 'FLOW_START',
    execution_id: 'synthetic',
    user_email: 'test@example.corp',
    n: -1,
  };
  return {
    seq: 0,
    eventType: 'FLOW_START',
    orgId: 'o',
    flowId: 'f',
    executionId: 'synthetic',
    idempotencyKey: 'synthetic-key',
    timestamp: new Date().toISOString(),
    event,
    json: JSON.stringify(event),
  };
}

function manager(overrides: Partial<StreamManagerOptions> = {}): StreamManager {
  const definition = testDefinition(peers);
  const m = new StreamManager({
    directory: dir,
    log,
    resolveDestination: (type) => (type === definition.type ? (definition as never) : undefined),
    network,
    logger: silentLogger,
    registry,
    syntheticEvent: synthetic,
    restartDeadlineMillis: 500,
    runner: { progressFlushMillis: 5, abortGraceMillis: 200 },
    ...overrides,
  });
  managers.push(m);
  return m;
}

function input(overrides: Partial<StreamInput> = {}): StreamInput {
  return {
    name: 'SIEM',
    type: 'test',
    settings: { peer: 'a', token: 'tok-secret-1' },
    delivery: fastDelivery,
    ...overrides,
  };
}

function peer(name: string, p = new TestPeer()): TestPeer {
  peers.set(name, p);
  return p;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fs-manager-'));
  log = new MemoryEventLog();
  peers = new Map();
  registry = new Registry();
  const open = openNetworkPolicy();
  network = {
    ...open,
    checkHost: async (host: string) => {
      if (host === 'forbidden.internal') throw new Error('private addresses are not allowed');
    },
  };
});

afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop(0);
  await log.close();
  await network.dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

async function expectStreamError(promise: Promise<unknown>, code: string): Promise<StreamError> {
  try {
    await promise;
  } catch (err: unknown) {
    assert.ok(err instanceof StreamError, `expected a StreamError, got ${String(err)}`);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('StreamManager: definitions', () => {
  test('create applies defaults, starts at the end of the log, and delivers what comes after', async () => {
    const a = peer('a');
    await log.append(makeEvents(5));
    const m = manager();
    await m.start();
    const s = await m.create(input({ id: 'siem' }));
    assert.equal(s.id, 'siem');
    assert.equal(s.org, '*');
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s.format, 'okta');
    assert.deepEqual(s.filter, {});
    assert.equal(s.created, s.lastUpdated);
    await log.append(makeEvents(3, { start: 5 }));
    await waitFor(() => a.received.length === 3, 'new events delivered');
    assert.deepEqual(a.received.map(nOf), [5, 6, 7], 'older events are not sent to a new stream');
    assert.deepEqual(
      m.list().map((x) => x.id),
      ['siem'],
    );
    assert.equal(m.get('siem')?.name, 'SIEM');
    assert.equal(m.get('nope'), undefined);
  });

  test('an id is generated when absent', async () => {
    peer('a');
    const m = manager({ newId: () => 'generated-1' });
    await m.start();
    assert.equal((await m.create(input())).id, 'generated-1');
  });

  test('invalid settings: FS_STREAM_INVALID naming each setting, never quoting values', async () => {
    peer('a');
    const m = manager();
    await m.start();
    const err = await expectStreamError(
      m.create(input({ settings: { token: 'super-secret-value', extra: 1 } })),
      'FS_STREAM_INVALID',
    );
    assert.equal(err.httpStatus, 400);
    const messages = err.causes.map((c) => `${c.path}: ${c.message}`);
    assert.ok(messages.includes('/settings/peer: settings.peer is required'), messages.join('; '));
    assert.ok(
      messages.includes('/settings/extra: settings.extra is not a known setting of test'),
      messages.join('; '),
    );
    assert.ok(!JSON.stringify(err.causes).includes('super-secret-value'));
    assert.equal(m.list().length, 0, 'nothing saved');
  });

  test('unknown type, unknown event type in the filter, bad delivery values, unknown fields', async () => {
    const m = manager();
    await m.start();
    let err = await expectStreamError(m.create(input({ type: 'carrier_pigeon' })), 'FS_STREAM_INVALID');
    assert.equal(err.causes[0]?.path, '/type');
    err = await expectStreamError(
      m.create(input({ filter: { eventTypes: ['FLOW_START', 'FLOW_EXPLODE'] } })),
      'FS_STREAM_INVALID',
    );
    assert.equal(err.causes[0]?.path, '/filter/eventTypes/1');
    err = await expectStreamError(m.create(input({ delivery: { concurrency: 0 } })), 'FS_STREAM_INVALID');
    assert.equal(err.causes[0]?.path, '/delivery/concurrency');
    err = await expectStreamError(m.create({ ...input(), colour: 'blue' }), 'FS_STREAM_INVALID');
    assert.match(err.message, /colour is not a known field/);
    await expectStreamError(m.create('not an object'), 'FS_STREAM_INVALID');
  });

  test('an alias in the filter is stored as its canonical type', async () => {
    peer('a');
    const m = manager();
    await m.start();
    const s = await m.create(input({ filter: { eventTypes: ['FLOW_FAILED'] } }));
    assert.deepEqual(s.filter.eventTypes, ['FLOW_FAIL']);
  });

  test('a destination host refused by the network policy: FS_STREAM_DESTINATION_FORBIDDEN', async () => {
    peer('a');
    const m = manager();
    await m.start();
    const err = await expectStreamError(
      m.create(input({ settings: { peer: 'a', host: 'forbidden.internal' } })),
      'FS_STREAM_DESTINATION_FORBIDDEN',
    );
    assert.match(err.message, /forbidden\.internal/);
  });

  test('settings the destination cannot use (create throws): FS_STREAM_INVALID, nothing saved', async () => {
    const m = manager();
    await m.start();
    await expectStreamError(m.create(input({ settings: { peer: 'nobody' } })), 'FS_STREAM_INVALID');
    assert.equal(m.list().length, 0);
  });

  test('create with an existing id: FS_STREAM_EXISTS; unknown ids: FS_STREAM_NOT_FOUND', async () => {
    peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    const err = await expectStreamError(m.create(input({ id: 'x' })), 'FS_STREAM_EXISTS');
    assert.equal(err.httpStatus, 409);
    await expectStreamError(m.update('nope', input()), 'FS_STREAM_NOT_FOUND');
    await expectStreamError(m.delete('nope'), 'FS_STREAM_NOT_FOUND');
    await expectStreamError(m.health('nope'), 'FS_STREAM_NOT_FOUND');
    await expectStreamError(m.activate('nope'), 'FS_STREAM_NOT_FOUND');
    assert.throws(
      () => m.deadLetters('nope'),
      (e: unknown) => e instanceof StreamError && e.code === 'FS_STREAM_NOT_FOUND',
    );
  });

  test('redacted() hides secrets; update keeps a secret sent back as the placeholder, and the cursor', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x', transforms: { hashUserEmail: { key: 'pii-key-0123456789' } } }));
    const shown = m.redacted(m.get('x') ?? assert.fail());
    assert.equal(shown.settings.token, REDACTED);
    assert.equal(shown.transforms.hashUserEmail?.key, REDACTED);
    assert.equal(m.get('x')?.settings.token, 'tok-secret-1', 'stored value untouched');

    await log.append(makeEvents(2));
    await waitFor(() => a.received.length === 2, 'delivered');
    const updated = await m.update('x', { ...shown, name: 'Renamed' });
    assert.equal(updated.name, 'Renamed');
    assert.equal(updated.settings.token, 'tok-secret-1');
    assert.equal(updated.transforms.hashUserEmail?.key, 'pii-key-0123456789');
    assert.equal(updated.created, shown.created);
    await m.update('x', { ...shown, settings: { peer: 'a', token: 'tok-new' } });
    assert.equal(m.get('x')?.settings.token, 'tok-new');
    assert.equal((await m.health('x')).cursor, 2, 'an update keeps the cursor');
    await log.append(makeEvents(1, { start: 2 }));
    await waitFor(() => a.received.length === 3, 'the restarted runner delivers');
    await expectStreamError(m.update('x', { ...input(), id: 'y' }), 'FS_STREAM_INVALID');
  });

  test('config streams are upserted at start with stable ids; a restart keeps cursor and counters', async () => {
    log = openSqliteEventLog({ directory: dir });
    const a = peer('a');
    const config = [input({ id: 'cfg', name: 'From config' })];
    let m = manager({ configStreams: config });
    await m.start();
    await log.append(makeEvents(4));
    await waitFor(() => a.received.length === 4, 'delivered');
    await m.stop(1000);

    await log.append(makeEvents(3, { start: 4 })); // ingested while the service is down
    m = manager({
      configStreams: [input({ id: 'cfg', name: 'Renamed in config' })],
      registry: new Registry(),
    });
    await m.start();
    assert.equal(m.get('cfg')?.name, 'Renamed in config');
    await waitFor(() => a.received.length === 7, 'the rest delivered after restart');
    assert.deepEqual(a.received.map(nOf), [0, 1, 2, 3, 4, 5, 6]);
    const health = await m.health('cfg');
    assert.equal(health.deliveredTotal, 7);
    assert.equal(health.cursor, 7);
  });
});

describe('StreamManager: lifecycle and health', () => {
  test('deactivate → INACTIVE (nothing sent); activate resumes from the cursor', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    const off = await m.deactivate('x');
    assert.equal(off.status, 'INACTIVE');
    await log.append(makeEvents(3));
    await delay(50);
    assert.equal(a.received.length, 0);
    const h = await m.health('x');
    assert.equal(h.status, 'INACTIVE');
    assert.equal(h.lagEvents, 3);
    assert.ok(h.lagSeconds >= 0);
    assert.equal((await m.activate('x')).status, 'ACTIVE');
    await waitFor(() => a.received.length === 3, 'delivered after activation');
    await waitFor(() => a.received.length === 3, 'x');
    const after = await m.health('x');
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after.lagEvents, 0);
    assert.equal(after.lagSeconds, 0);
    assert.equal(after.deliveredTotal, 3);
    assert.match(after.lastDeliveredAt ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(after.lastError, null);
  });

  test('a stream created INACTIVE does not run until activated', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x', status: 'INACTIVE' }));
    await log.append(makeEvents(2));
    await delay(30);
    assert.equal(a.opened, 0);
    await m.activate('x');
    await waitFor(() => a.received.length === 2, 'delivered');
  });

  test('fatal → DEGRADED → PAUSED (survives a restart); activate resumes from the cursor', async () => {
    const a = peer('a', new TestPeer(() => fatal('HTTP_403')));
    let m = manager();
    await m.start();
    await m.create(
      input({ id: 'x', delivery: { ...fastDelivery, retryMaxMillis: 20, pauseAfterMillis: 150 } }),
    );
    await log.append(makeEvents(3));
    await waitFor(() => a.calls.length > 0, 'first attempt');
    assert.equal((await m.health('x')).status, 'DEGRADED');
    await waitFor(() => a.closed === a.opened, 'paused and closed', 5000);
    const paused = await m.health('x');
    assert.equal(paused.status, 'PAUSED');
    assert.equal(paused.lastError?.code, 'HTTP_403');
    assert.equal(paused.lastError?.status, 403);
    assert.ok(paused.consecutiveFailures >= 2);
    assert.equal(paused.lagEvents, 3);

    await m.stop(100);
    m = manager({ registry: new Registry() });
    await m.start();
    assert.equal((await m.health('x')).status, 'PAUSED', 'a restart does not resume a paused stream');
    const calls = a.calls.length;
    await delay(50);
    assert.equal(a.calls.length, calls);

    a.script = deliverAll;
    await m.activate('x');
    await waitFor(() => a.received.length === 3, 'resumed');
    const h = await m.health('x');
    assert.equal(h.status, 'ACTIVE');
    assert.equal(h.consecutiveFailures, 0);
  });

  test('retryable failures show DEGRADED with lastError and consecutiveFailures', async () => {
    peer('a', new TestPeer(() => retryable('HTTP_503')));
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    await log.append(makeEvents(2));
    await waitFor(() => (peers.get('a')?.calls.length ?? 0) >= 3, 'failures');
    const h = await m.health('x');
    assert.equal(h.status, 'DEGRADED');
    assert.equal(h.lastError?.code, 'HTTP_503');
    assert.ok(h.consecutiveFailures >= 3);
    assert.equal(h.lagEvents, 2);
    assert.deepEqual(Object.keys(h).sort(), [
      'consecutiveFailures',
      'cursor',
      'deadLetteredTotal',
      'deliveredTotal',
      'expiredTotal',
      'lagEvents',
      'lagSeconds',
      'lastDeliveredAt',
      'lastError',
      'status',
    ]);
  });

  test('test() sends one synthetic event (transforms applied) straight to the destination', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(
      input({ id: 'x', status: 'INACTIVE', transforms: { hashUserEmail: { key: 'pii-key-0123456789' } } }),
    );
    const result = await m.test('x');
    assert.equal(result.outcome, 'delivered');
    assert.equal(a.received.length, 1);
    assert.equal(a.received[0]?.executionId, 'synthetic');
    assert.equal(a.received[0]?.event.user_email, hashEmail('test@example.corp', 'pii-key-0123456789'));
    assert.equal(log.lastSeq(), 0, 'not through the log');
    assert.equal(a.closed, a.opened, 'the test destination is closed');
    a.script = () => fatal('HTTP_401');
    const bad = await m.test('x');
    assert.equal(bad.outcome, 'fatal');
    assert.equal((await m.health('x')).deliveredTotal, 0, 'a test does not count as delivery');
  });

  test('replay re-delivers from a time (ingest clock); a time after the cursor moves nothing', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    await log.append(makeEvents(3));
    await delay(20);
    const middle = Date.now();
    await delay(5);
    await log.append(makeEvents(3, { start: 3 }));
    await waitFor(() => a.received.length === 6, 'first delivery');
    const r = await m.replay('x', middle);
    assert.deepEqual(r, { previousCursor: 6, cursor: 3 });
    await waitFor(() => a.received.length === 9, 'replayed');
    assert.deepEqual(a.received.map(nOf), [0, 1, 2, 3, 4, 5, 3, 4, 5]);
    const future = await m.replay('x', Date.now() + 60_000);
    assert.deepEqual(future, { previousCursor: 6, cursor: 6 });
    const all = await m.replay('x', 0);
    assert.equal(all.cursor, 0);
    await waitFor(() => a.received.length === 15, 'replayed from the start');
  });

  test('replay on an inactive stream moves the cursor without starting it', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    await log.append(makeEvents(2));
    await waitFor(() => a.received.length === 2, 'delivered');
    await m.deactivate('x');
    assert.equal((await m.replay('x', 0)).cursor, 0);
    await delay(30);
    assert.equal(a.received.length, 2);
    assert.equal((await m.health('x')).status, 'INACTIVE');
  });

  test('dead letters: listed in pages; redelivery removes delivered ones and keeps the rest with attempts+1', async () => {
    const poison = new Set([1, 3, 5]);
    const a = peer('a', new TestPeer(rejectWhere((e) => poison.has(nOf(e)))));
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    await log.append(makeEvents(8));
    await waitFor(() => a.received.length === 5, 'good events delivered');
    await waitFor(() => m.deadLetters('x').items.length === 3, 'dead letters stored');
    const page1 = m.deadLetters('x', { limit: 2 });
    assert.deepEqual(
      page1.items.map((d) => d.seq),
      [2, 4],
    );
    const page2 = m.deadLetters('x', { limit: 2, after: page1.nextAfter ?? 0 });
    assert.deepEqual(
      page2.items.map((d) => d.seq),
      [6],
    );
    assert.equal(page2.nextAfter, null);
    assert.equal((await m.health('x')).deadLetteredTotal, 3);

    poison.delete(1);
    poison.delete(5);
    const report = await m.redeliverDeadLetters('x');
    assert.equal(report.delivered, 2);
    assert.equal(report.remaining, 1);
    assert.deepEqual(
      report.results.map((r) => [r.seq, r.outcome]),
      [
        [2, 'delivered'],
        [4, 'rejected'],
        [6, 'delivered'],
      ],
    );
    const left = m.deadLetters('x').items;
    assert.deepEqual(
      left.map((d) => d.seq),
      [4],
    );
    const attemptsBefore = page1.items[1]?.attempts ?? 0;
    assert.equal(left[0]?.attempts, attemptsBefore + 1);
    assert.equal((await m.health('x')).deliveredTotal, 7);

    // A destination that is down ends the run; the rest are left untouched.
    a.script = () => retryable('HTTP_503');
    const second = await m.redeliverDeadLetters('x', [left[0]?.id ?? -1]);
    assert.deepEqual(
      second.results.map((r) => r.outcome),
      ['retryable'],
    );
    assert.equal(m.deadLetters('x').items[0]?.error.code, 'HTTP_503');
  });

  test('delete stops the runner, removes state and metric series', async () => {
    const a = peer('a');
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    await log.append(makeEvents(2));
    await waitFor(() => a.received.length === 2, 'delivered');
    assert.match(await registry.metrics(), /stream="x"/);
    await m.delete('x');
    assert.equal(m.get('x'), undefined);
    assert.equal(a.closed, a.opened);
    assert.doesNotMatch(await registry.metrics(), /stream="x"/);
    await log.append(makeEvents(2, { start: 2 }));
    await delay(30);
    assert.equal(a.received.length, 2);
  });

  test('lag gauges are computed at scrape time', async () => {
    peer('a', new TestPeer(() => retryable()));
    const m = manager();
    await m.start();
    await m.create(input({ id: 'x' }));
    await log.append(makeEvents(4));
    await delay(30);
    const text = await registry.metrics();
    assert.match(text, /flowstream_stream_lag_events\{stream="x"\} 4/);
    assert.match(text, /flowstream_stream_lag_seconds\{stream="x"\} \d/);
  });

  test('operations after stop(): FS_STREAM_MANAGER_STOPPED', async () => {
    const m = manager();
    await m.start();
    await m.stop(0);
    await m.stop(0);
    assert.throws(
      () => m.list(),
      (e: unknown) => e instanceof StreamError && e.code === 'FS_STREAM_MANAGER_STOPPED',
    );
  });
});

describe('StreamManager: isolation and shutdown', () => {
  test('a hanging destination does not slow another stream or ingest', async () => {
    const hang = peer('hang', new TestPeer(() => 'hang'));
    const fast = peer('fast');
    const m = manager();
    await m.start();
    await m.create(
      input({
        id: 'a',
        settings: { peer: 'hang' },
        delivery: { ...fastDelivery, requestTimeoutMillis: 60_000 },
      }),
    );
    await m.create(input({ id: 'b', settings: { peer: 'fast' } }));
    for (let i = 0; i < 20; i++) await log.append(makeEvents(50, { start: i * 50, executions: 10 }));
    await waitFor(() => fast.received.length === 1000, 'stream b delivers everything', 10_000);
    assert.equal(hang.received.length, 0);
    assert.equal(hang.inFlight, 1, 'stream a is stuck on its first send');
    assert.equal((await m.health('b')).lagEvents, 0);
    assert.equal((await m.health('a')).lagEvents, 1000);
  });

  test('stop(deadline) aborts in-flight sends after the deadline; they are re-sent after restart', async () => {
    const a = peer('a', new TestPeer(() => 'hang'));
    let m = manager();
    await m.start();
    await m.create(input({ id: 'x', delivery: { ...fastDelivery, requestTimeoutMillis: 60_000 } }));
    await log.append(makeEvents(3));
    await waitFor(() => a.inFlight === 1, 'in flight');
    const started = Date.now();
    await m.stop(150);
    assert.ok(Date.now() - started >= 140);
    assert.equal(a.aborted, 1);
    assert.equal(a.closed, a.opened);

    a.script = deliverAll;
    m = manager({ registry: new Registry() });
    await m.start();
    await waitFor(() => a.received.length === 3, 're-sent after restart');
    assert.deepEqual(a.received.map(nOf), [0, 1, 2]);
  });
});
