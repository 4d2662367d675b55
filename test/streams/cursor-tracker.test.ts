import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CursorTracker } from '../../src/streams/cursor-tracker.js';

test('the cursor is the read position while nothing is owed', () => {
  const t = new CursorTracker(10);
  assert.equal(t.acknowledged(), 10);
  t.skipTo(15);
  assert.equal(t.acknowledged(), 15);
});

test('the cursor stops before the oldest owed event, and filtered events between count as done', () => {
  const t = new CursorTracker(0);
  t.add(2);
  t.skipTo(4); // 3, 4 filtered out
  t.add(5);
  t.add(6);
  assert.equal(t.acknowledged(), 1);
  t.complete(5);
  assert.equal(t.acknowledged(), 1, 'completing out of order does not move the cursor past 2');
  t.complete(2);
  assert.equal(t.acknowledged(), 5);
  t.complete(6);
  assert.equal(t.acknowledged(), 6);
  assert.equal(t.pendingCount, 0);
});

test('adding a seq at or below the read position is a bug and throws', () => {
  const t = new CursorTracker(5);
  assert.throws(() => t.add(5));
  t.add(6);
  assert.throws(() => t.add(6));
});

test('property: the cursor never passes an owed event and never decreases', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), keep: fc.boolean() }), {
        minLength: 1,
        maxLength: 200,
      }),
      fc.array(fc.nat(), { maxLength: 400 }),
      (steps, picks) => {
        const t = new CursorTracker(0);
        const owed = new Set<number>();
        let seq = 0;
        for (const step of steps) {
          seq += step.gap;
          if (step.keep) {
            t.add(seq);
            owed.add(seq);
          } else t.skipTo(seq);
        }
        let last = t.acknowledged();
        for (const pick of picks) {
          const list = [...owed];
          if (list.length === 0) break;
          const done = list[pick % list.length] as number;
          owed.delete(done);
          t.complete(done);
          const cursor = t.acknowledged();
          assert.ok(cursor >= last);
          for (const s of owed) assert.ok(s > cursor, `owed ${s} at or below cursor ${cursor}`);
          last = cursor;
        }
        if (owed.size === 0) assert.equal(t.acknowledged(), seq);
      },
    ),
    { numRuns: 200 },
  );
});
