import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FlowRuntimeError } from '../../src/runtime/errors.js';
import { defineFlow } from '../../src/runtime/flow-builder.js';
import type { FlowDefinition } from '../../src/runtime/flow-definition.js';
import {
  assertContract,
  at,
  FOLDERS,
  ORG,
  project,
  type ScriptedServer,
  startScriptedServer,
  T0,
  testRuntime,
  USER,
  ulid,
} from './runtime-fixtures.js';

const FOLDER_PATH = [...FOLDERS];
const helperTrigger = { type: 'helper' } as const;

describe('cards, event by event (virtual clock)', () => {
  test('compose and return: FLOW_START then FLOW_COMPLETE, every field', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Greet', folderPath: FOLDER_PATH })
      .compose('Hello {{input.first}}', { as: 'greeting' })
      .text('uppercase', '{{greeting}}', { as: 'loud' })
      .return({ message: '{{loud}}' })
      .build();
    const t = testRuntime([flow]);
    const run = t.runtime.invoke(flow.id, { first: 'Ada' });
    const result = await t.clock.run(run.result);
    assert.equal(result.status, 'completed');
    assert.deepEqual(result.output, { message: 'HELLO ADA' });
    const [start, complete] = t.sink.events;
    const base = {
      execution_id: run.executionId,
      timestamp: at(0),
      flow_id: flow.id,
      flow_name: 'Greet',
      org_id: ORG.id,
      org_name: ORG.name,
      org_hostname: ORG.hostname,
      user_id: USER.id,
      user_email: USER.email,
      folder_id_path: `${FOLDERS[0].id}/${FOLDERS[1].id}`,
      folder_id: FOLDERS[1].id,
      folder_name: ['Log streaming', 'Examples'],
      engine_mode: 'realtime',
    };
    assert.deepEqual(start, {
      event_type: 'FLOW_START',
      ...base,
      idempotency_key: start?.idempotency_key,
      throttled: false,
      depth: 0,
      address: 'root:kernel:string:0.0.1:compose',
    });
    assert.deepEqual(complete, {
      event_type: 'FLOW_COMPLETE',
      ...base,
      idempotency_key: complete?.idempotency_key,
      throttled: false,
      duration: 0,
      step_count: 3,
      address: 'root:kernel:control:0.0.1:return',
    });
    assert.equal(t.sink.events.length, 2);
    assertContract(t);
  });

  test('text operations', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Text', folderPath: FOLDER_PATH })
      .text('capitalize', "  o'neil-smith  mary", { as: 'cap' })
      .text('trim', '{{cap}}', { as: 'trimmed' })
      .text('lowercase', 'ABC', { as: 'lower' })
      .text('concatenate', ['{{lower}}', 'd', 3], { argument: '-', as: 'joined' })
      .text('replace', 'a.b.c', { argument: '.', replacement: '/', as: 'replaced' })
      .text('split', 'x,y,,z', { argument: ',', as: 'parts' })
      .return({ trimmed: '{{trimmed}}', joined: '{{joined}}', replaced: '{{replaced}}', parts: '{{parts}}' })
      .build();
    const t = testRuntime([flow]);
    const result = await t.clock.run(t.runtime.invoke(flow.id).result);
    assert.deepEqual(result.output, {
      trimmed: "O'Neil-Smith  Mary",
      joined: 'abc-d-3',
      replaced: 'a/b/c',
      parts: ['x', 'y', '', 'z'],
    });
    const start = t.sink.events[0];
    assert.equal(start?.event_type === 'FLOW_START' && start.address, 'root:kernel:string:0.0.1:capitalize');
    assertContract(t);
  });

  test('a helper flow: parent/child chain, root ids, depth, callable address, return value used', async () => {
    const format = defineFlow({
      id: ulid(2),
      name: 'Format name',
      folderPath: [FOLDERS[0]],
      trigger: helperTrigger,
    })
      .text('capitalize', '{{input.name}}', { as: 'name' })
      .return({ formatted: '{{name}}' })
      .build();
    const middle = defineFlow({
      id: ulid(3),
      name: 'Middle',
      folderPath: FOLDER_PATH,
      trigger: helperTrigger,
    })
      .call(format, { name: '{{input.name}}' }, { as: 'inner' })
      .return('{{inner.formatted}}')
      .build();
    const root = defineFlow({ id: ulid(4), name: 'Root', folderPath: FOLDER_PATH })
      .call(middle, { name: '{{input.who}}' }, { as: 'out' })
      .compose('Welcome, {{out}}', { as: 'line' })
      .return('{{line}}')
      .build();
    const t = testRuntime([format, middle, root]);
    const run = t.runtime.invoke(root.id, { who: 'ada LOVELACE' });
    const result = await t.clock.run(run.result);
    assert.equal(result.output, 'Welcome, Ada Lovelace');
    const fields = [
      'depth',
      'address',
      'step_count',
      'parent_flow_name',
      'parent_flow_id',
      'root_flow_name',
      'root_flow_id',
    ];
    assert.deepEqual(project(t.sink.events, fields), [
      { type: 'FLOW_START', flow: 'Root', depth: 0, address: 'root:kernel:control:0.0.1:call' },
      {
        type: 'FLOW_START',
        flow: 'Middle',
        depth: 1,
        address: 'root:kernel:control:0.0.1:callable',
        parent_flow_name: 'Root',
        parent_flow_id: root.id,
        root_flow_name: 'Root',
        root_flow_id: root.id,
      },
      {
        type: 'FLOW_START',
        flow: 'Format name',
        depth: 2,
        address: 'root:kernel:control:0.0.1:callable',
        parent_flow_name: 'Middle',
        parent_flow_id: middle.id,
        root_flow_name: 'Root',
        root_flow_id: root.id,
      },
      {
        type: 'FLOW_COMPLETE',
        flow: 'Format name',
        address: 'root:kernel:control:0.0.1:return',
        step_count: 2,
        parent_flow_name: 'Middle',
        parent_flow_id: middle.id,
        root_flow_name: 'Root',
        root_flow_id: root.id,
      },
      {
        type: 'FLOW_COMPLETE',
        flow: 'Middle',
        address: 'root:kernel:control:0.0.1:return',
        step_count: 2,
        parent_flow_name: 'Root',
        parent_flow_id: root.id,
        root_flow_name: 'Root',
        root_flow_id: root.id,
      },
      { type: 'FLOW_COMPLETE', flow: 'Root', address: 'root:kernel:control:0.0.1:return', step_count: 3 },
    ]);
    const [rootStart, middleStart, innerStart] = t.sink.events;
    assert.equal(middleStart?.parent_execution_id, rootStart?.execution_id);
    assert.equal(middleStart?.root_execution_id, rootStart?.execution_id);
    assert.equal(innerStart?.parent_execution_id, middleStart?.execution_id);
    assert.equal(innerStart?.root_execution_id, rootStart?.execution_id);
    assert.equal(rootStart?.execution_id, run.executionId);
    assertContract(t);
  });

  test('a wait card: FLOW_PAUSE with pause_duration, then the flow goes on', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Reminder', folderPath: FOLDER_PATH })
      .compose('x')
      .wait(5000)
      .compose('y')
      .build();
    const t = testRuntime([flow]);
    await t.clock.run(t.runtime.invoke(flow.id).result);
    assert.deepEqual(
      project(t.sink.events, ['timestamp', 'pause_duration', 'address', 'duration', 'step_count']),
      [
        {
          type: 'FLOW_START',
          flow: 'Reminder',
          timestamp: at(0),
          address: 'root:kernel:string:0.0.1:compose',
        },
        {
          type: 'FLOW_PAUSE',
          flow: 'Reminder',
          timestamp: at(0),
          pause_duration: 5000,
          address: 'root:kernel:control:0.0.1:wait_for',
        },
        {
          type: 'FLOW_COMPLETE',
          flow: 'Reminder',
          timestamp: at(5000),
          duration: 5000,
          step_count: 3,
          address: 'root:kernel:string:0.0.1:compose',
        },
      ],
    );
    assertContract(t);
  });

  test('a pause card waits for resume: FLOW_PAUSE without pause_duration', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Approval', folderPath: FOLDER_PATH })
      .pause()
      .return('approved')
      .build();
    const t = testRuntime([flow]);
    const run = t.runtime.invoke(flow.id);
    await t.clock.advance(60_000);
    assert.equal(t.runtime.list()[0]?.paused, true);
    assert.equal(t.runtime.resume('not-an-execution'), false);
    assert.equal(t.runtime.resume(run.executionId), true);
    const result = await t.clock.run(run.result);
    assert.equal(result.output, 'approved');
    assert.deepEqual(project(t.sink.events, ['pause_duration', 'address', 'duration']), [
      { type: 'FLOW_START', flow: 'Approval', address: 'root:kernel:control:0.0.1:pause' },
      { type: 'FLOW_PAUSE', flow: 'Approval', address: 'root:kernel:control:0.0.1:pause' },
      {
        type: 'FLOW_COMPLETE',
        flow: 'Approval',
        address: 'root:kernel:control:0.0.1:return',
        duration: 60_000,
      },
    ]);
    assertContract(t);
  });

  test('if: the branch that matches runs, and its cards count as steps', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Route', folderPath: FOLDER_PATH })
      .if(
        { value: '{{input.count}}', operator: 'greater_than', compareTo: 10 },
        (yes) => yes.compose('many', { as: 'kind' }).compose('{{kind}}!', { as: 'kind' }),
        (no) => no.compose('few', { as: 'kind' }),
      )
      .return('{{kind}}')
      .build();
    const t = testRuntime([flow]);
    const many = await t.clock.run(t.runtime.invoke(flow.id, { count: '12' }).result);
    const few = await t.clock.run(t.runtime.invoke(flow.id, { count: 9 }).result);
    assert.deepEqual([many.output, many.steps], ['many!', 4]);
    assert.deepEqual([few.output, few.steps], ['few', 3]);
    assert.equal(
      t.sink.events[0]?.event_type === 'FLOW_START' && t.sink.events[0].address,
      'root:kernel:branching:0.0.1:if_else',
    );
    assertContract(t);
  });

  test('a fail card: FLOW_FAIL, fatal, with the rendered message, code and type', async () => {
    const flow = defineFlow({
      id: ulid(1),
      name: 'Offboard',
      folderPath: FOLDER_PATH,
      retry: { attempts: 3, delaySeconds: 60 },
    })
      .compose('{{input.login}}', { as: 'login' })
      .fail('User {{login}} not found', { code: 'USER_NOT_FOUND', errorType: 'not_found' })
      .compose('never')
      .build();
    const t = testRuntime([flow]);
    const result = await t.clock.run(t.runtime.invoke(flow.id, { login: 'bob' }).result);
    assert.equal(result.status, 'failed');
    // A fail card is the flow's own decision: the retry policy does not apply.
    assert.deepEqual(
      project(t.sink.events, [
        'address',
        'error_message',
        'error_code',
        'error_type',
        'fatal',
        'step_count',
        'retry_policy',
      ]),
      [
        { type: 'FLOW_START', flow: 'Offboard', address: 'root:kernel:string:0.0.1:compose' },
        {
          type: 'FLOW_FAIL',
          flow: 'Offboard',
          address: 'root:kernel:error:0.0.1:return_error',
          error_message: 'User bob not found',
          error_code: 'USER_NOT_FOUND',
          error_type: 'not_found',
          fatal: true,
          step_count: 2,
        },
      ],
    );
    assertContract(t);
  });

  test('try/catch: a caught error emits nothing and the catch cards see it', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Guarded', folderPath: FOLDER_PATH })
      .try(
        (body) => body.compose('a').fail('boom', { code: 'E1' }).compose('not reached'),
        (handler) => handler.compose('caught {{error.code}}: {{error.message}}', { as: 'note' }),
        { address: 'root:kernel:error:0.0.1:try_catch' },
      )
      .return('{{note}}')
      .build();
    const t = testRuntime([flow]);
    const result = await t.clock.run(t.runtime.invoke(flow.id).result);
    assert.deepEqual([result.status, result.output, result.steps], ['completed', 'caught E1: boom', 5]);
    assert.deepEqual(project(t.sink.events), [
      { type: 'FLOW_START', flow: 'Guarded' },
      { type: 'FLOW_COMPLETE', flow: 'Guarded' },
    ]);
    assertContract(t);
  });

  test('a return inside if ends the flow there', async () => {
    const flow = defineFlow({ id: ulid(1), name: 'Early', folderPath: FOLDER_PATH })
      .if({ value: '{{input.skip}}', operator: 'exists' }, (yes) => yes.return('skipped'))
      .compose('went on', { as: 'x' })
      .return('{{x}}')
      .build();
    const t = testRuntime([flow]);
    assert.equal((await t.clock.run(t.runtime.invoke(flow.id, { skip: true }).result)).output, 'skipped');
    assert.equal((await t.clock.run(t.runtime.invoke(flow.id, {}).result)).output, 'went on');
  });
});

describe('third parties (a real HTTP server, virtual clock)', () => {
  let server: ScriptedServer | undefined;
  after(async () => {
    await server?.close();
  });
  const sync = (url: string, retry?: { attempts: number; delaySeconds: number }): FlowDefinition =>
    defineFlow({ id: ulid(10), name: 'HR sync', folderPath: FOLDER_PATH, ...(retry ? { retry } : {}) })
      .compose('{{input.employee}}', { as: 'who' })
      .http('POST', `${url}/employees/{{who}}`, {
        body: { id: '{{who}}' },
        headers: { authorization: 'Bearer demo' },
        as: 'response',
        address: 'hrsync:updateEmployee:example:2.3.1',
      })
      .return('{{response.body.status}}')
      .build();

  test('429 with Retry-After: FLOW_RATE_LIMIT, a backoff of exactly that, then the same request again', async () => {
    server = await startScriptedServer([
      {
        status: 429,
        headers: { 'retry-after': '7' },
        body: { errorCode: 'RATE', errorSummary: 'slow down' },
      },
      { status: 200, body: { status: 'updated' } },
    ]);
    const t = testRuntime([sync(server.url)]);
    const result = await t.clock.run(t.runtime.invoke(ulid(10), { employee: 'e42' }).result);
    assert.equal(result.output, 'updated');
    assert.deepEqual(
      project(t.sink.events, [
        'timestamp',
        'address',
        'status_code',
        'backoff_duration',
        'hostname',
        'duration',
        'step_count',
      ]),
      [
        {
          type: 'FLOW_START',
          flow: 'HR sync',
          timestamp: at(0),
          address: 'root:kernel:string:0.0.1:compose',
        },
        {
          type: 'FLOW_RATE_LIMIT',
          flow: 'HR sync',
          timestamp: at(0),
          address: 'hrsync:updateEmployee:example:2.3.1',
          status_code: 429,
          backoff_duration: 7,
          hostname: '127.0.0.1',
        },
        {
          type: 'FLOW_COMPLETE',
          flow: 'HR sync',
          timestamp: at(7000),
          address: 'root:kernel:control:0.0.1:return',
          duration: 7000,
          step_count: 3,
        },
      ],
    );
    assert.equal(server.requests.length, 2);
    for (const request of server.requests) {
      assert.deepEqual(
        [request.method, request.url, request.body],
        ['POST', '/employees/e42', '{"id":"e42"}'],
      );
      assert.equal(request.headers.authorization, 'Bearer demo');
    }
    assertContract(t);
    await server.close();
  });

  test('429 without Retry-After: jittered exponential backoff; past maxRateLimitRetries the card fails', async () => {
    server = await startScriptedServer([{ status: 429, body: { message: 'quota exceeded' } }]);
    const flow = defineFlow({ id: ulid(11), name: 'Poll', folderPath: FOLDER_PATH })
      .http('GET', `${server.url}/status`, { maxRateLimitRetries: 3 })
      .build();
    const t = testRuntime([flow], { rateLimitInitialBackoffMillis: 2000 });
    const result = await t.clock.run(t.runtime.invoke(flow.id).result);
    assert.equal(result.status, 'failed');
    const backoffs = t.sink.events
      .filter((e) => e.event_type === 'FLOW_RATE_LIMIT')
      .map((e) => e.backoff_duration);
    assert.equal(backoffs.length, 3);
    // 2 s, 4 s, 8 s ceilings, each jittered to [½, 1] and rounded up to whole seconds.
    backoffs.forEach((seconds, i) => {
      const ceiling = 2 * 2 ** i;
      assert.ok(
        typeof seconds === 'number' && seconds >= ceiling / 2 && seconds <= ceiling,
        `${seconds} in [${ceiling / 2}, ${ceiling}]`,
      );
    });
    const fail = t.sink.events.at(-1);
    assert.ok(fail?.event_type === 'FLOW_FAIL');
    assert.deepEqual(
      [fail.error_code, fail.error_type, fail.error_message, fail.fatal, fail.duration],
      [
        'HTTP_429',
        'rate_limited',
        'quota exceeded',
        true,
        backoffs.reduce((a, b) => (a as number) + (b as number), 0) * 1000,
      ],
    );
    assert.equal(server.requests.length, 4);
    assertContract(t);
    await server.close();
  });

  test('Retry-After as an HTTP date (on the injected clock), and one past maxRetryAfterMillis is cut', async () => {
    server = await startScriptedServer([
      { status: 429, headers: { 'retry-after': new Date(T0 + 5000).toUTCString() } },
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 200, body: { status: 'updated' } },
    ]);
    const t = testRuntime([sync(server.url)], { maxRetryAfterMillis: 10_000 });
    const result = await t.clock.run(t.runtime.invoke(ulid(10), { employee: 'e7' }).result);
    assert.deepEqual([result.status, result.durationMillis], ['completed', 15_000]);
    assert.deepEqual(
      t.sink.events
        .filter((e) => e.event_type === 'FLOW_RATE_LIMIT')
        .map((e) => [e.timestamp, e.backoff_duration]),
      [
        [at(0), 5],
        [at(5000), 10],
      ],
    );
    assertContract(t);
    await server.close();
  });

  test('500 with a flow retry policy: non-fatal FLOW_FAIL with retry_policy and retry_delay, then success', async () => {
    server = await startScriptedServer([
      { status: 500, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } },
      { status: 200, body: { status: 'updated' } },
    ]);
    const t = testRuntime([sync(server.url, { attempts: 2, delaySeconds: 30 })]);
    const result = await t.clock.run(t.runtime.invoke(ulid(10), { employee: 'e1' }).result);
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      project(t.sink.events, [
        'timestamp',
        'address',
        'error_message',
        'error_code',
        'error_type',
        'fatal',
        'retry_policy',
        'retry_delay',
        'duration',
        'step_count',
      ]),
      [
        {
          type: 'FLOW_START',
          flow: 'HR sync',
          timestamp: at(0),
          address: 'root:kernel:string:0.0.1:compose',
        },
        {
          type: 'FLOW_FAIL',
          flow: 'HR sync',
          timestamp: at(0),
          address: 'hrsync:updateEmployee:example:2.3.1',
          error_message: 'Internal Server Error',
          error_code: 'E0000009',
          error_type: 'http_error',
          fatal: false,
          retry_policy: 'flow',
          retry_delay: 30,
          duration: 0,
          step_count: 2,
        },
        {
          type: 'FLOW_COMPLETE',
          flow: 'HR sync',
          timestamp: at(30_000),
          address: 'root:kernel:control:0.0.1:return',
          duration: 30_000,
          step_count: 4,
        },
      ],
    );
    assertContract(t);
    await server.close();
  });

  test('500 every time: non-fatal failures per retry, then a fatal one without retry fields', async () => {
    server = await startScriptedServer([{ status: 503 }]);
    const t = testRuntime([sync(server.url, { attempts: 2, delaySeconds: 10 })]);
    const result = await t.clock.run(t.runtime.invoke(ulid(10), { employee: 'e1' }).result);
    assert.equal(result.status, 'failed');
    assert.deepEqual(
      project(t.sink.events, ['timestamp', 'fatal', 'retry_policy', 'retry_delay', 'error_code']),
      [
        { type: 'FLOW_START', flow: 'HR sync', timestamp: at(0) },
        {
          type: 'FLOW_FAIL',
          flow: 'HR sync',
          timestamp: at(0),
          fatal: false,
          retry_policy: 'flow',
          retry_delay: 10,
          error_code: 'HTTP_503',
        },
        {
          type: 'FLOW_FAIL',
          flow: 'HR sync',
          timestamp: at(10_000),
          fatal: false,
          retry_policy: 'flow',
          retry_delay: 10,
          error_code: 'HTTP_503',
        },
        { type: 'FLOW_FAIL', flow: 'HR sync', timestamp: at(20_000), fatal: true, error_code: 'HTTP_503' },
      ],
    );
    assert.equal(server.requests.length, 3);
    assertContract(t);
    await server.close();
  });

  test('a 4xx is not retried', async () => {
    server = await startScriptedServer([
      { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such employee' } } },
    ]);
    const t = testRuntime([sync(server.url, { attempts: 5, delaySeconds: 10 })]);
    await t.clock.run(t.runtime.invoke(ulid(10), { employee: 'e1' }).result);
    assert.deepEqual(project(t.sink.events, ['fatal', 'error_code', 'error_message']), [
      { type: 'FLOW_START', flow: 'HR sync' },
      {
        type: 'FLOW_FAIL',
        flow: 'HR sync',
        fatal: true,
        error_code: 'NOT_FOUND',
        error_message: 'no such employee',
      },
    ]);
    assert.equal(server.requests.length, 1);
    await server.close();
  });

  test('try/catch with a handler retry policy: retry_policy handler, then the catch cards', async () => {
    server = await startScriptedServer([{ status: 500 }]);
    const url = server.url;
    const flow = defineFlow({ id: ulid(12), name: 'Guarded sync', folderPath: FOLDER_PATH })
      .try(
        (body) =>
          body.compose('go').http('PUT', `${url}/x`, { address: 'hrsync:updateEmployee:example:2.3.1' }),
        (handler) => handler.compose('gave up: {{error.type}} {{error.address}}', { as: 'note' }),
        { retry: { attempts: 1, delaySeconds: 5 } },
      )
      .return('{{note}}')
      .build();
    const t = testRuntime([flow]);
    const result = await t.clock.run(t.runtime.invoke(flow.id).result);
    assert.deepEqual(
      [result.status, result.output],
      ['completed', 'gave up: http_error hrsync:updateEmployee:example:2.3.1'],
    );
    assert.deepEqual(
      project(t.sink.events, ['timestamp', 'address', 'fatal', 'retry_policy', 'retry_delay', 'step_count']),
      [
        {
          type: 'FLOW_START',
          flow: 'Guarded sync',
          timestamp: at(0),
          address: 'root:kernel:error:0.0.1:try_catch',
        },
        {
          type: 'FLOW_FAIL',
          flow: 'Guarded sync',
          timestamp: at(0),
          address: 'hrsync:updateEmployee:example:2.3.1',
          fatal: false,
          retry_policy: 'handler',
          retry_delay: 5,
          step_count: 3,
        },
        {
          type: 'FLOW_COMPLETE',
          flow: 'Guarded sync',
          timestamp: at(5000),
          address: 'root:kernel:control:0.0.1:return',
          step_count: 7,
        },
      ],
    );
    assert.equal(server.requests.length, 2);
    assertContract(t);
    await server.close();
  });

  test('a refused connection is a retryable network_error', async () => {
    const closed = await startScriptedServer([{ status: 200 }]);
    const url = closed.url;
    await closed.close();
    const t = testRuntime([sync(url, { attempts: 1, delaySeconds: 1 })]);
    await t.clock.run(t.runtime.invoke(ulid(10), { employee: 'e1' }).result);
    assert.deepEqual(project(t.sink.events, ['fatal', 'error_code', 'error_type']), [
      { type: 'FLOW_START', flow: 'HR sync' },
      {
        type: 'FLOW_FAIL',
        flow: 'HR sync',
        fatal: false,
        error_code: 'ECONNREFUSED',
        error_type: 'network_error',
      },
      {
        type: 'FLOW_FAIL',
        flow: 'HR sync',
        fatal: true,
        error_code: 'ECONNREFUSED',
        error_type: 'network_error',
      },
    ]);
    assertContract(t);
  });

  test('a URL that is not http(s) fails the card as invalid_input', async () => {
    const flow = defineFlow({ id: ulid(13), name: 'Bad URL', folderPath: FOLDER_PATH })
      .http('GET', 'ftp://{{input.host}}/x')
      .build();
    const t = testRuntime([flow]);
    const result = await t.clock.run(t.runtime.invoke(flow.id, { host: 'example.com' }).result);
    assert.deepEqual(
      [result.status, result.error?.code, result.error?.type],
      ['failed', 'INVALID_URL', 'invalid_input'],
    );
  });
});

describe('cancel', () => {
  const waiting = defineFlow({
    id: ulid(20),
    name: 'Provision laptop',
    folderPath: FOLDER_PATH,
    trigger: helperTrigger,
  })
    .compose('ordering')
    .wait(60_000)
    .return('shipped')
    .build();
  const caller = defineFlow({ id: ulid(21), name: 'Onboarding', folderPath: FOLDER_PATH })
    .compose('start')
    .call(waiting, {}, { as: 'laptop' })
    .return('{{laptop}}')
    .build();

  test('cancel through the API: FLOW_CANCEL at the card in progress, the helper before its caller', async () => {
    const t = testRuntime([waiting, caller]);
    const run = t.runtime.invoke(caller.id);
    await t.clock.advance(10_000);
    assert.equal(t.runtime.list().length, 2);
    assert.equal(t.runtime.cancel(run.executionId), true);
    const result = await t.clock.run(run.result);
    assert.equal(result.status, 'canceled');
    assert.equal(t.runtime.cancel(run.executionId), false);
    assert.deepEqual(project(t.sink.events, ['timestamp', 'address', 'duration', 'step_count', 'depth']), [
      {
        type: 'FLOW_START',
        flow: 'Onboarding',
        timestamp: at(0),
        address: 'root:kernel:string:0.0.1:compose',
        depth: 0,
      },
      {
        type: 'FLOW_START',
        flow: 'Provision laptop',
        timestamp: at(0),
        address: 'root:kernel:control:0.0.1:callable',
        depth: 1,
      },
      {
        type: 'FLOW_PAUSE',
        flow: 'Provision laptop',
        timestamp: at(0),
        address: 'root:kernel:control:0.0.1:wait_for',
      },
      {
        type: 'FLOW_CANCEL',
        flow: 'Provision laptop',
        timestamp: at(10_000),
        address: 'root:kernel:control:0.0.1:wait_for',
        duration: 10_000,
        step_count: 2,
      },
      {
        type: 'FLOW_CANCEL',
        flow: 'Onboarding',
        timestamp: at(10_000),
        address: 'root:kernel:control:0.0.1:call',
        duration: 10_000,
        step_count: 2,
      },
    ]);
    assert.deepEqual(t.runtime.list(), []);
    assertContract(t);
  });

  test('canceling only the helper: the caller fails with helper_canceled', async () => {
    const t = testRuntime([waiting, caller]);
    const run = t.runtime.invoke(caller.id);
    await t.clock.advance(1000);
    const helper = t.runtime.list().find((e) => e.depth === 1);
    assert.ok(helper);
    assert.equal(t.runtime.cancel(helper.executionId), true);
    const result = await t.clock.run(run.result);
    assert.deepEqual(
      [result.status, result.error?.type, result.error?.code],
      ['failed', 'helper_canceled', 'HELPER_CANCELED'],
    );
    assert.deepEqual(
      project(t.sink.events).map((e) => `${e.type} ${e.flow}`),
      [
        'FLOW_START Onboarding',
        'FLOW_START Provision laptop',
        'FLOW_PAUSE Provision laptop',
        'FLOW_CANCEL Provision laptop',
        'FLOW_FAIL Onboarding',
      ],
    );
    assertContract(t);
  });

  test('stop() cancels what still runs, after the grace period', async () => {
    const t = testRuntime([waiting, caller]);
    const run = t.runtime.invoke(caller.id);
    const stopped = t.runtime.stop({ graceMillis: 5000 });
    await t.clock.run(stopped);
    assert.equal((await run.result).status, 'canceled');
    assert.equal(t.sink.events.at(-1)?.timestamp, at(5000));
    assert.throws(
      () => t.runtime.invoke(caller.id),
      (e: unknown) => e instanceof FlowRuntimeError && e.code === 'RUNTIME_STOPPED',
    );
    await t.runtime.stop();
  });
});

describe('throttling (org execution limits)', () => {
  const quick = defineFlow({ id: ulid(30), name: 'Bulk import', folderPath: FOLDER_PATH })
    .compose('a')
    .compose('b')
    .build();

  test('by rate: over the limit, FLOW_THROTTLE then throttled: true, slower engine mode and cards', async () => {
    const t = testRuntime([quick], { limits: { orgExecutionsPerSecond: 2 }, throttledCardDelayMillis: 100 });
    const runs = [0, 1, 2].map(() => t.runtime.invoke(quick.id));
    const results = await t.clock.run(Promise.all(runs.map((r) => r.result)));
    assert.deepEqual(
      results.map((r) => [r.throttled, r.durationMillis]),
      [
        [false, 0],
        [false, 0],
        [true, 200],
      ],
    );
    const third = t.sink.events.filter((e) => e.execution_id === runs[2]?.executionId);
    assert.deepEqual(
      project(third, ['throttled', 'engine_mode', 'throttling_type', 'throttling_level', 'duration']),
      [
        { type: 'FLOW_START', flow: 'Bulk import', throttled: false, engine_mode: 'realtime' },
        {
          type: 'FLOW_THROTTLE',
          flow: 'Bulk import',
          throttled: true,
          engine_mode: 'throttled',
          throttling_type: 'execution_rate_limit',
          throttling_level: 'org',
        },
        {
          type: 'FLOW_COMPLETE',
          flow: 'Bulk import',
          throttled: true,
          engine_mode: 'throttled',
          duration: 200,
        },
      ],
    );
    // One second later the window has room again.
    await t.clock.advance(1000);
    assert.equal((await t.clock.run(t.runtime.invoke(quick.id).result)).throttled, false);
    assert.equal(t.runtime.stats().executionsThrottled, 1);
    assertContract(t);
  });

  test('by concurrency, and a throttled caller passes throttling to its helpers', async () => {
    const helper = defineFlow({
      id: ulid(31),
      name: 'Lookup',
      folderPath: FOLDER_PATH,
      trigger: helperTrigger,
    })
      .compose('x')
      .build();
    const slow = defineFlow({ id: ulid(32), name: 'Slow', folderPath: FOLDER_PATH })
      .wait(10_000)
      .call(helper)
      .build();
    const t = testRuntime([helper, slow], {
      limits: { orgConcurrentExecutions: 1 },
      throttledCardDelayMillis: 0,
    });
    const first = t.runtime.invoke(slow.id);
    const second = t.runtime.invoke(slow.id);
    await t.clock.run(Promise.all([first.result, second.result]));
    const types = (id: string) =>
      project(
        t.sink.events.filter((e) => e.execution_id === id || e.parent_execution_id === id),
        ['throttled', 'throttling_type'],
      );
    assert.deepEqual(types(second.executionId), [
      { type: 'FLOW_START', flow: 'Slow', throttled: false },
      { type: 'FLOW_THROTTLE', flow: 'Slow', throttled: true, throttling_type: 'concurrency_limit' },
      { type: 'FLOW_PAUSE', flow: 'Slow', throttled: true },
      { type: 'FLOW_START', flow: 'Lookup', throttled: true },
      { type: 'FLOW_COMPLETE', flow: 'Lookup', throttled: true },
      { type: 'FLOW_COMPLETE', flow: 'Slow', throttled: true },
    ]);
    assert.ok(types(first.executionId).every((e) => e.throttled === false));
    // Once the first ended, a new execution is under the limit again.
    assert.equal((await t.clock.run(t.runtime.invoke(slow.id).result)).throttled, false);
    assertContract(t);
  });

  test('per flow rate', async () => {
    const other = defineFlow({ id: ulid(33), name: 'Other', folderPath: FOLDER_PATH })
      .compose('x')
      .build();
    const t = testRuntime([quick, other], { limits: { flowExecutionsPerSecond: 1 } });
    const a = t.runtime.invoke(quick.id);
    const b = t.runtime.invoke(other.id);
    const c = t.runtime.invoke(quick.id);
    const results = await t.clock.run(Promise.all([a.result, b.result, c.result]));
    assert.deepEqual(
      results.map((r) => r.throttled),
      [false, false, true],
    );
    const throttle = t.sink.events.find((e) => e.event_type === 'FLOW_THROTTLE');
    assert.ok(throttle?.event_type === 'FLOW_THROTTLE');
    assert.deepEqual([throttle.throttling_type, throttle.throttling_level], ['execution_rate_limit', 'flow']);
  });
});

describe('triggers, streaming switch, limits, definitions', () => {
  test('a schedule trigger runs the flow every period while the runtime runs', async () => {
    const nightly = defineFlow({
      id: ulid(40),
      name: 'Access review',
      folderPath: FOLDER_PATH,
      trigger: { type: 'schedule', everyMillis: 10_000, input: { scope: 'all' } },
    })
      .compose('{{input.scope}}', { as: 's' })
      .return('{{s}}')
      .build();
    const t = testRuntime([nightly]);
    t.runtime.start();
    t.runtime.start();
    await t.clock.advance(35_000);
    const starts = t.sink.events.filter((e) => e.event_type === 'FLOW_START').map((e) => e.timestamp);
    assert.deepEqual(starts, [at(10_000), at(20_000), at(30_000)]);
    await t.runtime.stop();
    await t.clock.advance(30_000);
    assert.equal(t.sink.events.filter((e) => e.event_type === 'FLOW_START').length, 3);
    assert.throws(
      () => t.runtime.invoke(ulid(99)),
      (e: unknown) => e instanceof FlowRuntimeError && e.code === 'RUNTIME_STOPPED',
    );
  });

  test('streamExecutionLogs off: no event leaves, yet a streamed helper still names its caller', async () => {
    const helper = defineFlow({
      id: ulid(41),
      name: 'Streamed helper',
      folderPath: FOLDER_PATH,
      trigger: helperTrigger,
    })
      .compose('x')
      .build();
    const quiet = defineFlow({
      id: ulid(42),
      name: 'Quiet',
      folderPath: FOLDER_PATH,
      streamExecutionLogs: false,
    })
      .call(helper)
      .build();
    const t = testRuntime([helper, quiet]);
    const run = t.runtime.invoke(quiet.id);
    await t.clock.run(run.result);
    assert.deepEqual(project(t.sink.events, ['parent_execution_id', 'parent_flow_name', 'depth']), [
      {
        type: 'FLOW_START',
        flow: 'Streamed helper',
        parent_execution_id: run.executionId,
        parent_flow_name: 'Quiet',
        depth: 1,
      },
      {
        type: 'FLOW_COMPLETE',
        flow: 'Streamed helper',
        parent_execution_id: run.executionId,
        parent_flow_name: 'Quiet',
      },
    ]);
    const stats = t.runtime.stats();
    assert.equal(stats.eventsSuppressed, 2);
    assert.equal(stats.eventsByType.FLOW_START, 1);
  });

  test('helper flows nested past maxDepth fail with limit_exceeded', async () => {
    const recursive = defineFlow({
      id: ulid(43),
      name: 'Recurse',
      folderPath: FOLDER_PATH,
      trigger: helperTrigger,
    })
      .call(ulid(43))
      .build();
    const entry = defineFlow({ id: ulid(44), name: 'Entry', folderPath: FOLDER_PATH })
      .call(recursive)
      .build();
    const t = testRuntime([recursive, entry], { maxDepth: 3 });
    const result = await t.clock.run(t.runtime.invoke(entry.id).result);
    assert.equal(result.status, 'failed');
    const depths = t.sink.events.filter((e) => e.event_type === 'FLOW_START').map((e) => e.depth);
    assert.deepEqual(depths, [0, 1, 2, 3]);
    const deepest = t.sink.events.find((e) => e.event_type === 'FLOW_FAIL');
    assert.ok(deepest?.event_type === 'FLOW_FAIL');
    assert.deepEqual([deepest.error_code, deepest.error_type], ['DEPTH_LIMIT', 'limit_exceeded']);
    assertContract(t);
  });

  test('invoke refuses unknown flows and helper flows', () => {
    const helper = defineFlow({ id: ulid(45), name: 'H', folderPath: FOLDER_PATH, trigger: helperTrigger })
      .compose('x')
      .build();
    const t = testRuntime([helper]);
    assert.throws(
      () => t.runtime.invoke(ulid(46)),
      (e: unknown) => e instanceof FlowRuntimeError && e.code === 'RUNTIME_UNKNOWN_FLOW',
    );
    assert.throws(
      () => t.runtime.invoke(helper.id),
      (e: unknown) => e instanceof FlowRuntimeError && e.code === 'RUNTIME_NOT_INVOCABLE',
    );
  });

  test('a malformed set of flows is refused at construction with every problem', () => {
    const helperless = defineFlow({ id: ulid(47), name: 'Caller', folderPath: FOLDER_PATH })
      .call(ulid(48))
      .build();
    const notHelper = defineFlow({ id: ulid(48), name: 'Not a helper', folderPath: FOLDER_PATH })
      .compose('x')
      .build();
    assert.throws(
      () => testRuntime([helperless, notHelper]),
      (e: unknown) =>
        e instanceof FlowRuntimeError &&
        e.code === 'RUNTIME_INVALID_DEFINITION' &&
        e.problems.length === 1 &&
        e.problems[0]?.path === '/0/cards/0/flowId',
    );
    assert.throws(
      () => testRuntime([notHelper], { limits: { orgExecutionsPerSecond: 0 } }),
      (e: unknown) => e instanceof FlowRuntimeError && e.code === 'RUNTIME_INVALID_OPTION',
    );
  });
});
