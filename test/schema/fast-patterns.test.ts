import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastRegExpEngine, scannedPatterns } from '../../src/schema/fast-patterns.js';

// Strings near each pattern: made of the characters that matter to it, in lengths around the ones
// it accepts, plus mutations of valid examples.
const ALPHABET = [
  ...'0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZhijklmnopqrstuvwxyz-_.:/TZ \n\u00e9\u212a\u0130',
];
const VALID_EXAMPLES = [
  '4632dc20-6989-4c57-9b5f-c17528474086',
  '01J29TGKQERR78AD3VN0P9DPSW',
  '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
  '2024-04-04T18:30:38.730Z',
  'atko.okta.com',
  'a'.repeat(63),
  `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
  'root:kernel:string:0.0.1:compose',
  '1827',
  '12.5',
  '1234567890123456.1234567890123456',
  'TRUE',
  'False',
];

const nearMiss = fc.oneof(
  fc.array(fc.constantFrom(...ALPHABET), { maxLength: 60 }).map((cs) => cs.join('')),
  fc
    .tuple(
      fc.constantFrom(...VALID_EXAMPLES),
      fc.nat(),
      fc.constantFrom(...ALPHABET),
      fc.constantFrom('set', 'insert', 'delete'),
    )
    .map(([s, at, ch, op]) => {
      const i = at % (s.length + 1);
      if (op === 'set') return s.slice(0, i) + ch + s.slice(i + 1);
      if (op === 'insert') return s.slice(0, i) + ch + s.slice(i);
      return s.slice(0, i) + s.slice(i + 1);
    }),
  fc.constantFrom(...VALID_EXAMPLES),
  fc.string({ maxLength: 300 }),
);

test('every scanner matches exactly what its pattern matches', () => {
  const scanners = [...scannedPatterns()];
  assert.equal(scanners.length, 8);
  fc.assert(
    fc.property(nearMiss, (s) => {
      for (const [pattern, scan] of scanners) {
        assert.equal(scan(s), new RegExp(pattern).test(s), `${pattern} on ${JSON.stringify(s)}`);
      }
    }),
    { numRuns: 20_000 },
  );
  for (const s of VALID_EXAMPLES)
    assert.ok(
      scanners.some(([, scan]) => scan(s)),
      s,
    );
});

test('the engine falls back to RegExp for other patterns and keeps the regex text', () => {
  const other = fastRegExpEngine('^a+$', '');
  assert.ok(other instanceof RegExp);
  assert.equal(other.test('aaa'), true);
  const [uuidPattern] = [...scannedPatterns().keys()];
  assert.ok(uuidPattern);
  assert.equal(fastRegExpEngine(uuidPattern, '').toString(), `/${uuidPattern}/`);
});
