import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defineFlow } from '../../src/runtime/flow-builder.js';
import {
  type Card,
  cardAddress,
  parseFlowDefinitions,
  startAddress,
} from '../../src/runtime/flow-definition.js';
import { sampleOrgFlows } from '../../src/runtime/sample-org.js';
import { evaluateCondition, renderValue } from '../../src/runtime/template.js';
import { FOLDERS, ulid } from './runtime-fixtures.js';

const folderPath = [...FOLDERS];

describe('flow definitions (JSON)', () => {
  test('what the builder writes survives JSON and parses back unchanged', () => {
    const helper = defineFlow({ id: ulid(1), name: 'Helper', folderPath, trigger: { type: 'helper' } })
      .text('concatenate', ['{{input.a}}', '{{input.b}}'], { argument: ' ', as: 'ab' })
      .return('{{ab}}')
      .build();
    const main = defineFlow({
      id: ulid(2),
      name: 'Main',
      folderPath,
      retry: { attempts: 2, delaySeconds: 60 },
    })
      .compose('x', { as: 'x', address: 'root:kernel:string:0.0.1:compose' })
      .call(helper, { a: 1, b: '{{x}}' }, { as: 'joined' })
      .http('POST', 'https://api.example.com/{{x}}', { body: { k: ['{{joined}}'] }, timeoutMillis: 5000 })
      .if(
        { value: '{{joined}}', operator: 'contains', compareTo: 'x' },
        (yes) => yes.wait(1000),
        (no) => no.pause(),
      )
      .try(
        (body) => body.fail('nope', { code: 'C', errorType: 'custom_error' }),
        (handler) => handler.compose('{{error.message}}'),
        { retry: { attempts: 1, delaySeconds: 0 }, errorAs: 'problem' },
      )
      .return()
      .build();
    const json = JSON.parse(JSON.stringify([helper, main])) as unknown;
    const parsed = parseFlowDefinitions(json);
    assert.deepEqual(parsed, { ok: true, flows: [helper, main] });
  });

  test('each problem is reported with its JSON Pointer', () => {
    const result = parseFlowDefinitions([
      {
        id: 'not-a-ulid',
        name: 'Bad',
        folderPath: [],
        streamExecutionLogs: 'yes',
        trigger: { type: 'api_endpoint' },
        cards: [{ type: 'compose', template: 'x' }],
      },
      {
        id: ulid(3),
        name: 'Cards',
        folderPath,
        streamExecutionLogs: true,
        trigger: { type: 'api_endpoint' },
        cards: [
          { type: 'compose', template: 'x', tempalte: 'typo' },
          { type: 'teleport' },
          {
            type: 'if',
            condition: { value: 1, operator: 'equals' },
            ifTrue: [{ type: 'wait', durationMillis: -1 }],
          },
          { type: 'http', method: 'GET', url: 'x', address: 'not an address' },
        ],
      },
      {
        id: ulid(4),
        name: 'T',
        folderPath,
        streamExecutionLogs: true,
        trigger: { type: 'webhook' },
        cards: [{ type: 'return' }],
      },
      {
        id: ulid(5),
        name: 'S',
        folderPath,
        streamExecutionLogs: true,
        trigger: { type: 'schedule' },
        cards: [{ type: 'return' }],
      },
    ]);
    assert.equal(result.ok, false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    for (const expected of [
      '/0/id',
      '/0/folderPath',
      '/0/streamExecutionLogs',
      '/1/cards/0/tempalte',
      '/1/cards/1/type',
      '/1/cards/2/ifTrue/0/durationMillis',
      '/1/cards/3/address',
      '/2/trigger/type',
      '/3/trigger/everyMillis',
    ]) {
      assert.ok(paths.includes(expected), `${expected} in ${JSON.stringify(paths)}`);
    }
    assert.ok(!result.ok && result.problems.every((p) => typeof p.message === 'string' && p.message !== ''));
  });

  test('cross-flow rules: unique ids, call cards name helper flows of the set', () => {
    const a = defineFlow({ id: ulid(4), name: 'A', folderPath })
      .call(ulid(5))
      .call(ulid(6))
      .build();
    const b = defineFlow({ id: ulid(5), name: 'B', folderPath })
      .compose('x')
      .build();
    const result = parseFlowDefinitions([a, b, b]);
    assert.deepEqual(result.ok ? [] : result.problems.map((p) => p.path), [
      '/2/id',
      '/0/cards/0/flowId',
      '/0/cards/1/flowId',
    ]);
  });

  test('a single flow object is accepted too; problems then have no index', () => {
    assert.equal(
      parseFlowDefinitions(
        defineFlow({ id: ulid(7), name: 'One', folderPath })
          .compose('x')
          .build(),
      ).ok,
      true,
    );
    const bad = parseFlowDefinitions({ id: ulid(7) });
    assert.ok(!bad.ok && bad.problems.some((p) => p.path === '/name'));
  });

  test('addresses: card defaults, connector overrides, start addresses per trigger', () => {
    const cards: Card[] = [
      { type: 'compose', template: '' },
      { type: 'text', operation: 'uppercase', value: '' },
      { type: 'call', flowId: ulid(1) },
      { type: 'http', method: 'GET', url: '' },
      { type: 'http', method: 'GET', url: '', address: 'gmail:sendEmail:example:1.0.17' },
      { type: 'wait', durationMillis: 1 },
      { type: 'return' },
      { type: 'fail', message: '' },
    ];
    assert.deepEqual(cards.map(cardAddress), [
      'root:kernel:string:0.0.1:compose',
      'root:kernel:string:0.0.1:uppercase',
      'root:kernel:control:0.0.1:call',
      'root:kernel:http:0.0.1:raw_request',
      'gmail:sendEmail:example:1.0.17',
      'root:kernel:control:0.0.1:wait_for',
      'root:kernel:control:0.0.1:return',
      'root:kernel:error:0.0.1:return_error',
    ]);
    const base = { id: ulid(8), name: 'S', folderPath };
    assert.equal(startAddress(defineFlow(base).compose('x').build()), 'root:kernel:string:0.0.1:compose');
    assert.equal(
      startAddress(
        defineFlow({ ...base, trigger: { type: 'helper' } })
          .compose('x')
          .build(),
      ),
      'root:kernel:control:0.0.1:callable',
    );
    assert.equal(
      startAddress(
        defineFlow({
          ...base,
          trigger: { type: 'api_endpoint', address: 'root:kernel:http:0.0.1:api_endpoint' },
        })
          .compose('x')
          .build(),
      ),
      'root:kernel:http:0.0.1:api_endpoint',
    );
  });

  test('the sample org is a valid set of flows', () => {
    const parsed = parseFlowDefinitions(JSON.parse(JSON.stringify(sampleOrgFlows('http://127.0.0.1:1'))));
    assert.deepEqual(parsed.ok ? [] : parsed.problems, []);
  });

  test('the example in docs/runtime.md parses', () => {
    const doc = readFileSync(new URL('../../docs/runtime.md', import.meta.url), 'utf8');
    const block = /```json\n([\s\S]*?)\n```/.exec(doc);
    assert.ok(block, 'a json block in docs/runtime.md');
    const parsed = parseFlowDefinitions(JSON.parse(block[1] as string));
    assert.deepEqual(parsed.ok ? [] : parsed.problems, []);
  });
});

describe('templates and conditions', () => {
  const scope = { input: { n: '12', list: ['a', 'b'], user: { first: 'Ada' } }, x: null };
  test('a whole reference keeps the value; mixed text renders text; missing is empty', () => {
    assert.deepEqual(renderValue('{{input.list}}', scope), ['a', 'b']);
    assert.equal(
      renderValue('{{ input.user.first }} ({{input.list.1}}) {{nope.x}}|{{x}}', scope),
      'Ada (b) |',
    );
    assert.equal(renderValue('{{nope}}', scope), undefined);
    assert.deepEqual(renderValue({ a: ['{{input.n}}', 3, true, null] }, scope), { a: ['12', 3, true, null] });
    // Only own properties: no walking into prototypes.
    assert.equal(renderValue('{{input.constructor}}', scope), undefined);
  });

  test('comparisons are numeric when both sides are numbers, else textual', () => {
    const check = (value: unknown, operator: string, compareTo?: unknown) =>
      evaluateCondition({ value, operator, compareTo } as never, scope);
    assert.equal(check('{{input.n}}', 'greater_than', 9), true);
    assert.equal(check('{{input.n}}', 'equals', '12.0'), true);
    assert.equal(check('b', 'greater_than', 'a'), true);
    assert.equal(check('{{input.list}}', 'contains', 'b'), true);
    assert.equal(check('{{input.user.first}}', 'contains', 'd'), true);
    assert.equal(check('{{x}}', 'exists'), false);
    assert.equal(check('', 'not_exists'), true);
    assert.equal(check('{{input.n}}', 'not_equals', 12), false);
    assert.equal(check(3, 'less_than', '10'), true);
  });
});
