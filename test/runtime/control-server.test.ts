import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type ControlServer, startControlServer } from '../../src/runtime/control-server.js';
import { defineFlow } from '../../src/runtime/flow-builder.js';
import { FlowRuntime } from '../../src/runtime/flow-runtime.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';
import { FOLDERS, ORG, USER, ulid } from './runtime-fixtures.js';

/** The control server over real HTTP, on a runtime in real time (cards here do not wait on the clock). */

const folderPath = [...FOLDERS];
const greet = defineFlow({ id: ulid(1), name: 'Greet', folderPath })
  .compose('Hello {{input.name}}', { as: 'g' })
  .return('{{g}}')
  .build();
const approval = defineFlow({ id: ulid(2), name: 'Approval', folderPath })
  .pause()
  .return('approved')
  .build();
const helper = defineFlow({ id: ulid(3), name: 'Helper', folderPath, trigger: { type: 'helper' } })
  .compose('x')
  .build();

async function call(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

describe('control server', () => {
  let runtime: FlowRuntime;
  let sink: MemorySink;
  let server: ControlServer;
  before(async () => {
    sink = new MemorySink();
    runtime = new FlowRuntime({ org: ORG, user: USER, flows: [greet, approval, helper], sink });
    server = await startControlServer({ runtime });
  });
  after(async () => {
    await runtime.stop();
    await server.close();
    await server.close();
  });

  test('POST /flows/{id}/invoke?wait=true runs the flow and answers its result', async () => {
    const answer = await call(server.url, 'POST', `/flows/${greet.id}/invoke?wait=true`, '{"name":"Ada"}');
    assert.equal(answer.status, 200);
    assert.deepEqual(
      [answer.body.status, answer.body.output, answer.body.flowId],
      ['completed', 'Hello Ada', greet.id],
    );
    const events = sink.events.filter((e) => e.execution_id === answer.body.executionId);
    assert.deepEqual(
      events.map((e) => e.event_type),
      ['FLOW_START', 'FLOW_COMPLETE'],
    );
  });

  test('an empty body is an empty input; without wait the answer is 202 with the execution id', async () => {
    const answer = await call(server.url, 'POST', `/flows/${greet.id}/invoke`);
    assert.equal(answer.status, 202);
    assert.equal(typeof answer.body.executionId, 'string');
  });

  test('pause, list, resume, cancel over HTTP', async () => {
    const first = await call(server.url, 'POST', `/flows/${approval.id}/invoke`, '{}');
    const second = await call(server.url, 'POST', `/flows/${approval.id}/invoke`, '{}');
    const listed = await call(server.url, 'GET', '/executions');
    const ids = (listed.body.executions as { executionId: string; paused: boolean }[])
      .filter((e) => e.paused)
      .map((e) => e.executionId);
    assert.ok(
      ids.includes(first.body.executionId as string) && ids.includes(second.body.executionId as string),
    );
    const resumed = await call(server.url, 'POST', `/executions/${first.body.executionId}/resume`);
    assert.deepEqual([resumed.status, resumed.body.resumed], [202, true]);
    const canceled = await call(server.url, 'POST', `/executions/${second.body.executionId}/cancel`);
    assert.deepEqual([canceled.status, canceled.body.canceled], [202, true]);
    while (
      runtime
        .list()
        .some((e) => e.executionId === first.body.executionId || e.executionId === second.body.executionId)
    ) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ends = sink.events
      .filter((e) => e.execution_id === first.body.executionId || e.execution_id === second.body.executionId)
      .map((e) => `${e.execution_id === first.body.executionId ? 'first' : 'second'} ${e.event_type}`);
    assert.deepEqual(ends, [
      'first FLOW_START',
      'first FLOW_PAUSE',
      'second FLOW_START',
      'second FLOW_PAUSE',
      'first FLOW_COMPLETE',
      'second FLOW_CANCEL',
    ]);
    const again = await call(server.url, 'POST', `/executions/${second.body.executionId}/cancel`);
    assert.deepEqual([again.status, again.body.errorCode], [404, 'E0000007']);
  });

  test("errors in Okta's shape", async () => {
    const cases: [string, 'GET' | 'POST', string, string | undefined, number, string][] = [
      ['unknown flow', 'POST', `/flows/${ulid(9)}/invoke`, '{}', 404, 'RUNTIME_UNKNOWN_FLOW'],
      ['helper flow', 'POST', `/flows/${helper.id}/invoke`, '{}', 404, 'RUNTIME_NOT_INVOCABLE'],
      ['bad JSON', 'POST', `/flows/${greet.id}/invoke`, '{"name":', 400, 'E0000003'],
      ['not an object', 'POST', `/flows/${greet.id}/invoke`, '[1]', 400, 'E0000003'],
      ['resume, not paused', 'POST', '/executions/nope/resume', undefined, 404, 'E0000007'],
      ['no route', 'POST', '/nowhere', undefined, 404, 'E0000007'],
      ['wrong method', 'GET', `/flows/${greet.id}/invoke`, undefined, 405, 'E0000022'],
      [
        'too large',
        'POST',
        `/flows/${greet.id}/invoke`,
        JSON.stringify({ pad: 'x'.repeat(70_000) }),
        413,
        'E0000004',
      ],
    ];
    for (const [label, method, path, body, status, code] of cases) {
      const answer = await call(server.url, method, path, body);
      assert.equal(answer.status, status, label);
      assert.equal(answer.body.errorCode, code, label);
      assert.equal(typeof answer.body.errorSummary, 'string', label);
      assert.deepEqual(answer.body.errorCauses, [], label);
    }
  });
});

describe('control server with a token, and after stop', () => {
  test('a token is required (Bearer or x-api-client-token); a stopped runtime answers 503', async () => {
    const runtime = new FlowRuntime({ org: ORG, user: USER, flows: [greet], sink: new MemorySink() });
    const server = await startControlServer({ runtime, token: 's3cret' });
    try {
      const path = `/flows/${greet.id}/invoke`;
      assert.equal((await call(server.url, 'POST', path, '{}')).status, 401);
      assert.equal(
        (await call(server.url, 'POST', path, '{}', { authorization: 'Bearer wrong' })).status,
        401,
      );
      assert.equal(
        (await call(server.url, 'POST', path, '{}', { authorization: 'Bearer s3cret' })).status,
        202,
      );
      assert.equal(
        (await call(server.url, 'POST', path, '{}', { 'x-api-client-token': 's3cret' })).status,
        202,
      );
      await runtime.stop();
      const stopped = await call(server.url, 'POST', path, '{}', { 'x-api-client-token': 's3cret' });
      assert.deepEqual([stopped.status, stopped.body.errorCode], [503, 'RUNTIME_STOPPED']);
    } finally {
      await server.close();
    }
  });
});
