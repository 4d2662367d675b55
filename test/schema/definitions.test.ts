import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BASE_FIELDS,
  EVENT_TYPE_FIELD,
  type FieldTable,
  fieldDefinition,
  SEED_SECTIONS,
  TYPE_FIELDS,
} from '../../src/schema/definitions.js';
import { EVENT_TYPES } from '../../src/schema/event-types.js';
import { validateEvent } from '../../src/schema/validate.js';
import { SEED_TABLES, strictEvent } from './seed-fixtures.js';

test('every row of the seed tables is defined, with the seed description and example, in the seed order', () => {
  const base = SEED_TABLES['Base Schema'];
  assert.ok(base);
  const { event_type: eventTypeRow, ...baseRows } = base;
  assert.equal(eventTypeRow?.description, EVENT_TYPE_FIELD.description);
  assert.equal(eventTypeRow?.exampleText, EVENT_TYPE_FIELD.seedExample);
  const sections: Array<[string, FieldTable, typeof baseRows]> = [
    ['Base Schema', BASE_FIELDS, baseRows],
    ...EVENT_TYPES.map((type): [string, FieldTable, typeof baseRows] => {
      const rows = SEED_TABLES[SEED_SECTIONS[type]];
      assert.ok(rows, SEED_SECTIONS[type]);
      return [SEED_SECTIONS[type], TYPE_FIELDS[type], rows];
    }),
  ];
  for (const [section, table, rows] of sections) {
    assert.deepEqual(Object.keys(table), Object.keys(rows), section);
    for (const [field, row] of Object.entries(rows)) {
      const def = table[field];
      assert.ok(def, `${section}.${field}`);
      assert.equal(def.description, row.description, `${section}.${field} description`);
      // JSON examples are compared parsed; the seed's non-JSON cells (retry_policy, the empty
      // throttling cells) as printed.
      const expected = row.example ?? (row.exampleText === '' ? undefined : row.exampleText);
      assert.deepEqual(def.seedExample, expected, `${section}.${field} example`);
      assert.equal(def.ifApplicable, row.description.startsWith('If applicable'), `${section}.${field}`);
      if (def.ifApplicable) assert.equal(def.strict, 'optional', `${section}.${field} is "If applicable"`);
    }
  }
});

test('units follow SPEC §1: duration, pause_duration in ms; retry_delay, backoff_duration in s', () => {
  assert.equal(fieldDefinition('FLOW_COMPLETE', 'duration')?.unit, 'milliseconds');
  assert.equal(fieldDefinition('FLOW_PAUSE', 'pause_duration')?.unit, 'milliseconds');
  assert.equal(fieldDefinition('FLOW_FAIL', 'retry_delay')?.unit, 'seconds');
  assert.equal(fieldDefinition('FLOW_RATE_LIMIT', 'backoff_duration')?.unit, 'seconds');
});

test("every field's typedExample is strict-valid in its place", () => {
  for (const type of EVENT_TYPES) {
    const tables: FieldTable[] = [BASE_FIELDS, TYPE_FIELDS[type]];
    for (const table of tables) {
      for (const [field, def] of Object.entries(table)) {
        const result = validateEvent(strictEvent(type, { [field]: def.typedExample }), 'strict');
        assert.deepEqual(result, { ok: true, eventType: type }, `${type}.${field}`);
      }
    }
  }
});

test('every seed table example value (as printed) is lenient-valid in its place', () => {
  for (const type of EVENT_TYPES) {
    const tables: FieldTable[] = [BASE_FIELDS, TYPE_FIELDS[type]];
    for (const table of tables) {
      for (const [field, def] of Object.entries(table)) {
        if (def.seedExample === undefined) continue;
        const result = validateEvent(strictEvent(type, { [field]: def.seedExample }), 'lenient');
        assert.deepEqual(result, { ok: true, eventType: type }, `${type}.${field}`);
      }
    }
  }
});

test('fieldDefinition prefers the type table and knows nothing else', () => {
  assert.equal(fieldDefinition('FLOW_START', 'address')?.seedExample, 'root:kernel:string:0.0.1:compose');
  assert.equal(fieldDefinition('FLOW_COMPLETE', 'address')?.seedExample, 'root:kernel:control:0.0.1:return');
  assert.equal(fieldDefinition('FLOW_START', 'duration'), undefined);
  assert.equal(fieldDefinition(undefined, 'org_id')?.kind, 'ulid');
  assert.equal(fieldDefinition('FLOW_START', 'toString'), undefined);
  assert.equal(fieldDefinition('FLOW_START', '__proto__'), undefined);
});
