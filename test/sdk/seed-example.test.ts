import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeEvent } from '../../src/schema/normalize.js';
import { validateEvent } from '../../src/schema/validate.js';
import type { FlowRef } from '../../src/sdk/execution-handle.js';
import { ExecutionLog } from '../../src/sdk/execution-log.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';
import { SEED_EXAMPLES } from '../helpers/outbound-events.js';
import { sequentialUuids } from './sdk-fixtures.js';

/**
 * The seed's Example, produced through the SDK the way an engine would: a parent flow started by a
 * card and completed, and a helper flow (called from "Flow 1: API Invoke Flow", itself called from
 * the root flow) started and completed. Our events must have the seed's fields, in the seed's
 * order, typed; the only extra fields are Base Schema/type fields the seed's example leaves out.
 */

const FOLDER = {
  id: '01J2CT9EN0Q26F3BX8YMWE1EDX',
  idPath: ['01J2CT7B5P5DFHKFDE85FW6BTV', '01J2CT9EN0Q26F3BX8YMWE1EDX'],
  names: ['Log streaming', 'Examples'],
};
const flow = (id: string, name: string): FlowRef => ({ id, name, folder: FOLDER });

/** Fields the Base Schema / type tables define that the seed's four example records do not print. */
const OMITTED_BY_SEED_EXAMPLE: Readonly<Record<string, readonly string[]>> = {
  'parent start': ['org_hostname', 'user_id', 'folder_name', 'depth'],
  'parent complete': ['org_hostname', 'user_id', 'folder_name'],
  'helper start': ['org_hostname', 'user_id', 'root_flow_name', 'folder_name', 'depth'],
  'helper complete': ['org_hostname', 'user_id', 'root_flow_name', 'folder_name'],
};

test('the seed example, shape for shape, typed and strict-valid', () => {
  const seed = SEED_EXAMPLES.map((text) => JSON.parse(text) as Record<string, unknown>);
  let wall = Date.parse('2024-04-04T18:30:38.730Z');
  let mono = 0;
  const sink = new MemorySink();
  const log = new ExecutionLog({
    org: { id: '01J29TH3XHECT79M257GG2QTKJ', name: 'logstream-01', hostname: 'atko.okta.com' },
    sink,
    now: () => wall,
    monotonicNow: () => mono,
    randomUUID: sequentialUuids(),
    // The seed's example email is already hashed; ours is hashed by the SDK.
    hashUserEmail: { key: 'example-key' },
  });
  const user = { id: '01J29TRZDZKSY6V70GATDAHN2N', email: 'jessie.doe@example.corp' };

  // Parent flow: started by a compose card, 108 steps, 1827 ms on the monotonic clock. The seed's
  // own timestamps are 47 ms apart for a 1827 ms duration: the two clocks are independent here too.
  const parent = log.start(flow('01J29TGKQERR78AD3VN0P9DPSW', 'PDV Log Streaming'), {
    user,
    address: 'root:kernel:string:0.0.1:compose',
  });
  parent.step(108);
  wall += 47;
  mono += 1827;
  parent.complete({ address: 'root:kernel:control:0.0.1:return' });

  // The helper's chain: root flow → "Flow 1: API Invoke Flow" → "2. Simple Helper flow ".
  wall = Date.parse('2024-04-04T18:58:15.861Z');
  const root = log.start(flow('01J29TTS7X37QSTKPJBGS52ENF', 'Root Flow Calling Example Flow'), {
    user,
    address: 'root:kernel:http:0.0.1:api_endpoint',
  });
  const flow1 = root.startChild(flow('01J29TTH757HFCK5FPMCRCT6A3', 'Flow 1: API Invoke Flow'), {
    address: 'root:kernel:control:0.0.1:callable',
  });
  const helper = flow1.startChild(flow('01J29TGKQERR78AD3VN0P9DPSX', '2. Simple Helper flow '), {
    address: 'root:kernel:control:0.0.1:callable',
  });
  helper.step(2);
  wall += 40;
  mono += 41;
  helper.complete({ address: 'root:kernel:string:0.0.1:compose' });

  const byExecution = (id: string) => sink.events.filter((e) => e.execution_id === id);
  const [parentStart, parentComplete] = byExecution(parent.executionId);
  const [helperStart, helperComplete] = byExecution(helper.executionId);
  const ours = { parentStart, parentComplete, helperStart, helperComplete };
  const pairs = [
    ['parent start', seed[0], parentStart],
    ['parent complete', seed[1], parentComplete],
    ['helper start', seed[2], helperStart],
    ['helper complete', seed[3], helperComplete],
  ] as const;

  for (const [label, theirs, mine] of pairs) {
    assert.ok(theirs && mine, label);
    const mineRecord = mine as unknown as Record<string, unknown>;
    const seedKeys = Object.keys(theirs);
    const mineKeys = Object.keys(mineRecord);
    // Every field of the seed's record, in the seed's order.
    assert.deepEqual(
      mineKeys.filter((k) => seedKeys.includes(k)),
      seedKeys,
      `${label}: the seed's fields in the seed's order`,
    );
    // And nothing else but the fields the seed's example leaves out.
    assert.deepEqual(
      mineKeys.filter((k) => !seedKeys.includes(k)),
      OMITTED_BY_SEED_EXAMPLE[label],
      `${label}: extra fields`,
    );
    // Each field has the JSON type of the seed's value once typed ("1827" → 1827, "false" → false).
    const typed = normalizeEvent(theirs) as unknown as Record<string, unknown>;
    for (const key of seedKeys) {
      assert.equal(typeof mineRecord[key], typeof typed[key], `${label}: type of ${key}`);
    }
    assert.deepEqual(validateEvent(mine, 'strict'), { ok: true, eventType: theirs.event_type }, label);
  }

  // Values the seed's example fixes.
  assert.deepEqual(
    [ours.parentStart?.timestamp, ours.parentComplete?.timestamp],
    ['2024-04-04T18:30:38.730Z', '2024-04-04T18:30:38.777Z'],
  );
  assert.deepEqual(
    [ours.helperStart?.timestamp, ours.helperComplete?.timestamp],
    ['2024-04-04T18:58:15.861Z', '2024-04-04T18:58:15.901Z'],
  );
  const pc = ours.parentComplete;
  const hc = ours.helperComplete;
  assert.ok(pc?.event_type === 'FLOW_COMPLETE' && hc?.event_type === 'FLOW_COMPLETE');
  assert.deepEqual([pc.duration, pc.step_count, pc.address], [1827, 108, 'root:kernel:control:0.0.1:return']);
  assert.deepEqual([hc.duration, hc.step_count, hc.address], [41, 2, 'root:kernel:string:0.0.1:compose']);
  assert.ok(parentStart?.event_type === 'FLOW_START' && helperStart?.event_type === 'FLOW_START');
  assert.deepEqual([parentStart.address, helperStart.address], [seed[0]?.address, seed[2]?.address]);
  for (const event of [helperStart, helperComplete]) {
    assert.equal(event?.parent_execution_id, flow1.executionId);
    assert.equal(event?.parent_flow_name, 'Flow 1: API Invoke Flow');
    assert.equal(event?.root_execution_id, root.executionId);
    assert.equal(event?.root_flow_id, '01J29TTS7X37QSTKPJBGS52ENF');
    assert.equal(event?.root_flow_name, 'Root Flow Calling Example Flow');
  }
  assert.equal(helperStart?.event_type === 'FLOW_START' && helperStart.depth, 2);
  // Four events per execution pair, each with its own key.
  assert.equal(new Set(sink.events.map((e) => e.idempotency_key)).size, sink.events.length);
});
