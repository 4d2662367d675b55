import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateEvent } from '../../src/schema/validate.js';
import type { SdkErrorReport } from '../../src/sdk/errors.js';
import type { ExecutionHandle, FlowRef } from '../../src/sdk/execution-handle.js';
import { ExecutionLog } from '../../src/sdk/execution-log.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';

/**
 * Random engine call sequences against one ExecutionLog: with valid inputs every event is
 * strict-valid and the execution invariants hold; with arbitrary inputs nothing throws and nothing
 * ingest would refuse is emitted.
 */

const identifier = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}$/);
const address = fc.constantFrom(
  'root:kernel:string:0.0.1:compose',
  'root:kernel:control:0.0.1:return',
  'gmail:sendEmail:example:1.0.17',
  'http:request:2.1.0',
);
const hostname = fc.domain();
const folder = fc.record({
  id: fc.ulid(),
  idPath: fc.array(fc.ulid(), { maxLength: 3 }),
  names: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
});
const flowRef: fc.Arbitrary<FlowRef> = fc.record({
  id: fc.ulid(),
  name: fc.string({ minLength: 1 }),
  folder,
});
const user = fc.record({ id: fc.ulid(), email: fc.emailAddress() });

type Command =
  | { op: 'step'; at: number; n: number }
  | { op: 'complete'; at: number; address: string }
  | {
      op: 'fail';
      at: number;
      address: string;
      fatal: boolean;
      errorType: string;
      message: string;
      code: string;
      retry?: { policy: 'flow' | 'handler'; delay: number } | undefined;
    }
  | { op: 'cancel'; at: number; address: string }
  | { op: 'pause'; at: number; address: string; millis?: number | undefined }
  | { op: 'rate'; at: number; address: string; status: number; backoff: number; host: string }
  | { op: 'throttle'; at: number; type: string; level: string }
  | { op: 'child'; at: number; flow: FlowRef; address: string }
  | { op: 'start'; flow: FlowRef; address: string; throttled: boolean }
  | { op: 'tick'; millis: number };

const at = fc.nat({ max: 50 });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('step' as const), at, n: fc.nat({ max: 1000 }) }),
  fc.record({ op: fc.constant('complete' as const), at, address }),
  fc.record({
    op: fc.constant('fail' as const),
    at,
    address,
    fatal: fc.boolean(),
    errorType: identifier,
    message: fc.string({ minLength: 1 }),
    code: fc.string({ minLength: 1, maxLength: 12 }),
    retry: fc.option(
      fc.record({ policy: fc.constantFrom('flow' as const, 'handler' as const), delay: fc.nat() }),
      {
        nil: undefined,
      },
    ),
  }),
  fc.record({ op: fc.constant('cancel' as const), at, address }),
  fc.record({
    op: fc.constant('pause' as const),
    at,
    address,
    millis: fc.option(fc.nat(), { nil: undefined }),
  }),
  fc.record({
    op: fc.constant('rate' as const),
    at,
    address,
    status: fc.integer({ min: 100, max: 599 }),
    backoff: fc.nat(),
    host: hostname,
  }),
  fc.record({ op: fc.constant('throttle' as const), at, type: identifier, level: identifier }),
  fc.record({ op: fc.constant('child' as const), at, flow: flowRef, address }),
  fc.record({ op: fc.constant('start' as const), flow: flowRef, address, throttled: fc.boolean() }),
  fc.record({ op: fc.constant('tick' as const), millis: fc.nat({ max: 100_000 }) }),
);

function run(
  commands: readonly Command[],
  handles: ExecutionHandle[],
  log: ExecutionLog,
  u: { id: string; email: string },
  tick: (m: number) => void,
): void {
  for (const c of commands) {
    if (c.op === 'tick') {
      tick(c.millis);
      continue;
    }
    if (c.op === 'start') {
      handles.push(log.start(c.flow, { user: u, address: c.address, throttled: c.throttled }));
      continue;
    }
    const h = handles[c.at % handles.length];
    if (h === undefined) continue;
    switch (c.op) {
      case 'step':
        h.step(c.n);
        break;
      case 'complete':
        h.complete({ address: c.address });
        break;
      case 'fail':
        h.fail({
          address: c.address,
          errorMessage: c.message,
          errorCode: c.code,
          errorType: c.errorType,
          fatal: c.fatal,
          ...(c.retry === undefined ? {} : { retryPolicy: c.retry.policy, retryDelaySeconds: c.retry.delay }),
        });
        break;
      case 'cancel':
        h.cancel({ address: c.address });
        break;
      case 'pause':
        h.pause({ address: c.address, ...(c.millis === undefined ? {} : { pauseDurationMillis: c.millis }) });
        break;
      case 'rate':
        h.rateLimited({
          address: c.address,
          statusCode: c.status,
          backoffSeconds: c.backoff,
          hostname: c.host,
        });
        break;
      case 'throttle':
        h.throttled({ throttlingType: c.type, throttlingLevel: c.level });
        break;
      case 'child':
        handles.push(h.startChild(c.flow, { address: c.address }));
        break;
    }
  }
}

test('valid call sequences produce only strict-valid events, one start and at most one end per execution', () => {
  fc.assert(
    fc.property(
      fc.record({ id: fc.ulid(), name: fc.string({ minLength: 1 }), hostname }),
      flowRef,
      user,
      fc.boolean(),
      fc.array(command, { maxLength: 60 }),
      (org, firstFlow, u, hash, commands) => {
        const sink = new MemorySink();
        const reports: SdkErrorReport[] = [];
        let wall = Date.parse('2024-04-04T18:30:38.730Z');
        let mono = 0;
        const log = new ExecutionLog({
          org,
          sink,
          now: () => wall,
          monotonicNow: () => mono,
          onError: (r) => reports.push(r),
          ...(hash ? { hashUserEmail: { key: 'k' } } : {}),
        });
        const handles = [log.start(firstFlow, { user: u, address: 'root:kernel:string:0.0.1:compose' })];
        run(commands, handles, log, u, (m) => {
          wall += m;
          mono += m;
        });

        for (const event of sink.events) {
          const result = validateEvent(event, 'strict');
          assert.ok(result.ok, JSON.stringify({ event, result }));
        }
        // The only reports for valid input are calls on ended executions.
        assert.deepEqual(
          reports.filter((r) => r.code !== 'SDK_EXECUTION_ENDED'),
          [],
        );
        assert.equal(log.stats().eventsEmitted, sink.events.length);
        assert.equal(new Set(sink.events.map((e) => e.idempotency_key)).size, sink.events.length);

        const terminal = new Set(['FLOW_COMPLETE', 'FLOW_CANCEL']);
        const byExecution = new Map<string, (typeof sink.events)[number][]>();
        for (const e of sink.events)
          byExecution.set(e.execution_id, [...(byExecution.get(e.execution_id) ?? []), e]);
        assert.equal(byExecution.size, handles.length);
        for (const h of handles) {
          const events = byExecution.get(h.executionId) ?? [];
          assert.equal(events[0]?.event_type, 'FLOW_START');
          assert.equal(events.filter((e) => e.event_type === 'FLOW_START').length, 1);
          const ends = events.map(
            (e) => terminal.has(e.event_type) || (e.event_type === 'FLOW_FAIL' && e.fatal === true),
          );
          const firstEnd = ends.indexOf(true);
          // Nothing after the end, and the handle knows it ended.
          assert.ok(firstEnd === -1 || firstEnd === events.length - 1);
          assert.equal(h.ended, firstEnd !== -1);
          // Durations and step counts never go down within an execution.
          let lastDuration = 0;
          let lastSteps = 0;
          for (const e of events) {
            if ('duration' in e && typeof e.duration === 'number') {
              assert.ok(e.duration >= lastDuration);
              lastDuration = e.duration;
            }
            if ('step_count' in e && typeof e.step_count === 'number') {
              assert.ok(e.step_count >= lastSteps);
              lastSteps = e.step_count;
            }
          }
          // Once throttled, always throttled.
          const flags = events.map((e) => e.throttled);
          const firstThrottled = flags.indexOf(true);
          if (firstThrottled !== -1) assert.ok(flags.slice(firstThrottled).every(Boolean));
          if (hash) assert.ok(events.every((e) => e.user_email !== u.email));
        }
      },
    ),
    { numRuns: 200, interruptAfterTimeLimit: 20_000 },
  );
});

test('arbitrary values in every argument never throw, and nothing lenient validation refuses is emitted', () => {
  const anything = fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, maxDepth: 2 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 20 }), anything, anything), { maxLength: 40 }),
      (calls) => {
        const sink = new MemorySink();
        const log = new ExecutionLog({
          org: { id: '01J29TH3XHECT79M257GG2QTKJ', name: 'o', hostname: 'o.example.com' },
          sink,
          onError: () => {},
        });
        const handles: ExecutionHandle[] = [];
        for (const [op, index, a, b] of calls) {
          const h = handles[index % Math.max(1, handles.length)];
          const x = a as never;
          const y = b as never;
          if (op === 0 || h === undefined) handles.push(log.start(x, y));
          else if (op === 1) h.step(x);
          else if (op === 2) h.complete(x);
          else if (op === 3) h.fail(x);
          else if (op === 4) h.cancel(x);
          else if (op === 5) h.pause(x);
          else if (op === 6) h.rateLimited(x);
          else if (op === 7) h.throttled(x);
          else handles.push(h.startChild(x, y));
        }
        for (const event of sink.events) assert.ok(validateEvent(event, 'lenient').ok);
      },
    ),
    { numRuns: 300, interruptAfterTimeLimit: 20_000 },
  );
});
