import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  batchJsonBytes,
  contentTypeFor,
  encodeJsonBatch,
  ndjson,
  singleLineJson,
} from '../../src/formats/json-framing.js';
import { fromJson, outboundEvent, outboundEvents, SEED_EXAMPLES } from '../helpers/outbound-events.js';

describe('okta framings', () => {
  const batch = SEED_EXAMPLES.map((json, i) => fromJson(json, i + 1));

  test('object is the stored text itself', () => {
    const [first] = batch;
    assert.ok(first);
    assert.deepEqual(encodeJsonBatch([first], 'object', 'okta'), {
      body: SEED_EXAMPLES[0],
      contentType: 'application/json',
    });
  });

  test('object refuses anything but one event', () => {
    assert.throws(() => encodeJsonBatch(batch, 'object', 'okta'), RangeError);
    assert.throws(() => encodeJsonBatch([], 'object', 'okta'), RangeError);
  });

  test('array concatenates the stored texts', () => {
    assert.deepEqual(encodeJsonBatch(batch, 'array', 'okta'), {
      body: `[${SEED_EXAMPLES.join(',')}]`,
      contentType: 'application/json',
    });
    assert.equal(encodeJsonBatch([], 'array', 'okta').body, '[]');
  });

  test('ndjson is one line per event, each ending with a newline', () => {
    assert.deepEqual(encodeJsonBatch(batch, 'ndjson', 'okta'), {
      body: `${SEED_EXAMPLES.join('\n')}\n`,
      contentType: 'application/x-ndjson',
    });
    assert.equal(ndjson([], 'okta'), '');
  });

  test('stored text is sent verbatim: number forms and key order are kept', () => {
    const json =
      '{"event_type":"FLOW_COMPLETE","duration":1.50,"step_count":"108","z":1,"a":2,"big":12345678901234567890}';
    const event = fromJson(json, 1);
    assert.equal(encodeJsonBatch([event], 'object', 'okta').body, json);
    assert.equal(encodeJsonBatch([event], 'ndjson', 'okta').body, `${json}\n`);
  });

  test('a pretty-printed event is put on one line for ndjson, otherwise unchanged', () => {
    const event = outboundEvent({ seq: 3, indent: 2 });
    assert.ok(event.json.includes('\n'));
    const body = encodeJsonBatch([event, outboundEvent({ seq: 4 })], 'ndjson', 'okta').body;
    const lines = body.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[0] ?? ''), event.event);
    assert.equal(encodeJsonBatch([event], 'object', 'okta').body, event.json);
  });

  test('content types', () => {
    assert.equal(contentTypeFor('object', 'okta'), 'application/json');
    assert.equal(contentTypeFor('array', 'okta'), 'application/json');
    assert.equal(contentTypeFor('ndjson', 'okta'), 'application/x-ndjson');
    assert.equal(contentTypeFor('object', 'cloudevents'), 'application/cloudevents+json');
    assert.equal(contentTypeFor('array', 'cloudevents'), 'application/cloudevents-batch+json');
    assert.equal(contentTypeFor('ndjson', 'cloudevents'), 'application/x-ndjson');
  });

  test('batchJsonBytes counts UTF-8 bytes', () => {
    const event = fromJson('{"flow_name":"café ☕"}', 1);
    assert.equal(batchJsonBytes([event, event]), 2 * Buffer.byteLength(event.json));
    assert.equal(batchJsonBytes([]), 0);
  });
});

describe('framing properties', () => {
  const jsonValue = fc.jsonValue({ maxDepth: 3 });
  const eventObject = fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 8 });

  test('singleLineJson of any pretty-printed JSON is one line and parses to the same value', () => {
    fc.assert(
      fc.property(jsonValue, fc.integer({ min: 0, max: 4 }), (value, indent) => {
        const line = singleLineJson(JSON.stringify(value, null, indent));
        assert.equal(/[\r\n]/.test(line), false);
        assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  test('every framing parses back to the batch, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eventObject, fc.integer({ min: 0, max: 3 })), { maxLength: 6 }),
        (items) => {
          const batch = items.map(([event, indent], i) =>
            fromJson(JSON.stringify(event, null, indent), i + 1, 'FLOW_START'),
          );
          const expected = batch.map((e) => JSON.parse(e.json));
          assert.deepEqual(JSON.parse(encodeJsonBatch(batch, 'array', 'okta').body), expected);
          const body = encodeJsonBatch(batch, 'ndjson', 'okta').body;
          const lines = body === '' ? [] : body.slice(0, -1).split('\n');
          assert.deepEqual(
            lines.map((l) => JSON.parse(l)),
            expected,
          );
          for (const ce of JSON.parse(encodeJsonBatch(batch, 'array', 'cloudevents').body) as Array<{
            data: unknown;
          }>) {
            assert.deepEqual(ce.data, expected.shift());
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the realistic factory events round-trip through every framing', () => {
    const batch = outboundEvents(14);
    const parsed = JSON.parse(encodeJsonBatch(batch, 'array', 'okta').body) as unknown[];
    assert.deepEqual(
      parsed,
      batch.map((e) => e.event),
    );
  });
});
