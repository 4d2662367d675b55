import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import fc from 'fast-check';
import { isRfc3339DateTime } from '../../src/schema/date-time.js';

test('accepts RFC 3339 date-times with a time zone', () => {
  for (const s of [
    '2024-04-04T18:30:38.730Z',
    '2024-04-04T18:30:38Z',
    '2024-04-04t18:30:38z',
    '2024-04-04 18:30:38Z',
    '2024-04-04T18:30:38.123456789+02:00',
    '2024-04-04T18:30:38-0530',
    '2024-04-04T18:30:38+02',
    '2024-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '2016-12-31T23:59:60Z',
  ]) {
    assert.equal(isRfc3339DateTime(s), true, s);
  }
});

test('refuses everything else', () => {
  for (const s of [
    '',
    '2024-04-04',
    '2024-04-04T18:30:38',
    '2024-04-04T18:30:38.Z',
    '2024-04-04T24:00:00Z',
    '2024-04-04T18:60:00Z',
    '2024-04-04T18:30:60Z',
    '2023-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2024-04-00T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-04-04T18:30:38+24:00',
    '2024-04-04T18:30:38+02:60',
    '2024-04-04T18:30:38+2',
    '2024-04-04T18:30:38Z ',
    '2024-04-04X18:30:38Z',
    '2024/04/04T18:30:38Z',
    '٢٠٢٤-04-04T18:30:38Z',
    `2024-04-04T18:30:38.${'1'.repeat(60)}Z`,
  ]) {
    assert.equal(isRfc3339DateTime(s), false, s);
  }
});

test('property: agrees with ajv-formats date-time on generated near-miss strings', () => {
  const ajvDateTime = fullFormats['date-time'] as { validate: (s: string) => boolean };
  const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
  const candidate = fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
      two,
      two,
      fc.constantFrom('T', 't', ' '),
      two,
      two,
      two,
      fc.option(fc.stringMatching(/^\.[0-9]{1,9}$/), { nil: '' }),
      fc.constantFrom('Z', 'z', '+00:00', '-05:30', '+0200', '+02', '+24:00', '-01:60', ''),
    )
    .map(
      (parts) =>
        `${parts[0]}-${parts[1]}-${parts[2]}${parts[3]}${parts[4]}:${parts[5]}:${parts[6]}${parts[7]}${parts[8]}`,
    );
  fc.assert(
    fc.property(candidate, (s) => {
      // ajv-formats allows a leap second in any UTC 23:59, we allow it in any minute 59 (local
      // offsets move 23:59 around); they are otherwise the same grammar.
      if (/:60/.test(s.slice(11, 20))) return;
      assert.equal(isRfc3339DateTime(s), ajvDateTime.validate(s), s);
    }),
    { numRuns: 5000 },
  );
});
