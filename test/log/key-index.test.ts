import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KeyIndex, keyTag } from '../../src/log/key-index.js';

type Op =
  | { kind: 'add'; tag: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'find'; tag: number; pick: number };

describe('KeyIndex', () => {
  test('behaves like a list of (tag, seq) entries, through collisions, growth and deletes', () => {
    // Tags from a tiny range: long probe runs, many equal tags, wrap-around at the table's end.
    const tag = fc.oneof(
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom(1023, 1024, 2047, 4095, 0xffffffff),
    );
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), tag }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('find' as const), tag, pick: fc.nat() }) },
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 3000, size: 'xlarge' }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (ops, baseSeq) => {
          const index = new KeyIndex();
          const model: { tag: number; seq: number }[] = [];
          let nextSeq = baseSeq;
          for (const step of ops) {
            if (step.kind === 'add') {
              index.add(step.tag, nextSeq);
              model.push({ tag: step.tag, seq: nextSeq });
              nextSeq++;
            } else if (step.kind === 'delete') {
              const victim = model[step.pick % Math.max(1, model.length)];
              if (victim === undefined) {
                assert.equal(index.delete(5, nextSeq), false);
                continue;
              }
              assert.equal(index.delete(victim.tag, victim.seq), true);
              assert.equal(index.delete(victim.tag, victim.seq), false);
              model.splice(model.indexOf(victim), 1);
            } else {
              const withTag = model.filter((entry) => entry.tag === step.tag).map((entry) => entry.seq);
              const seen: number[] = [];
              // Sometimes no candidate is the key: then every entry with the tag must have been offered.
              const wanted =
                step.pick % 3 === 0 ? undefined : withTag[step.pick % Math.max(1, withTag.length)];
              const found = index.find(step.tag, baseSeq, (seq) => {
                seen.push(seq);
                return seq === wanted;
              });
              assert.equal(found, wanted);
              // Every candidate offered has the tag; when nothing matches, all of them were offered.
              for (const seq of seen)
                assert.ok(withTag.includes(seq), `candidate ${seq} does not have tag ${step.tag}`);
              if (wanted === undefined) assert.deepEqual([...seen].sort(), [...withTag].sort());
            }
            assert.equal(index.size, model.length);
          }
          for (const entry of model) {
            assert.equal(
              index.find(entry.tag, baseSeq, (seq) => seq === entry.seq),
              entry.seq,
            );
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  test('recovers seqs across the 2^32 boundary from their low 32 bits', () => {
    const index = new KeyIndex();
    const base = 2 ** 32 - 3;
    for (let seq = base; seq < base + 6; seq++) index.add(7, seq);
    const found: number[] = [];
    index.find(7, base, (seq) => {
      found.push(seq);
      return false;
    });
    assert.deepEqual(
      found.sort((a, b) => a - b),
      [base, base + 1, base + 2, base + 3, base + 4, base + 5],
    );
    assert.ok(index.delete(7, 2 ** 32 + 1));
    assert.equal(
      index.find(7, base, (seq) => seq === 2 ** 32 + 1),
      undefined,
    );
  });

  test('grows by doubling and pre-sizes for an expected count', () => {
    const index = new KeyIndex();
    assert.equal(index.memoryBytes, 8 * 1024);
    for (let i = 1; i <= 10_000; i++) index.add(keyTag(`k${i}`, 1), i);
    assert.equal(index.size, 10_000);
    assert.equal(index.memoryBytes, 8 * 16_384);
    assert.equal(new KeyIndex(10_000).memoryBytes, 8 * 16_384);
    for (let i = 1; i <= 10_000; i++) {
      assert.equal(
        index.find(keyTag(`k${i}`, 1), 1, (seq) => seq === i),
        i,
      );
    }
  });

  test('refuses tag 0 (the empty-slot marker) and non-32-bit tags', () => {
    const index = new KeyIndex();
    assert.throws(() => index.add(0, 1), RangeError);
    assert.throws(() => index.add(2 ** 32, 1), RangeError);
    assert.throws(() => index.add(1.5, 1), RangeError);
  });
});

describe('keyTag', () => {
  test('is deterministic, never 0, and depends on the seed and on every character', () => {
    assert.equal(
      keyTag('f1aaa750-6d92-485e-acf7-dd167e00db2f', 42),
      keyTag('f1aaa750-6d92-485e-acf7-dd167e00db2f', 42),
    );
    assert.notEqual(
      keyTag('f1aaa750-6d92-485e-acf7-dd167e00db2f', 42),
      keyTag('f1aaa750-6d92-485e-acf7-dd167e00db2f', 43),
    );
    assert.notEqual(keyTag('abc', 1), keyTag('abd', 1));
    assert.notEqual(keyTag('ab', 1), keyTag('ab\u0000', 1));
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(), (key, seed) => {
        const tag = keyTag(key, seed);
        return Number.isInteger(tag) && tag > 0 && tag < 2 ** 32;
      }),
    );
  });

  test('spreads keys: about as many collisions as a random 32-bit function', () => {
    const seen = new Set<number>();
    let collisions = 0;
    const count = 200_000;
    for (let i = 0; i < count; i++) {
      const tag = keyTag(`00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, 7);
      if (seen.has(tag)) collisions++;
      seen.add(tag);
    }
    // Expected n^2 / 2^33 ≈ 4.7 for a random function; a weak hash gives thousands.
    assert.ok(collisions < 30, `${collisions} collisions among ${count} keys`);
  });
});
