import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aliasesOf,
  canonicalEventType,
  EVENT_TYPE_ALIASES,
  EVENT_TYPES,
  isCanonicalEventType,
} from '../../src/schema/event-types.js';

test('the seven canonical types of SPEC §1, in order', () => {
  assert.deepEqual(EVENT_TYPES, [
    'FLOW_START',
    'FLOW_COMPLETE',
    'FLOW_FAIL',
    'FLOW_CANCEL',
    'FLOW_PAUSE',
    'FLOW_RATE_LIMIT',
    'FLOW_THROTTLE',
  ]);
});

test('the aliases of SPEC §1 map to their canonical type', () => {
  assert.deepEqual(
    { ...EVENT_TYPE_ALIASES },
    {
      FLOW_FAILED: 'FLOW_FAIL',
      FLOW_FAILURE: 'FLOW_FAIL',
      FLOW_CANCELED: 'FLOW_CANCEL',
      FLOW_CANCELLED: 'FLOW_CANCEL',
      FLOW_PAUSED: 'FLOW_PAUSE',
      FLOW_RATE_LIMITED: 'FLOW_RATE_LIMIT',
      FLOW_THROTTLED: 'FLOW_THROTTLE',
    },
  );
  assert.ok(Object.isFrozen(EVENT_TYPE_ALIASES));
  assert.deepEqual(aliasesOf('FLOW_CANCEL'), ['FLOW_CANCELED', 'FLOW_CANCELLED']);
  assert.deepEqual(aliasesOf('FLOW_START'), []);
});

test('canonicalEventType resolves names and aliases, exactly', () => {
  for (const type of EVENT_TYPES) assert.equal(canonicalEventType(type), type);
  for (const [alias, type] of Object.entries(EVENT_TYPE_ALIASES))
    assert.equal(canonicalEventType(alias), type);
  for (const other of [
    'flow_start',
    'FLOW_STARTED',
    '',
    ' FLOW_START',
    'toString',
    '__proto__',
    'constructor',
  ]) {
    assert.equal(canonicalEventType(other), undefined, other);
  }
  assert.equal(isCanonicalEventType('FLOW_FAIL'), true);
  assert.equal(isCanonicalEventType('FLOW_FAILED'), false);
});
