import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyHttpStatus,
  classifyNetworkError,
  MAX_ERROR_RESPONSE_BYTES,
  networkError,
  parseRetryAfterMillis,
  truncateResponse,
} from '../../src/destinations/classify.js';

const NOW = Date.parse('2024-04-04T18:30:00.000Z');

describe('parseRetryAfterMillis', () => {
  const cases: Array<[string, string | null | undefined, number | undefined]> = [
    ['absent (undefined)', undefined, undefined],
    ['absent (null)', null, undefined],
    ['empty', '', undefined],
    ['blank', '   ', undefined],
    ['zero seconds', '0', 0],
    ['delay-seconds', '120', 120_000],
    ['delay-seconds with spaces', ' 7 ', 7000],
    ['HTTP-date in the future', 'Thu, 04 Apr 2024 18:30:30 GMT', 30_000],
    ['HTTP-date in the past', 'Thu, 04 Apr 2024 18:00:00 GMT', 0],
    ['HTTP-date now', 'Thu, 04 Apr 2024 18:30:00 GMT', 0],
    ['garbage', 'soon', undefined],
    ['negative seconds (Date.parse would read a year)', '-5', undefined],
    ['fractional seconds', '1.5', undefined],
    ['a bare year', '2030', 2030_000],
  ];
  for (const [name, value, expected] of cases) {
    test(name, () => {
      assert.equal(parseRetryAfterMillis(value, NOW), expected);
    });
  }
});

describe('classifyHttpStatus', () => {
  const cases: Array<[number, string]> = [
    [200, 'delivered'],
    [201, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [100, 'fatal'],
    [301, 'fatal'],
    [302, 'fatal'],
    [304, 'fatal'],
    [307, 'fatal'],
    [308, 'fatal'],
    [400, 'rejected'],
    [401, 'fatal'],
    [403, 'fatal'],
    [404, 'fatal'],
    [405, 'rejected'],
    [407, 'fatal'],
    [408, 'retryable'],
    [409, 'rejected'],
    [410, 'fatal'],
    [413, 'rejected'],
    [415, 'rejected'],
    [422, 'rejected'],
    [425, 'retryable'],
    [429, 'retryable'],
    [451, 'rejected'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
    [599, 'retryable'],
  ];
  for (const [status, outcome] of cases) {
    test(`${status} is ${outcome}`, () => {
      const result = classifyHttpStatus(status, undefined, 'answer', 123);
      assert.equal(result.outcome, outcome);
      if (result.outcome === 'delivered') {
        assert.equal(result.bytes, 123);
      } else if (result.outcome !== 'partial') {
        assert.equal(result.error.code, `HTTP_${status}`);
        assert.equal(result.error.status, status);
        assert.equal(result.error.response, 'answer');
      }
    });
  }

  test('Retry-After is honoured on retryable statuses', () => {
    const result = classifyHttpStatus(429, '30', '', 0);
    assert.equal(result.outcome, 'retryable');
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.retryAfterMillis, 30_000);
    assert.equal('retryAfterMillis' in classifyHttpStatus(503, 'garbage', '', 0), false);
    assert.equal('retryAfterMillis' in classifyHttpStatus(503, undefined, '', 0), false);
  });

  test('Retry-After on a non-retryable status is ignored', () => {
    const result = classifyHttpStatus(400, '30', '', 0);
    assert.equal(result.outcome, 'rejected');
    assert.equal('retryAfterMillis' in result, false);
  });

  test('the kept response is truncated to 2 KiB', () => {
    const result = classifyHttpStatus(500, undefined, 'x'.repeat(10_000), 0);
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.response, `${'x'.repeat(MAX_ERROR_RESPONSE_BYTES)}…`);
    assert.equal(truncateResponse('short'), 'short');
  });
});

describe('classifyNetworkError', () => {
  const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });
  const abort = new DOMException('This operation was aborted', 'AbortError');
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  const cases: Array<[string, unknown, string]> = [
    ['ECONNRESET', withCode('socket hang up', 'ECONNRESET'), 'ECONNRESET'],
    ['ECONNREFUSED', withCode('connect ECONNREFUSED', 'ECONNREFUSED'), 'ECONNREFUSED'],
    ['ENOTFOUND', withCode('getaddrinfo ENOTFOUND', 'ENOTFOUND'), 'ENOTFOUND'],
    [
      'code in cause',
      new Error('fetch failed', { cause: withCode('other side closed', 'UND_ERR_SOCKET') }),
      'UND_ERR_SOCKET',
    ],
    ['undici abort', withCode('Request aborted', 'UND_ERR_ABORTED'), 'TIMEOUT'],
    ['AbortError', abort, 'TIMEOUT'],
    ['TimeoutError', timeout, 'TIMEOUT'],
    ['no code', new Error('weird'), 'NETWORK_ERROR'],
    ['not an Error', 'a string', 'NETWORK_ERROR'],
  ];
  for (const [name, err, code] of cases) {
    test(`${name} is retryable with code ${code}`, () => {
      const result = classifyNetworkError(err);
      assert.equal(result.outcome, 'retryable');
      assert.ok(result.outcome === 'retryable');
      assert.equal(result.error.code, code);
      assert.deepEqual(networkError(err), result.error);
    });
  }
});
