import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineFlow } from '../../src/runtime/flow-builder.js';
import { normalizeEvent } from '../../src/schema/normalize.js';
import { validateEvent } from '../../src/schema/validate.js';
import { SEED_EXAMPLES } from '../helpers/outbound-events.js';
import { FOLDERS, testRuntime, ulid } from './runtime-fixtures.js';

/**
 * The seed's Example, produced by running flows (not by calling the SDK by hand): "a flow triggered
 * through an API Endpoint event card that also calls a helper flow". The parent flow "PDV Log
 * Streaming" runs 108 steps, starting with a compose card and ending at a return card; the helper
 * "2. Simple Helper flow " is called by "Flow 1: API Invoke Flow", itself called by a root flow, and
 * runs 2 steps ending at a compose card. Our four events must have the seed's fields in the seed's
 * order with the seed's (typed) JSON types, and the seed's addresses, step counts and lineage.
 */

/** Fields the Base Schema / type tables define that the seed's example records do not print. */
const OMITTED_BY_SEED_EXAMPLE: Readonly<Record<string, readonly string[]>> = {
  'parent start': ['org_hostname', 'user_id', 'folder_name', 'depth'],
  'parent complete': ['org_hostname', 'user_id', 'folder_name'],
  'helper start': ['org_hostname', 'user_id', 'root_flow_name', 'folder_name', 'depth'],
  'helper complete': ['org_hostname', 'user_id', 'root_flow_name', 'folder_name'],
};

test('the seed example, shape for shape, from running flows', async () => {
  const seed = SEED_EXAMPLES.map((text) => JSON.parse(text) as Record<string, unknown>);
  const folderPath = [...FOLDERS];
  const pdv = defineFlow({ id: ulid(1), name: 'PDV Log Streaming', folderPath });
  for (let i = 0; i < 107; i++) pdv.compose(`step ${i}`);
  const parent = pdv.return('done').build();
  const helper = defineFlow({
    id: ulid(2),
    name: '2. Simple Helper flow ',
    folderPath,
    trigger: { type: 'helper' },
  })
    .compose('{{input.value}}', { as: 'value' })
    .compose('{{value}}!', { as: 'result' })
    .build();
  const flow1 = defineFlow({
    id: ulid(3),
    name: 'Flow 1: API Invoke Flow',
    folderPath,
    trigger: { type: 'helper' },
  })
    .call(helper, { value: '{{input.value}}' })
    .return('ok')
    .build();
  const root = defineFlow({ id: ulid(4), name: 'Root Flow Calling Example Flow', folderPath })
    .call(flow1, { value: 'x' })
    .return('ok')
    .build();

  const t = testRuntime([parent, helper, flow1, root]);
  const parentRun = t.runtime.invoke(parent.id);
  const rootRun = t.runtime.invoke(root.id);
  await t.clock.run(Promise.all([parentRun.result, rootRun.result]));

  const events = t.sink.events as unknown as Record<string, unknown>[];
  const of = (flowId: string) => events.filter((e) => e.flow_id === flowId);
  const [parentStart, parentComplete] = of(parent.id);
  const [helperStart, helperComplete] = of(helper.id);
  const [flow1Start] = of(flow1.id);
  const pairs = [
    ['parent start', seed[0], parentStart],
    ['parent complete', seed[1], parentComplete],
    ['helper start', seed[2], helperStart],
    ['helper complete', seed[3], helperComplete],
  ] as const;
  for (const [label, theirs, mine] of pairs) {
    assert.ok(theirs && mine, label);
    const seedKeys = Object.keys(theirs);
    const mineKeys = Object.keys(mine);
    assert.deepEqual(
      mineKeys.filter((k) => seedKeys.includes(k)),
      seedKeys,
      `${label}: the seed's fields in the seed's order`,
    );
    assert.deepEqual(
      mineKeys.filter((k) => !seedKeys.includes(k)),
      OMITTED_BY_SEED_EXAMPLE[label],
      `${label}: the only extra fields are ones the seed's tables define`,
    );
    const typed = normalizeEvent(theirs) as unknown as Record<string, unknown>;
    for (const key of seedKeys) assert.equal(typeof mine[key], typeof typed[key], `${label}: type of ${key}`);
    assert.deepEqual(validateEvent(mine, 'strict'), { ok: true, eventType: theirs.event_type }, label);
    for (const key of ['event_type', 'engine_mode', 'throttled', 'address', 'step_count', 'org_name']) {
      assert.deepEqual(mine[key], typed[key], `${label}: ${key} as in the seed`);
    }
  }
  assert.equal(parentStart?.depth, 0);
  assert.equal(helperStart?.depth, 2);
  for (const event of [helperStart, helperComplete]) {
    assert.equal(event?.parent_execution_id, flow1Start?.execution_id);
    assert.equal(event?.parent_flow_name, 'Flow 1: API Invoke Flow');
    assert.equal(event?.root_execution_id, rootRun.executionId);
    assert.equal(event?.root_flow_id, root.id);
  }
  assert.equal(events.length, 8);
  assert.deepEqual(t.reports, []);
});
