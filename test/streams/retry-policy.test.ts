import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SendResult } from '../../src/destinations/destination.js';
import {
  backoffMillis,
  backoffWindowMillis,
  MAX_RETRY_AFTER_MILLIS,
  nextDelayMillis,
  retryAfterFloorMillis,
} from '../../src/streams/retry-policy.js';

const settings = { initialMillis: 1000, maxMillis: 60_000 };
const err = { code: 'HTTP_503', message: 'x' };

describe('backoffWindowMillis', () => {
  const table: [attempt: number, window: number][] = [
    [0, 1000],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
    [5000, 60_000],
    [Number.NaN, 1000],
    [Number.POSITIVE_INFINITY, 1000],
  ];
  for (const [attempt, window] of table) {
    test(`attempt ${attempt} → window ${window} ms`, () => {
      assert.equal(backoffWindowMillis(attempt, settings), window);
    });
  }

  test('maxMillis below initialMillis: the window is initialMillis', () => {
    assert.equal(backoffWindowMillis(5, { initialMillis: 500, maxMillis: 100 }), 500);
  });
});

describe('backoffMillis (full jitter)', () => {
  const table: [attempt: number, random: number, delay: number][] = [
    [1, 0, 0],
    [1, 0.5, 500],
    [1, 0.999, 999],
    [3, 0.25, 1000],
    [20, 0.5, 30_000],
    [1, 1, 999], // a source that returns 1 stays inside the window
    [1, -3, 0],
    [1, Number.NaN, 0],
  ];
  for (const [attempt, random, delay] of table) {
    test(`attempt ${attempt}, random ${random} → ${delay} ms`, () => {
      assert.equal(
        backoffMillis(attempt, settings, () => random),
        delay,
      );
    });
  }
});

describe('nextDelayMillis', () => {
  const half = () => 0.5;
  const table: [name: string, result: SendResult, attempt: number, delay: number][] = [
    ['delivered', { outcome: 'delivered', bytes: 1 }, 1, 0],
    ['rejected: bisect at once', { outcome: 'rejected', error: err }, 1, 0],
    ['retryable: jittered backoff', { outcome: 'retryable', error: err }, 3, 2000],
    [
      'retryable, Retry-After longer than backoff: Retry-After',
      { outcome: 'retryable', error: err, retryAfterMillis: 5000 },
      1,
      5000,
    ],
    [
      'retryable, Retry-After shorter than backoff: backoff',
      { outcome: 'retryable', error: err, retryAfterMillis: 100 },
      5,
      8000,
    ],
    ['retryable, Retry-After 0: backoff', { outcome: 'retryable', error: err, retryAfterMillis: 0 }, 1, 500],
    [
      'retryable, Retry-After above the 60 s max: honoured',
      { outcome: 'retryable', error: err, retryAfterMillis: 120_000 },
      1,
      120_000,
    ],
    [
      'retryable, absurd Retry-After: capped at 1 h',
      { outcome: 'retryable', error: err, retryAfterMillis: 9e12 },
      1,
      MAX_RETRY_AFTER_MILLIS,
    ],
    [
      'retryable, fractional Retry-After: rounded up',
      { outcome: 'retryable', error: err, retryAfterMillis: 1500.2 },
      1,
      1501,
    ],
    ['partial: backoff', { outcome: 'partial', bytes: 1, items: [] }, 2, 1000],
    ['fatal: the slow cadence (retryMaxMillis)', { outcome: 'fatal', error: err }, 1, 60_000],
    ['fatal at any attempt', { outcome: 'fatal', error: err }, 40, 60_000],
  ];
  for (const [name, result, attempt, delay] of table) {
    test(name, () => {
      assert.equal(nextDelayMillis(result, attempt, settings, half), delay);
    });
  }

  test('never earlier than Retry-After, whatever the random source', () => {
    for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
      for (let attempt = 1; attempt < 12; attempt++) {
        const delay = nextDelayMillis(
          { outcome: 'retryable', error: err, retryAfterMillis: 1000 },
          attempt,
          settings,
          () => r,
        );
        assert.ok(delay >= 1000, `attempt ${attempt}, random ${r}: ${delay}`);
      }
    }
  });
});

describe('retryAfterFloorMillis', () => {
  const table: [input: number, out: number][] = [
    [0, 0],
    [-5, 0],
    [1000, 1000],
    [0.1, 1],
    [MAX_RETRY_AFTER_MILLIS + 1, MAX_RETRY_AFTER_MILLIS],
    [Number.POSITIVE_INFINITY, MAX_RETRY_AFTER_MILLIS],
    [Number.NaN, 0],
  ];
  for (const [input, out] of table) {
    test(`${input} → ${out}`, () => assert.equal(retryAfterFloorMillis(input), out));
  }
});
