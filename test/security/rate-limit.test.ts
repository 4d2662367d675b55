import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkRateLimit, IngestRateLimiter, TokenBucket } from '../../src/security/rate-limit.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBucket', () => {
  test('admits up to the burst at once, then refills at the rate', () => {
    const c = clock();
    const bucket = new TokenBucket({ eventsPerSecond: 10, burst: 100 }, c.now);
    assert.deepEqual(bucket.take(60), { admitted: true, remaining: 40, limit: 100 });
    assert.deepEqual(bucket.take(40), { admitted: true, remaining: 0, limit: 100 });
    const refused = bucket.take(5);
    assert.equal(refused.admitted, false);
    assert.ok(!refused.admitted);
    assert.equal(refused.retryAfterSeconds, 1);
    c.advance(500);
    assert.equal(bucket.take(5).admitted, true);
    assert.equal(bucket.take(1).admitted, false);
  });

  test('counts events, not requests: one request of 30 costs as much as 30 of one', () => {
    const c = clock();
    const a = new TokenBucket({ eventsPerSecond: 1, burst: 30 }, c.now);
    assert.equal(a.take(30).admitted, true);
    assert.equal(a.take(1).admitted, false);
    const b = new TokenBucket({ eventsPerSecond: 1, burst: 30 }, c.now);
    for (let i = 0; i < 30; i++) assert.equal(b.take(1).admitted, true);
    assert.equal(b.take(1).admitted, false);
  });

  test('a batch larger than the burst is admitted when full and paid for afterwards', () => {
    const c = clock();
    const bucket = new TokenBucket({ eventsPerSecond: 100, burst: 100 }, c.now);
    assert.equal(bucket.take(250).admitted, true);
    const next = bucket.take(1);
    assert.ok(!next.admitted);
    // 150 events of debt plus the 1 wanted, at 100 per second.
    assert.equal(next.retryAfterSeconds, 2);
    c.advance(1600);
    assert.equal(bucket.take(1).admitted, true);
  });

  test('Retry-After is exact enough: waiting it always admits the same request', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 1, max: 6000 }), { minLength: 1, maxLength: 20 }),
        (rate, burst, sizes) => {
          const c = clock();
          const bucket = new TokenBucket({ eventsPerSecond: rate, burst }, c.now);
          for (const n of sizes) {
            const d = bucket.take(n);
            if (!d.admitted) {
              c.advance(d.retryAfterSeconds * 1000);
              assert.equal(bucket.take(n).admitted, true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('eventsPerSecond 0 means no limit', () => {
    const bucket = new TokenBucket({ eventsPerSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i++) assert.equal(bucket.take(1_000_000).admitted, true);
  });
});

describe('IngestRateLimiter', () => {
  test('one bucket per token; a token may have its own limit', () => {
    const c = clock();
    const limiter = new IngestRateLimiter({ eventsPerSecond: 1, burst: 10 }, c.now);
    assert.equal(limiter.take('a', 10).admitted, true);
    assert.equal(limiter.take('a', 1).admitted, false);
    assert.equal(limiter.take('b', 10).admitted, true, 'b has its own bucket');
    const own = { eventsPerSecond: 1, burst: 1000 };
    assert.equal(limiter.take('c', 1000, own).admitted, true);
    assert.equal(limiter.take('c', 1, own).admitted, false);
    limiter.forget('a');
    assert.equal(limiter.take('a', 10).admitted, true, 'a forgotten bucket starts full');
  });

  test('refuses unusable limits with a message naming the setting', () => {
    assert.throws(
      () => checkRateLimit({ eventsPerSecond: -1, burst: 1 }, 'auth.ingestRateLimit'),
      /auth\.ingestRateLimit\.eventsPerSecond/,
    );
    assert.throws(
      () => new IngestRateLimiter({ eventsPerSecond: 1, burst: 0 }),
      /burst must be an integer >= 1/,
    );
  });
});
