import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import fc from 'fast-check';
import { EVENT_TYPE_ALIASES, EVENT_TYPES } from '../../src/schema/event-types.js';
import {
  buildJsonSchemas,
  GENERATED_NOTE,
  JSON_SCHEMA_DIALECT,
  renderSchemaFile,
  schemaFileName,
} from '../../src/schema/json-schema.js';
import { validateEvent } from '../../src/schema/validate.js';
import { SEED_EXAMPLES, strictEvent } from './seed-fixtures.js';

const SCHEMAS_DIR = new URL('../../schemas/', import.meta.url);

test('schemas/ is exactly what the definitions generate (run scripts/generate-schemas.ts on drift)', () => {
  const generated = buildJsonSchemas();
  const committed = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json'));
  assert.deepEqual(committed.sort(), [...generated.keys()].sort());
  for (const [name, schema] of generated) {
    const text = readFileSync(new URL(name, SCHEMAS_DIR), 'utf8');
    assert.equal(
      text,
      renderSchemaFile(schema),
      `${name} differs: run node --import tsx scripts/generate-schemas.ts`,
    );
  }
});

test('every schema is draft 2020-12, says it is generated, and has a unique $id', () => {
  const ids = new Set<string>();
  for (const [name, schema] of buildJsonSchemas()) {
    assert.equal(schema.$schema, JSON_SCHEMA_DIALECT, name);
    assert.ok(String(schema.$comment).startsWith(GENERATED_NOTE), name);
    assert.ok(!ids.has(String(schema.$id)));
    ids.add(String(schema.$id));
  }
  assert.equal(ids.size, 2 * (EVENT_TYPES.length + 1));
});

// A generic validator (Ajv 2020 with the standard ajv-formats formats, no flowstream code) must agree
// with validateEvent on the published schemas.
function publishedValidators() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addFormat('date-time', fullFormats['date-time']);
  const schemas = buildJsonSchemas();
  const compile = (name: string) => {
    const schema = schemas.get(name);
    assert.ok(schema, name);
    return ajv.compile(schema);
  };
  return {
    union: {
      strict: compile(schemaFileName('union', 'strict')),
      lenient: compile(schemaFileName('union', 'lenient')),
    },
    perType: Object.fromEntries(
      EVENT_TYPES.map((t) => [
        t,
        { strict: compile(schemaFileName(t, 'strict')), lenient: compile(schemaFileName(t, 'lenient')) },
      ]),
    ),
  };
}

test('published schemas agree with validateEvent on the seed examples, aliases and typed events', () => {
  const v = publishedValidators();
  const events: Array<Record<string, unknown>> = [
    ...Object.values(SEED_EXAMPLES),
    ...EVENT_TYPES.map((t) => strictEvent(t)),
    ...Object.entries(EVENT_TYPE_ALIASES).map(([alias, t]) => strictEvent(t, { event_type: alias })),
    strictEvent('FLOW_FAIL', { fatal: 'TRUE', duration: '12' }),
    { event_type: 'FLOW_NOPE', execution_id: 'x' },
  ];
  for (const event of events) {
    for (const mode of ['strict', 'lenient'] as const) {
      const ours = validateEvent(event, mode).ok;
      assert.equal(v.union[mode](event), ours, `${mode} union: ${JSON.stringify(event)}`);
    }
  }
  for (const type of EVENT_TYPES) {
    assert.equal(v.perType[type]?.strict(strictEvent(type)), true, type);
  }
});

test('property: published union schemas agree with validateEvent on mutated events', () => {
  const v = publishedValidators();
  const fields = [...new Set(EVENT_TYPES.flatMap((t) => Object.keys(strictEvent(t))))];
  fc.assert(
    fc.property(
      fc.constantFrom(...EVENT_TYPES),
      fc.constantFrom(...fields),
      fc.oneof(
        fc.jsonValue({ maxDepth: 1 }),
        fc.constantFrom('1827', 'TRUE', 'false', '', '2024-04-04T18:30:38Z', 'FLOW_FAILED', -1, 600, null),
      ),
      fc.constantFrom('strict' as const, 'lenient' as const),
      (type, field, value, mode) => {
        const event = { ...strictEvent(type), [field]: value };
        assert.equal(v.union[mode](event), validateEvent(event, mode).ok, `${mode} ${JSON.stringify(event)}`);
      },
    ),
    { numRuns: 1500 },
  );
});
