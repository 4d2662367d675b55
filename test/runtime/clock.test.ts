import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemClock, VirtualClock } from '../../src/runtime/clock.js';
import { seededRandom, ulidFrom, uuidFrom } from '../../src/runtime/random.js';
import { ULID_PATTERN, UUID_PATTERN } from '../../src/schema/definitions.js';

describe('VirtualClock', () => {
  test('timers fire in time order, ties in the order they were set; continuations run between', async () => {
    const clock = new VirtualClock({ startMillis: 1000 });
    const seen: string[] = [];
    const sleeper = async (name: string, millis: number, then?: number): Promise<void> => {
      await clock.sleep(millis);
      seen.push(`${name}@${clock.monotonicNow()}`);
      if (then !== undefined) {
        await clock.sleep(then);
        seen.push(`${name}'@${clock.monotonicNow()}`);
      }
    };
    void sleeper('a', 30);
    void sleeper('b', 10, 15);
    void sleeper('c', 30);
    void sleeper('d', 0);
    await clock.advance(24);
    assert.deepEqual(seen, ['d@0', 'b@10']);
    assert.equal(clock.now(), 1024);
    await clock.advance(100);
    assert.deepEqual(seen, ['d@0', 'b@10', "b'@25", 'a@30', 'c@30']);
    assert.equal(clock.monotonicNow(), 124);
    assert.equal(clock.pendingTimers, 0);
  });

  test('an aborted sleep rejects with the reason and its timer is gone', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, { signal: controller.signal });
    assert.equal(clock.pendingTimers, 1);
    controller.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
    assert.equal(clock.pendingTimers, 0);
    await assert.rejects(clock.sleep(1, { signal: controller.signal }), /stop/);
  });

  test('run() jumps from timer to timer, waits for external work, and refuses a promise that can never settle', async () => {
    const clock = new VirtualClock();
    const work = async (): Promise<number> => {
      await clock.sleep(5000);
      await clock.external(new Promise((resolve) => setTimeout(resolve, 20)));
      await clock.sleep(1000);
      return clock.monotonicNow();
    };
    const other = clock.sleep(5010);
    // While the external work is pending, the other timer (due at 5010) must not fire.
    assert.equal(await clock.run(work()), 6000);
    await other;
    await assert.rejects(clock.run(new Promise(() => {})), /pending with no timer or I\/O left/);
    void clock.sleep(10_000);
    await assert.rejects(clock.run(new Promise(() => {}), { maxMillis: 5000 }), /more than 5000 ms/);
  });

  test('auto-advance moves time whenever nothing else is happening', async () => {
    const clock = new VirtualClock();
    const stop = clock.startAutoAdvance();
    try {
      const started = Date.now();
      await clock.sleep(3_600_000);
      assert.equal(clock.monotonicNow(), 3_600_000);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      stop();
    }
  });
});

describe('systemClock', () => {
  test('sleeps on real time and honours abort', async () => {
    const before = systemClock.monotonicNow();
    await systemClock.sleep(5);
    assert.ok(systemClock.monotonicNow() - before >= 4);
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, { signal: controller.signal, keepAlive: false });
    controller.abort(new Error('halt'));
    await assert.rejects(sleeping, /halt/);
  });
});

describe('seeded randomness', () => {
  test('same seed, same values; UUIDs and ULIDs have their formats', () => {
    const a = seededRandom(9);
    const b = seededRandom(9);
    const values = Array.from({ length: 100 }, () => a());
    assert.deepEqual(
      values,
      Array.from({ length: 100 }, () => b()),
    );
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const uuids = Array.from({ length: 200 }, uuidFrom(seededRandom(1)));
    for (const id of uuids) assert.match(id, new RegExp(UUID_PATTERN));
    assert.ok(uuids.every((id) => id[14] === '4' && '89ab'.includes(id[19] as string)));
    assert.equal(new Set(uuids).size, uuids.length);
    const ulid = ulidFrom(Date.parse('2024-07-01T09:00:00Z'), seededRandom(2));
    assert.match(ulid, new RegExp(ULID_PATTERN));
    assert.equal(ulid.slice(0, 10), '01J1PRBFM0');
  });
});
