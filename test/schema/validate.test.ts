import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_ERROR_CODES, type EventErrorCode } from '../../src/schema/error-codes.js';
import { EVENT_TYPE_ALIASES, EVENT_TYPES, type EventType } from '../../src/schema/event-types.js';
import { type ValidationMode, type ValidationResult, validateEvent } from '../../src/schema/validate.js';
import { type JsonRecord, SEED_EXAMPLES, STRICT_BASE, strictEvent, without } from './seed-fixtures.js';

const MODES: readonly ValidationMode[] = ['lenient', 'strict'];

function issues(result: ValidationResult): Array<[string, string]> {
  return result.ok ? [] : result.errors.map((e) => [e.path, e.code]);
}

function issuesOf(value: unknown, mode: ValidationMode): Array<[string, string]> {
  return issues(validateEvent(value, mode));
}

describe('the seed examples', () => {
  for (const [name, event] of Object.entries(SEED_EXAMPLES)) {
    test(`lenient accepts ${name}`, () => {
      const result = validateEvent(event, 'lenient');
      assert.deepEqual(result, { ok: true, eventType: event.event_type });
    });
  }

  // Each deviation of the seed's examples from the documented formats, field by field.
  const commonDeviations: Array<[string, string]> = [
    ['/flow_id', 'FS_FORMAT_ULID'],
    ['/org_id', 'FS_FORMAT_ULID'],
    ['/org_hostname', 'FS_REQUIRED'],
    ['/user_id', 'FS_REQUIRED'],
  ];
  const parentTail: Array<[string, string]> = [
    ['/folder_id_path', 'FS_FORMAT_FOLDER_ID_PATH'],
    ['/folder_id', 'FS_FORMAT_ULID'],
    ['/folder_name', 'FS_REQUIRED'],
    ['/idempotency_key', 'FS_FORMAT_UUID'],
  ];
  const helperTail: Array<[string, string]> = [
    ['/parent_flow_id', 'FS_FORMAT_ULID'], // the seed gives a UUID here
    ['/root_flow_id', 'FS_FORMAT_ULID'],
    ...parentTail, // folder_id_path and folder_id are "" in the helper's events
  ];
  const expected: Record<string, Array<[string, string]>> = {
    'parent-flow-start': [...commonDeviations, ...parentTail, ['/depth', 'FS_REQUIRED']],
    'parent-flow-complete': [...commonDeviations, ...parentTail],
    'helper-flow-start': [...commonDeviations, ...helperTail, ['/depth', 'FS_REQUIRED']],
    'helper-flow-complete': [...commonDeviations, ...helperTail],
  };
  for (const [name, event] of Object.entries(SEED_EXAMPLES)) {
    test(`strict reports each deviation of ${name}`, () => {
      assert.deepEqual(issuesOf(event, 'strict'), expected[name]);
    });
  }

  test('strict messages name the field, the expectation and the value found', () => {
    const result = validateEvent(SEED_EXAMPLES['helper-flow-complete'], 'strict');
    assert.equal(result.ok, false);
    const byPath = new Map(result.ok ? [] : result.errors.map((e) => [e.path, e.message]));
    assert.equal(
      byPath.get('/idempotency_key'),
      'idempotency_key must be a UUID such as "f1aaa750-6d92-485e-acf7-dd167e00db2f", got "a888ffb7e2d71d264fcce697a855fc8".',
    );
    assert.equal(
      byPath.get('/org_hostname'),
      'org_hostname is required in strict validation but is missing.',
    );
    assert.match(
      byPath.get('/folder_id') ?? '',
      /^folder_id must be a 26-character ULID .*got an empty string\.$/,
    );
  });

  test('does not mutate the event', () => {
    const event = structuredClone(SEED_EXAMPLES['parent-flow-complete']);
    validateEvent(event, 'strict');
    validateEvent(event, 'lenient');
    assert.deepEqual(event, SEED_EXAMPLES['parent-flow-complete']);
  });
});

describe('strict-valid events', () => {
  for (const type of EVENT_TYPES) {
    test(`${type} built from the seed's typed examples is valid in both modes`, () => {
      for (const mode of MODES)
        assert.deepEqual(validateEvent(strictEvent(type), mode), { ok: true, eventType: type });
    });
  }

  test('"If applicable" fields may be omitted in strict mode', () => {
    const event = without(
      strictEvent('FLOW_FAIL'),
      'parent_execution_id',
      'parent_flow_id',
      'parent_flow_name',
      'root_execution_id',
      'root_flow_id',
      'root_flow_name',
      'retry_policy',
      'retry_delay',
    );
    assert.equal(validateEvent(event, 'strict').ok, true);
    assert.equal(validateEvent(without(strictEvent('FLOW_PAUSE'), 'pause_duration'), 'strict').ok, true);
  });

  test('unknown extra fields are allowed in both modes', () => {
    const event = strictEvent('FLOW_COMPLETE', { future_field: { nested: [1, 2] }, __proto__x: 1 });
    for (const mode of MODES) assert.equal(validateEvent(event, mode).ok, true);
  });

  test('strict requires every Base Schema field not marked "If applicable", and the type fields', () => {
    const required = [
      'execution_id',
      'timestamp',
      'flow_id',
      'flow_name',
      'org_id',
      'org_name',
      'org_hostname',
      'user_id',
      'user_email',
      'folder_id_path',
      'folder_id',
      'folder_name',
      'engine_mode',
      'idempotency_key',
      'throttled',
    ];
    const requiredByType: Record<EventType, string[]> = {
      FLOW_START: ['depth', 'address'],
      FLOW_COMPLETE: ['duration', 'step_count', 'address'],
      FLOW_FAIL: ['duration', 'step_count', 'address', 'error_message', 'error_code', 'error_type', 'fatal'],
      FLOW_CANCEL: ['duration', 'step_count', 'address'],
      FLOW_PAUSE: ['address'],
      FLOW_RATE_LIMIT: ['address', 'status_code', 'backoff_duration', 'hostname'],
      FLOW_THROTTLE: ['throttling_type', 'throttling_level'],
    };
    for (const type of EVENT_TYPES) {
      const all = [...required, ...requiredByType[type]];
      const bare = without(strictEvent(type), ...all);
      assert.deepEqual(
        issuesOf(bare, 'strict'),
        all.map((f) => [`/${f}`, 'FS_REQUIRED']),
        type,
      );
    }
  });
});

describe('lenient', () => {
  const LENIENT_REQUIRED = ['execution_id', 'timestamp', 'flow_id', 'org_id', 'idempotency_key'];

  test('requires only what delivery needs', () => {
    const minimal = {
      event_type: 'FLOW_FAIL',
      execution_id: 'x',
      timestamp: '2024-04-04T18:30:38Z',
      flow_id: '1',
      org_id: 'o',
      idempotency_key: 'k',
    };
    assert.deepEqual(validateEvent(minimal, 'lenient'), { ok: true, eventType: 'FLOW_FAIL' });
    for (const field of LENIENT_REQUIRED) {
      assert.deepEqual(issuesOf(without(minimal, field), 'lenient'), [[`/${field}`, 'FS_REQUIRED']], field);
    }
    assert.deepEqual(issuesOf(without(minimal, 'event_type'), 'lenient'), [['/event_type', 'FS_REQUIRED']]);
  });

  test('required strings must not be empty or null', () => {
    const event = { ...SEED_EXAMPLES['parent-flow-start'], execution_id: '', org_id: null };
    assert.deepEqual(issuesOf(event, 'lenient'), [
      ['/execution_id', 'FS_EMPTY'],
      ['/org_id', 'FS_NULL'],
    ]);
  });

  test('accepts string forms of numbers and booleans, in any letter case', () => {
    const event = strictEvent('FLOW_FAIL', {
      duration: '1827',
      step_count: '108',
      fatal: 'TRUE',
      throttled: 'false',
      retry_delay: '600',
      retry_policy: 'handler (try/catch)',
    });
    assert.equal(validateEvent(event, 'lenient').ok, true);
    assert.equal(validateEvent({ ...event, fatal: 'False' }, 'lenient').ok, true);
    assert.equal(validateEvent(strictEvent('FLOW_RATE_LIMIT', { status_code: '429' }), 'lenient').ok, true);
  });

  test('accepts null on fields it does not require (means absent)', () => {
    const event = strictEvent('FLOW_FAIL', {
      parent_flow_id: null,
      duration: null,
      fatal: null,
      folder_name: null,
    });
    assert.equal(validateEvent(event, 'lenient').ok, true);
  });

  test('rejects wrong JSON types and malformed string forms', () => {
    const event = strictEvent('FLOW_FAIL', {
      duration: {},
      step_count: 'abc',
      fatal: 'yes',
      throttled: 1,
      flow_name: 42,
      folder_name: [1],
      retry_delay: -1,
      timestamp: 'yesterday',
    });
    assert.deepEqual(issuesOf(event, 'lenient'), [
      ['/timestamp', 'FS_FORMAT_TIMESTAMP'],
      ['/flow_name', 'FS_TYPE'],
      ['/folder_name/0', 'FS_TYPE'],
      ['/throttled', 'FS_TYPE'],
      ['/duration', 'FS_TYPE'],
      ['/step_count', 'FS_FORMAT_NUMBER'],
      ['/fatal', 'FS_FORMAT_BOOLEAN'],
      ['/retry_delay', 'FS_RANGE'],
    ]);
  });

  test('accepts ISO 8601 timestamps with any offset, and a string folder_name', () => {
    for (const timestamp of [
      '2024-04-04T18:30:38Z',
      '2024-04-04T20:30:38.123456+02:00',
      '2024-04-04 18:30:38z',
    ]) {
      assert.equal(validateEvent(strictEvent('FLOW_START', { timestamp }), 'lenient').ok, true, timestamp);
    }
    for (const timestamp of ['2024-04-04T18:30:38', '2024-02-30T00:00:00Z', '2024-04-04', '1712255438123']) {
      assert.deepEqual(
        issuesOf(strictEvent('FLOW_START', { timestamp }), 'lenient'),
        [['/timestamp', 'FS_FORMAT_TIMESTAMP']],
        timestamp,
      );
    }
    assert.equal(validateEvent(strictEvent('FLOW_START', { folder_name: 'Parent' }), 'lenient').ok, true);
  });
});

describe('event_type', () => {
  for (const [alias, canonical] of Object.entries(EVENT_TYPE_ALIASES)) {
    test(`${alias} is validated as ${canonical}`, () => {
      const event = strictEvent(canonical, { event_type: alias });
      assert.deepEqual(validateEvent(event, 'lenient'), { ok: true, eventType: canonical });
      // …including the canonical type's field checks
      const firstTypeField = Object.keys(strictEvent(canonical)).find(
        (k) => !(k in STRICT_BASE) && k !== 'event_type',
      );
      assert.ok(firstTypeField);
      assert.deepEqual(issuesOf({ ...event, [firstTypeField]: {} }, 'lenient'), [
        [`/${firstTypeField}`, 'FS_TYPE'],
      ]);
      assert.deepEqual(issuesOf(event, 'strict'), [['/event_type', 'FS_EVENT_TYPE_ALIAS']]);
    });
  }

  test('an unknown, non-string or null event_type is reported, and the Base Schema is still checked', () => {
    const base = { ...SEED_EXAMPLES['parent-flow-start'], timestamp: 'now' };
    assert.deepEqual(issuesOf({ ...base, event_type: 'FLOW_EXPLODED' }, 'lenient'), [
      ['/event_type', 'FS_EVENT_TYPE_UNKNOWN'],
      ['/timestamp', 'FS_FORMAT_TIMESTAMP'],
    ]);
    assert.deepEqual(issuesOf({ ...base, event_type: 7 }, 'lenient')[0], ['/event_type', 'FS_TYPE']);
    assert.deepEqual(issuesOf({ ...base, event_type: null }, 'lenient')[0], ['/event_type', 'FS_NULL']);
    assert.deepEqual(issuesOf({ ...base, event_type: 'flow_start' }, 'strict')[0], [
      '/event_type',
      'FS_EVENT_TYPE_UNKNOWN',
    ]);
  });
});

describe('strict formats', () => {
  const cases: Array<[string, unknown, EventErrorCode, EventType?]> = [
    ['execution_id', '326b7317-6ea5-4d6a-a9f5-0ee8675c042', 'FS_FORMAT_UUID'],
    ['execution_id', '326b7317_6ea5_4d6a_a9f5_0ee8675c0428', 'FS_FORMAT_UUID'],
    ['parent_execution_id', 'c0e2a040', 'FS_FORMAT_UUID'],
    ['flow_id', '01j29tgkqerr78ad3vn0p9dpsw', 'FS_FORMAT_ULID'],
    ['flow_id', '81J29TGKQERR78AD3VN0P9DPSW', 'FS_FORMAT_ULID'], // > 128 bits
    ['user_id', '01J29TRZDZKSY6V70GATDAHN2', 'FS_FORMAT_ULID'], // 25 chars
    ['folder_id', '01J29T9NX4WVFNNSDG2FMQBYRU', 'FS_FORMAT_ULID'], // U is not Crockford
    ['timestamp', '2024-04-04T18:30:38Z', 'FS_FORMAT_TIMESTAMP'],
    ['timestamp', '2024-04-04T18:30:38.730+00:00', 'FS_FORMAT_TIMESTAMP'],
    ['timestamp', '2024-02-30T18:30:38.730Z', 'FS_FORMAT_TIMESTAMP'],
    ['timestamp', 1712255438730, 'FS_TYPE'],
    ['folder_id_path', '01J2CT7B5P5DFHKFDE85FW6BTV/ 01J2CT9EN0Q26F3BX8YMWE1EDX', 'FS_FORMAT_FOLDER_ID_PATH'],
    ['folder_id_path', '01J2CT7B5P5DFHKFDE85FW6BTV/', 'FS_FORMAT_FOLDER_ID_PATH'],
    ['folder_name', 'My parent folder', 'FS_TYPE'],
    ['folder_name', [], 'FS_EMPTY'],
    ['engine_mode', 'real time', 'FS_FORMAT_IDENTIFIER'],
    ['org_hostname', 'atko okta.com', 'FS_FORMAT_HOSTNAME'],
    ['org_hostname', '-atko.okta.com', 'FS_FORMAT_HOSTNAME'],
    ['flow_name', '', 'FS_EMPTY'],
    ['throttled', 'false', 'FS_TYPE'],
    ['parent_flow_id', null, 'FS_NULL'],
    ['depth', '5', 'FS_TYPE', 'FLOW_START'],
    ['depth', -1, 'FS_RANGE', 'FLOW_START'],
    ['depth', 1.5, 'FS_TYPE', 'FLOW_START'],
    ['duration', 2 ** 60, 'FS_RANGE', 'FLOW_COMPLETE'],
    ['fatal', 'TRUE', 'FS_TYPE', 'FLOW_FAIL'],
    ['retry_policy', 'Flow', 'FS_ENUM', 'FLOW_FAIL'],
    ['retry_delay', null, 'FS_NULL', 'FLOW_FAIL'],
    ['error_type', 'example error', 'FS_FORMAT_IDENTIFIER', 'FLOW_FAIL'],
    ['status_code', 99, 'FS_RANGE', 'FLOW_RATE_LIMIT'],
    ['status_code', 600, 'FS_RANGE', 'FLOW_RATE_LIMIT'],
    ['status_code', '429', 'FS_TYPE', 'FLOW_RATE_LIMIT'],
    ['hostname', 'https://example.com/', 'FS_FORMAT_HOSTNAME', 'FLOW_RATE_LIMIT'],
    ['throttling_level', '', 'FS_FORMAT_IDENTIFIER', 'FLOW_THROTTLE'],
  ];
  for (const [field, value, code, type = 'FLOW_COMPLETE'] of cases) {
    test(`${field} = ${JSON.stringify(value)} → ${code}`, () => {
      assert.deepEqual(issuesOf(strictEvent(type, { [field]: value }), 'strict'), [[`/${field}`, code]]);
    });
  }

  test('accepts upper-case UUIDs, IPv4 host names, deep folder paths, status 100 and 599', () => {
    const ok = [
      strictEvent('FLOW_COMPLETE', { execution_id: '326B7317-6EA5-4D6A-A9F5-0EE8675C0428' }),
      strictEvent('FLOW_RATE_LIMIT', { hostname: '10.0.0.1', status_code: 100 }),
      strictEvent('FLOW_RATE_LIMIT', { status_code: 599 }),
      strictEvent('FLOW_COMPLETE', {
        folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX/01J29T9NX4WVFNNSDG2FMQBYR8',
        folder_name: ['a', 'b', 'c'],
      }),
      strictEvent('FLOW_FAIL', { retry_policy: 'handler', fatal: false }),
    ];
    for (const event of ok) assert.equal(validateEvent(event, 'strict').ok, true, JSON.stringify(event));
  });

  test('an "If applicable" null says to omit the field', () => {
    const result = validateEvent(strictEvent('FLOW_FAIL', { retry_delay: null }), 'strict');
    assert.equal(result.ok, false);
    assert.match(
      result.ok ? '' : (result.errors[0]?.message ?? ''),
      /^retry_delay must not be null: omit it/,
    );
  });
});

describe('robustness', () => {
  test('non-objects are FS_NOT_OBJECT with the root pointer', () => {
    for (const value of [null, undefined, 1, 'x', true, [], [SEED_EXAMPLES['parent-flow-start']]]) {
      for (const mode of MODES) assert.deepEqual(issuesOf(value, mode), [['', 'FS_NOT_OBJECT']]);
    }
  });

  test('__proto__, constructor and prototype keys are plain data', () => {
    const text = JSON.stringify(SEED_EXAMPLES['parent-flow-start']).replace(
      '{',
      '{"__proto__":{"event_type":"FLOW_FAIL","polluted":true},"constructor":{"prototype":{"x":1}},',
    );
    const event: unknown = JSON.parse(text);
    assert.deepEqual(validateEvent(event, 'lenient'), { ok: true, eventType: 'FLOW_START' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const noType: unknown = JSON.parse('{"__proto__":{"event_type":"FLOW_START"}}');
    assert.equal(issuesOf(noType, 'lenient')[0]?.[1], 'FS_REQUIRED');
  });

  test('deep nesting in unknown fields and huge values do not break it', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const event = strictEvent('FLOW_COMPLETE', { extra: deep, flow_name: 'x'.repeat(5_000_000) });
    assert.equal(validateEvent(event, 'strict').ok, true);
    const bad = validateEvent(strictEvent('FLOW_COMPLETE', { flow_id: 'y'.repeat(1_000_000) }), 'strict');
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && (bad.errors[0]?.message.length ?? 0) < 300, 'messages cut long values');
  });

  test('inputs that are not plain data (throwing getters, proxies) give FS_UNVALIDATABLE', () => {
    const hostile = Object.defineProperty({}, 'event_type', {
      get() {
        throw new Error('boom');
      },
      enumerable: true,
    });
    assert.deepEqual(issuesOf(hostile, 'strict'), [['', 'FS_UNVALIDATABLE']]);
    const proxy = new Proxy(strictEvent('FLOW_START'), {
      get(target, key) {
        if (key === 'depth') throw new Error('trap');
        return Reflect.get(target, key);
      },
    });
    assert.deepEqual(issuesOf(proxy, 'lenient'), [['', 'FS_UNVALIDATABLE']]);
  });

  test('property: never throws on arbitrary JSON, and every issue is well formed', () => {
    const codes = new Set(Object.keys(EVENT_ERROR_CODES));
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...MODES), (value, mode) => {
        const result = validateEvent(value, mode);
        if (result.ok) return;
        assert.ok(result.errors.length > 0);
        for (const e of result.errors) {
          assert.ok(codes.has(e.code));
          assert.ok(e.path === '' || e.path.startsWith('/'));
          assert.ok(e.message.length > 0 && e.message.endsWith('.'));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('property: mutating fields of a valid event never throws and is reported at that field', () => {
    const fields = Object.keys(strictEvent('FLOW_FAIL'));
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.constantFrom(...fields),
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom(...MODES),
        (type, field, value, mode) => {
          const event: JsonRecord = { ...strictEvent(type), [field]: value };
          const result = validateEvent(event, mode);
          if (result.ok) return;
          for (const e of result.errors) {
            const top = e.path.split('/')[1];
            // Only the mutated field can be wrong (or event_type's type, when that was mutated).
            assert.equal(top, field, `${type} ${field}=${JSON.stringify(value)}: ${JSON.stringify(e)}`);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  const KNOWN_FIELDS = new Set(EVENT_TYPES.flatMap((type) => Object.keys(strictEvent(type))));
  test('property: valid events stay valid when any unknown field is added', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.string().filter((k) => !KNOWN_FIELDS.has(k)),
        fc.jsonValue(),
        (type, key, value) => {
          const event = strictEvent(type);
          Object.defineProperty(event, key, { value, enumerable: true, configurable: true, writable: true });
          for (const mode of MODES) assert.equal(validateEvent(event, mode).ok, true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
