import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { validateEvent } from '../../src/schema/validate.js';
import { SdkOptionError } from '../../src/sdk/errors.js';
import { ExecutionLog } from '../../src/sdk/execution-log.js';
import type { EventSink } from '../../src/sdk/sinks/event-sink.js';
import { EMPTY_SINK_STATS } from '../../src/sdk/sinks/event-sink.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';
import { hashEmail } from '../../src/streams/pii.js';
import { GRANDCHILD_FLOW, HELPER_FLOW, harness, ORG, PARENT_FLOW, USER } from './sdk-fixtures.js';

const START_ADDRESS = 'root:kernel:http:0.0.1:api_endpoint';
const RETURN_ADDRESS = 'root:kernel:control:0.0.1:return';

function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

describe('ExecutionLog.start and the handle', () => {
  test('FLOW_START of a root execution has exactly the Base Schema fields, depth 0 and the address', () => {
    const { log, sink, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    assert.equal(run.executionId, uuid(1));
    assert.equal(run.depth, 0);
    assert.deepEqual(sink.events, [
      {
        event_type: 'FLOW_START',
        execution_id: uuid(1),
        timestamp: '2024-04-04T18:30:38.730Z',
        flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
        flow_name: 'PDV Log Streaming',
        org_id: ORG.id,
        org_name: 'logstream-01',
        org_hostname: 'atko.okta.com',
        user_id: USER.id,
        user_email: 'jessie.doe@example.corp',
        folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
        folder_id: '01J2CT9EN0Q26F3BX8YMWE1EDX',
        folder_name: ['My parent folder', 'My child folder'],
        engine_mode: 'realtime',
        idempotency_key: uuid(2),
        throttled: false,
        depth: 0,
        address: START_ADDRESS,
      },
    ]);
    // Key order follows the seed's Base Schema table, then the type's own fields.
    assert.deepEqual(Object.keys(sink.events[0] ?? {}).slice(0, 3), [
      'event_type',
      'execution_id',
      'timestamp',
    ]);
    assert.deepEqual(errors, []);
  });

  test('FLOW_COMPLETE carries the monotonic duration in whole ms, the counted steps, and ends the execution', () => {
    const { log, sink, clock, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.step();
    clock.advance(1000.4);
    run.step(106);
    run.step(1);
    clock.advance(826.9);
    assert.equal(run.ended, false);
    run.complete({ address: RETURN_ADDRESS });
    assert.equal(run.ended, true);
    const complete = sink.events[1];
    assert.ok(complete?.event_type === 'FLOW_COMPLETE');
    assert.equal(complete.duration, 1827);
    assert.equal(complete.step_count, 108);
    assert.equal(complete.address, RETURN_ADDRESS);
    assert.equal(complete.timestamp, '2024-04-04T18:30:40.557Z');
    assert.equal(complete.execution_id, run.executionId);
    assert.notEqual(complete.idempotency_key, sink.events[0]?.idempotency_key);
    assert.equal('depth' in complete, false);
    assert.deepEqual(errors, []);
  });

  test('the wall clock going backwards does not make durations negative or wrong', () => {
    let wall = Date.parse('2024-04-04T18:30:38.730Z');
    let mono = 50;
    const sink = new MemorySink();
    const log = new ExecutionLog({ org: ORG, sink, now: () => wall, monotonicNow: () => mono });
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    wall -= 60_000; // NTP step back
    mono += 250;
    run.complete({ address: RETURN_ADDRESS });
    const complete = sink.events[1];
    assert.ok(complete?.event_type === 'FLOW_COMPLETE');
    assert.equal(complete.duration, 250);
    assert.equal(complete.timestamp, '2024-04-04T18:29:38.730Z');
  });

  test('a terminal event ends the handle once: later calls are ignored and counted, never thrown', () => {
    const { log, sink, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.cancel({ address: 'gmail:sendEmail:example:1.0.17' });
    assert.doesNotThrow(() => {
      run.complete({ address: RETURN_ADDRESS });
      run.fail({ address: 'a', errorMessage: 'm', errorCode: 'c', errorType: 't', fatal: true });
      run.cancel({ address: 'a' });
      run.pause({ address: 'a' });
      run.step(3);
    });
    assert.deepEqual(
      sink.events.map((e) => e.event_type),
      ['FLOW_START', 'FLOW_CANCEL'],
    );
    assert.equal(log.stats().callsAfterEnd, 5);
    assert.equal(log.stats().executionsEnded, 1);
    assert.deepEqual(
      errors.map((e) => [e.code, e.executionId]),
      Array.from({ length: 5 }, () => ['SDK_EXECUTION_ENDED', run.executionId]),
    );
    assert.equal(errors[0]?.eventType, 'FLOW_COMPLETE');
  });

  test('a non-fatal fail leaves the execution running; a fatal one ends it', () => {
    const { log, sink, clock, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.step(5);
    clock.advance(7200);
    run.fail({
      address: 'gmail:sendEmail:example:1.0.17',
      errorMessage: 'Example error message',
      errorCode: 'XXXXX_XXXXX',
      errorType: 'example_error',
      fatal: false,
      retryPolicy: 'flow',
      retryDelaySeconds: 600,
    });
    assert.equal(run.ended, false);
    run.step(7);
    run.fail({
      address: 'gmail:sendEmail:example:1.0.17',
      errorMessage: 'Example error message',
      errorCode: 'XXXXX_XXXXX',
      errorType: 'example_error',
      fatal: true,
    });
    assert.equal(run.ended, true);
    const [retry, fatal] = sink.events.slice(1);
    assert.ok(retry?.event_type === 'FLOW_FAIL' && fatal?.event_type === 'FLOW_FAIL');
    assert.deepEqual(
      {
        duration: retry.duration,
        step_count: retry.step_count,
        fatal: retry.fatal,
        retry_policy: retry.retry_policy,
        retry_delay: retry.retry_delay,
        error_message: retry.error_message,
        error_code: retry.error_code,
        error_type: retry.error_type,
      },
      {
        duration: 7200,
        step_count: 5,
        fatal: false,
        retry_policy: 'flow',
        retry_delay: 600,
        error_message: 'Example error message',
        error_code: 'XXXXX_XXXXX',
        error_type: 'example_error',
      },
    );
    assert.equal(fatal.fatal, true);
    assert.equal(fatal.step_count, 12);
    // "If applicable" fields that do not apply are left out, never null.
    assert.equal('retry_policy' in fatal, false);
    assert.equal('retry_delay' in fatal, false);
    assert.deepEqual(errors, []);
  });

  test('pause and rate limit carry their typed fields; pause_duration is left out when not given', () => {
    const { log, sink, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.pause({ address: 'root:kernel:flow:0.0.1:wait', pauseDurationMillis: 7200 });
    run.pause({ address: 'root:kernel:flow:0.0.1:pause' });
    run.rateLimited({
      address: 'gmail:sendEmail:example:1.0.17',
      statusCode: 429,
      backoffSeconds: 30,
      hostname: 'example.com',
    });
    const [, pause, pauseOpen, rate] = sink.events;
    assert.ok(pause?.event_type === 'FLOW_PAUSE' && pauseOpen?.event_type === 'FLOW_PAUSE');
    assert.equal(pause.pause_duration, 7200);
    assert.equal('pause_duration' in pauseOpen, false);
    assert.ok(rate?.event_type === 'FLOW_RATE_LIMIT');
    assert.deepEqual(
      [rate.address, rate.status_code, rate.backoff_duration, rate.hostname],
      ['gmail:sendEmail:example:1.0.17', 429, 30, 'example.com'],
    );
    assert.equal(run.ended, false);
    assert.deepEqual(errors, []);
  });

  test('after throttled(), the execution and children started later carry throttled: true and the throttled engine mode', () => {
    const { log, sink, errors } = harness({ throttledEngineMode: 'throttled' });
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    const before = run.startChild(HELPER_FLOW, { address: 'root:kernel:control:0.0.1:callable' });
    run.throttled({ throttlingType: 'execution_limit', throttlingLevel: 'org' });
    assert.equal(run.isThrottled, true);
    const after = run.startChild(HELPER_FLOW, { address: 'root:kernel:control:0.0.1:callable' });
    before.complete({ address: RETURN_ADDRESS });
    after.complete({ address: RETURN_ADDRESS });
    run.complete({ address: RETURN_ADDRESS });
    const summary = sink.events.map((e) => [e.event_type, e.execution_id, e.throttled, e.engine_mode]);
    assert.deepEqual(summary, [
      ['FLOW_START', run.executionId, false, 'realtime'],
      ['FLOW_START', before.executionId, false, 'realtime'],
      ['FLOW_THROTTLE', run.executionId, true, 'throttled'],
      ['FLOW_START', after.executionId, true, 'throttled'],
      ['FLOW_COMPLETE', before.executionId, false, 'realtime'],
      ['FLOW_COMPLETE', after.executionId, true, 'throttled'],
      ['FLOW_COMPLETE', run.executionId, true, 'throttled'],
    ]);
    const throttle = sink.events[2];
    assert.ok(throttle?.event_type === 'FLOW_THROTTLE');
    assert.equal(throttle.throttling_type, 'execution_limit');
    assert.equal(throttle.throttling_level, 'org');
    assert.deepEqual(errors, []);
  });

  test('start({ throttled: true }) and engineMode apply from the first event', () => {
    const { log, sink } = harness({ engineMode: 'batch' });
    log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS, throttled: true });
    log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    assert.deepEqual(
      sink.events.map((e) => [e.throttled, e.engine_mode]),
      [
        [true, 'batch'],
        [false, 'batch'],
      ],
    );
  });

  test('helper flows carry parent_* and root_* from the chain, depth + 1 each level', () => {
    const { log, sink, errors } = harness();
    const root = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    const child = root.startChild(HELPER_FLOW, { address: 'root:kernel:control:0.0.1:callable' });
    const grandchild = child.startChild(GRANDCHILD_FLOW, { address: 'root:kernel:control:0.0.1:callable' });
    assert.deepEqual([root.depth, child.depth, grandchild.depth], [0, 1, 2]);
    const [rootStart, childStart, grandStart] = sink.events;
    assert.ok(
      rootStart && childStart?.event_type === 'FLOW_START' && grandStart?.event_type === 'FLOW_START',
    );
    for (const key of ['parent_execution_id', 'root_execution_id', 'parent_flow_id', 'root_flow_name']) {
      assert.equal(key in rootStart, false, `${key} must be left out of a root execution's events`);
    }
    assert.deepEqual(
      {
        depth: childStart.depth,
        parent_execution_id: childStart.parent_execution_id,
        parent_flow_id: childStart.parent_flow_id,
        parent_flow_name: childStart.parent_flow_name,
        root_execution_id: childStart.root_execution_id,
        root_flow_id: childStart.root_flow_id,
        root_flow_name: childStart.root_flow_name,
      },
      {
        depth: 1,
        parent_execution_id: root.executionId,
        parent_flow_id: PARENT_FLOW.id,
        parent_flow_name: PARENT_FLOW.name,
        root_execution_id: root.executionId,
        root_flow_id: PARENT_FLOW.id,
        root_flow_name: PARENT_FLOW.name,
      },
    );
    assert.deepEqual(
      {
        depth: grandStart.depth,
        parent_execution_id: grandStart.parent_execution_id,
        parent_flow_id: grandStart.parent_flow_id,
        parent_flow_name: grandStart.parent_flow_name,
        root_execution_id: grandStart.root_execution_id,
        root_flow_id: grandStart.root_flow_id,
        root_flow_name: grandStart.root_flow_name,
        folder_id_path: grandStart.folder_id_path,
      },
      {
        depth: 2,
        parent_execution_id: child.executionId,
        parent_flow_id: HELPER_FLOW.id,
        parent_flow_name: HELPER_FLOW.name,
        root_execution_id: root.executionId,
        root_flow_id: PARENT_FLOW.id,
        root_flow_name: PARENT_FLOW.name,
        // An empty idPath means the folder is at the top: its path is its own id.
        folder_id_path: GRANDCHILD_FLOW.folder.id,
      },
    );
    // The child's terminal events carry the same chain.
    grandchild.complete({ address: RETURN_ADDRESS });
    const grandComplete = sink.events[3];
    assert.equal(grandComplete?.parent_execution_id, child.executionId);
    assert.equal(grandComplete?.root_execution_id, root.executionId);
    assert.deepEqual(errors, []);
  });

  test('a child uses the parent user by default, or its own; an engine may give execution ids', () => {
    const { log, sink } = harness();
    const other = { id: '01J29TTS7X37QSTKPJBGS52ENG', email: 'other@example.corp' };
    const root = log.start(PARENT_FLOW, {
      user: USER,
      address: START_ADDRESS,
      executionId: '326b7317-6ea5-4d6a-a9f5-0ee8675c0428',
    });
    root.startChild(HELPER_FLOW, { address: 'a:b' });
    root.startChild(HELPER_FLOW, {
      address: 'a:b',
      user: other,
      executionId: '538911d5-6234-4edc-9f24-38bb633a4574',
    });
    assert.deepEqual(
      sink.events.map((e) => [e.execution_id, e.user_id, e.user_email]),
      [
        ['326b7317-6ea5-4d6a-a9f5-0ee8675c0428', USER.id, USER.email],
        [uuid(2), USER.id, USER.email],
        ['538911d5-6234-4edc-9f24-38bb633a4574', other.id, other.email],
      ],
    );
  });

  test('startChild works after the parent ended (an asynchronous call outlives its caller)', () => {
    const { log, sink, errors } = harness();
    const root = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    root.complete({ address: RETURN_ADDRESS });
    const child = root.startChild(HELPER_FLOW, { address: 'root:kernel:control:0.0.1:async' });
    assert.equal(sink.events[2]?.parent_execution_id, root.executionId);
    assert.equal(child.ended, false);
    assert.deepEqual(errors, []);
  });

  test('hashUserEmail replaces user_email by the streams HMAC, on children too', () => {
    const { log, sink } = harness({ hashUserEmail: { key: 'k3y' } });
    const root = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    root.startChild(HELPER_FLOW, { address: 'a:b' }).complete({ address: RETURN_ADDRESS });
    const expected = hashEmail(USER.email, 'k3y');
    assert.match(expected, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      sink.events.map((e) => e.user_email),
      [expected, expected, expected],
    );
    assert.equal(JSON.stringify(sink.events).includes(USER.email), false);
  });

  test('every event of a full run is strict-valid and has a fresh idempotency_key', () => {
    const { log, sink, errors } = harness({ randomUUID });
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.step(2);
    run.pause({ address: 'root:kernel:flow:0.0.1:wait', pauseDurationMillis: 1 });
    run.rateLimited({
      address: 'http:request:1.0.0',
      statusCode: 503,
      backoffSeconds: 1,
      hostname: 'api.example.com',
    });
    run.throttled({ throttlingType: 'execution_limit', throttlingLevel: 'org' });
    const child = run.startChild(HELPER_FLOW, { address: 'root:kernel:control:0.0.1:callable' });
    child.cancel({ address: 'root:kernel:control:0.0.1:cancel' });
    run.fail({
      address: 'x:y',
      errorMessage: 'boom',
      errorCode: '500',
      errorType: 'http_error',
      fatal: false,
    });
    run.fail({
      address: 'x:y',
      errorMessage: 'boom',
      errorCode: '500',
      errorType: 'http_error',
      fatal: true,
    });
    assert.equal(sink.events.length, 8);
    for (const event of sink.events)
      assert.deepEqual(validateEvent(event, 'strict'), { ok: true, eventType: event.event_type });
    const keys = new Set(sink.events.map((e) => e.idempotency_key));
    assert.equal(keys.size, sink.events.length);
    assert.deepEqual(errors, []);
  });
});

describe('never throws into the engine', () => {
  test('bad caller values are reported with stable codes; an event ingest would refuse is not emitted', () => {
    const { log, sink, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.step(-1);
    run.step(1.5);
    run.step(Number.NaN);
    assert.equal(run.stepCount, 0);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['SDK_INVALID_INPUT', 'SDK_INVALID_INPUT', 'SDK_INVALID_INPUT'],
    );
    errors.length = 0;

    // Missing address: strict says no, lenient says yes → emitted and reported.
    run.pause({} as never);
    assert.equal(sink.events.at(-1)?.event_type, 'FLOW_PAUSE');
    assert.equal(errors[0]?.code, 'SDK_EVENT_NOT_STRICT');
    assert.deepEqual(
      errors[0]?.problems?.map((p) => [p.path, p.code]),
      [['/address', 'FS_REQUIRED']],
    );

    // No flow id: even lenient refuses → not emitted.
    const before = sink.events.length;
    const broken = log.start(
      { ...PARENT_FLOW, id: undefined as unknown as string },
      { user: USER, address: 'a:b' },
    );
    assert.equal(sink.events.length, before);
    assert.equal(errors[1]?.code, 'SDK_EVENT_INVALID');
    assert.equal(errors[1]?.executionId, broken.executionId);
    assert.deepEqual(
      errors[1]?.problems?.map((p) => p.path),
      ['/flow_id'],
    );
    assert.equal(log.stats().eventsInvalid, 1);
    assert.equal(log.stats().eventsNotStrict, 1);
  });

  test('numbers and booleans given as strings by JavaScript callers are typed', () => {
    const { log, sink, errors } = harness();
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.rateLimited({
      address: 'a:b',
      statusCode: '429' as unknown as number,
      backoffSeconds: '30' as unknown as number,
      hostname: 'example.com',
    });
    run.fail({
      address: 'a:b',
      errorMessage: 'm',
      errorCode: 'c',
      errorType: 't',
      fatal: 'TRUE' as unknown as boolean,
      retryDelaySeconds: '600' as unknown as number,
    });
    const [, rate, fail] = sink.events;
    assert.ok(rate?.event_type === 'FLOW_RATE_LIMIT' && fail?.event_type === 'FLOW_FAIL');
    assert.deepEqual(
      [rate.status_code, rate.backoff_duration, fail.fatal, fail.retry_delay],
      [429, 30, true, 600],
    );
    assert.equal(run.ended, true);
    assert.deepEqual(errors, []);
  });

  test('garbage arguments, throwing getters, throwing clocks, sinks and onError do not escape', () => {
    const reports: string[] = [];
    const throwingSink: EventSink = {
      emit() {
        throw new Error('sink down');
      },
      flush: () => Promise.reject(new Error('no flush')),
      shutdown: () => Promise.reject(new Error('no shutdown')),
      stats: () => EMPTY_SINK_STATS,
    };
    const log = new ExecutionLog({
      org: ORG,
      sink: throwingSink,
      now: () => {
        throw new Error('clock');
      },
      monotonicNow: () => Number.NaN,
      randomUUID: () => {
        throw new Error('uuid');
      },
      onError: (report) => {
        reports.push(report.code);
        throw new Error('onError throws too');
      },
    });
    const hostile = Object.defineProperty({}, 'address', {
      get() {
        throw new Error('getter');
      },
    });
    assert.doesNotThrow(() => {
      const run = log.start(null as never, null as never);
      run.step(undefined as never);
      run.pause(hostile as never);
      run.fail(hostile as never);
      run.rateLimited(undefined as never);
      run.throttled(42 as never);
      const child = run.startChild(hostile as never, hostile as never);
      child.complete(undefined as never);
      log.start(hostile as never, { user: hostile as never, address: 'a:b' });
    });
    assert.ok(reports.includes('SDK_INTERNAL_ERROR'));
    assert.ok(reports.includes('SDK_EVENT_INVALID'));
    const stats = log.stats();
    assert.ok(stats.internalErrors > 0);
  });

  test('flush and shutdown never reject, even when the sink does', async () => {
    const codes: string[] = [];
    const log = new ExecutionLog({
      org: ORG,
      sink: {
        emit() {},
        flush: () => Promise.reject(new Error('no flush')),
        shutdown: () => Promise.reject(new Error('no shutdown')),
        stats: () => EMPTY_SINK_STATS,
      },
      onError: (report) => codes.push(report.code),
    });
    await log.flush();
    await log.shutdown();
    assert.deepEqual(codes, ['SDK_SINK_ERROR', 'SDK_SINK_ERROR']);
    assert.equal(log.stats().sinkErrors, 2);
  });

  test('a sink that throws from emit is reported per event', () => {
    const codes: string[] = [];
    const log = new ExecutionLog({
      org: ORG,
      sink: {
        emit() {
          throw new Error('full');
        },
        flush: async () => {},
        shutdown: async () => {},
        stats: () => EMPTY_SINK_STATS,
      },
      onError: (report) => codes.push(report.code),
    });
    log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS }).complete({ address: RETURN_ADDRESS });
    assert.deepEqual(codes, ['SDK_SINK_ERROR', 'SDK_SINK_ERROR']);
    assert.equal(log.stats().eventsEmitted, 0);
  });

  test('options that cannot work throw SdkOptionError at construction, naming the option', () => {
    const sink = new MemorySink();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ org: { ...ORG, id: '' }, sink }, /org\.id/],
      [{ org: { id: ORG.id, name: ORG.name }, sink }, /org\.hostname/],
      [{ org: ORG, sink: {} }, /sink/],
      [{ org: ORG, sink, validation: 'loose' }, /validation/],
      [{ org: ORG, sink, hashUserEmail: { key: '' } }, /hashUserEmail\.key/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new ExecutionLog(options as never),
        (err: unknown) =>
          err instanceof SdkOptionError && err.code === 'SDK_INVALID_OPTION' && message.test(err.message),
      );
    }
  });

  test('validation "off" emits what it is given without checking', () => {
    const { log, sink, errors } = harness({ validation: 'off' });
    log.start({ ...PARENT_FLOW, id: 'not-a-ulid' }, { user: USER, address: START_ADDRESS });
    assert.equal(sink.events[0]?.flow_id, 'not-a-ulid');
    assert.deepEqual(errors, []);
  });
});

describe('MemorySink', () => {
  test('records in order, counts, bounds, and drops after shutdown', async () => {
    const sink = new MemorySink({ maxEvents: 2 });
    const { log } = harness({ sink });
    const run = log.start(PARENT_FLOW, { user: USER, address: START_ADDRESS });
    run.pause({ address: 'a:b' });
    run.complete({ address: RETURN_ADDRESS });
    assert.deepEqual(
      sink.events.map((e) => e.event_type),
      ['FLOW_START', 'FLOW_PAUSE'],
    );
    assert.equal(sink.stats().droppedTotal, 1);
    sink.clear();
    await sink.shutdown();
    await sink.shutdown();
    sink.emit(sink.events[0] as never);
    assert.deepEqual(sink.stats(), {
      ...EMPTY_SINK_STATS,
      emittedTotal: 4,
      sentTotal: 2,
      acceptedTotal: 2,
      droppedTotal: 2,
    });
  });
});
