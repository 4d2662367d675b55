import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPE_ALIASES, EVENT_TYPES } from '../../src/schema/event-types.js';
import { EventValidationError, normalizeEvent } from '../../src/schema/normalize.js';
import { validateEvent } from '../../src/schema/validate.js';
import { SEED_EXAMPLES, strictEvent } from './seed-fixtures.js';

describe('normalizeEvent', () => {
  test('types the string forms of numbers and booleans, and keeps the input unchanged', () => {
    const raw = strictEvent('FLOW_FAIL', {
      event_type: 'FLOW_FAILURE',
      duration: '7200',
      step_count: '12',
      fatal: 'TRUE',
      throttled: 'false',
      retry_delay: '600',
      retry_policy: 'Flow',
    });
    const before = structuredClone(raw);
    const event = normalizeEvent(raw);
    assert.deepEqual(raw, before);
    assert.equal(event.event_type, 'FLOW_FAIL');
    assert.ok(event.event_type === 'FLOW_FAIL');
    assert.equal(event.duration, 7200);
    assert.equal(event.step_count, 12);
    assert.equal(event.fatal, true);
    assert.equal(event.throttled, false);
    assert.equal(event.retry_delay, 600);
    assert.equal(event.retry_policy, 'flow');
    assert.deepEqual(validateEvent(event, 'strict'), { ok: true, eventType: 'FLOW_FAIL' });
  });

  test('the seed examples keep their values and key order; strict problems are only the ids and missing fields', () => {
    for (const raw of Object.values(SEED_EXAMPLES)) {
      const event = normalizeEvent(raw);
      assert.deepEqual(event, raw);
      assert.deepEqual(Object.keys(event), Object.keys(raw));
    }
  });

  test('folder_name string, folder_id_path spaces, retry_policy forms, timestamps', () => {
    const cases: Array<[string, unknown, unknown]> = [
      ['folder_name', 'Parent', ['Parent']],
      ['folder_name', '', []],
      ['folder_name', 'a/b', ['a/b']],
      [
        'folder_id_path',
        '01J2CT7B5P5DFHKFDE85FW6BTV/ 01J2CT9EN0Q26F3BX8YMWE1EDX',
        '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
      ],
      ['timestamp', '2024-04-04T20:30:38+02:00', '2024-04-04T18:30:38.000Z'],
      ['timestamp', '2024-04-04 18:30:38.123456z', '2024-04-04T18:30:38.123Z'],
      ['timestamp', '2024-04-04T20:30:38.5+02', '2024-04-04T18:30:38.500Z'],
      ['timestamp', '2016-12-31T23:59:60Z', '2016-12-31T23:59:60Z'],
    ];
    for (const [field, value, expected] of cases) {
      const event = normalizeEvent(strictEvent('FLOW_COMPLETE', { [field]: value })) as Record<
        string,
        unknown
      >;
      assert.deepEqual(event[field], expected, `${field}: ${JSON.stringify(value)}`);
    }
    for (const [value, expected] of [
      ['handler (try/catch)', 'handler'],
      ['HANDLER', 'handler'],
      [' flow ', 'flow'],
      ['something else', 'something else'],
    ]) {
      const event = normalizeEvent(strictEvent('FLOW_FAIL', { retry_policy: value }));
      assert.ok(event.event_type === 'FLOW_FAIL');
      assert.equal(event.retry_policy, expected);
    }
  });

  test('drops null optional fields, keeps unknown fields (also "__proto__") as plain data', () => {
    const raw = JSON.parse(
      JSON.stringify(
        strictEvent('FLOW_START', { parent_flow_id: null, depth: null, extra: { a: 1 } }),
      ).replace('{', '{"__proto__":{"polluted":true},'),
    ) as Record<string, unknown>;
    const event = normalizeEvent(raw) as Record<string, unknown>;
    assert.equal('parent_flow_id' in event, false);
    assert.equal('depth' in event, false);
    assert.deepEqual(event.extra, { a: 1 });
    assert.equal(Object.getPrototypeOf(event), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(event, '__proto__')?.value, { polluted: true });
    assert.equal((event as { polluted?: unknown }).polluted, undefined);
  });

  test('aliases become canonical', () => {
    for (const [alias, canonical] of Object.entries(EVENT_TYPE_ALIASES)) {
      assert.equal(normalizeEvent(strictEvent(canonical, { event_type: alias })).event_type, canonical);
    }
  });

  test('an invalid event is a caller error with the issues attached', () => {
    assert.throws(
      () => normalizeEvent({ event_type: 'FLOW_START' }),
      (err: unknown) =>
        err instanceof EventValidationError &&
        err.code === 'FS_INVALID_EVENT' &&
        err.issues.some((i) => i.path === '/execution_id' && i.code === 'FS_REQUIRED'),
    );
  });

  test('property: a strict-valid event with its numbers and booleans stringified normalizes back to itself', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.nat(),
        fc.boolean(),
        fc.constantFrom(
          (b: boolean) => String(b),
          (b: boolean) => String(b).toUpperCase(),
        ),
        (type, n, flag, showBool) => {
          const typed = strictEvent(type, { throttled: flag });
          const stringly: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(typed)) {
            stringly[k] =
              typeof v === 'number'
                ? String(v === 0 ? n % 100 : v)
                : typeof v === 'boolean'
                  ? showBool(v)
                  : v;
          }
          const event = normalizeEvent(stringly) as Record<string, unknown>;
          assert.deepEqual(validateEvent(event, 'strict').ok, true);
          for (const [k, v] of Object.entries(typed)) {
            if (typeof v === 'boolean' || (typeof v === 'number' && v !== 0)) assert.equal(event[k], v);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
