import type { SendResult } from '../destinations/destination.js';

/**
 * When to try again after a failed send: small pure functions, so that every rule has a table test
 * (in the manner of OpenTelemetry's `isExportHTTPErrorRetryable` / `parseRetryAfterToMills`).
 *
 * - Backoff is exponential with full jitter (AWS Architecture Blog, "Exponential Backoff And
 *   Jitter"): attempt n waits a uniformly random time in [0, min(max, initial · 2^(n-1))).
 *   Full jitter spreads many runners that failed at the same moment across the whole window.
 * - A `Retry-After` from the destination is a floor, never shortened: the delay is the larger of
 *   the Retry-After and the jittered backoff. An absurd Retry-After (a date years ahead, a bogus
 *   number) is capped at `MAX_RETRY_AFTER_MILLIS` (1 hour), so one bad answer cannot silence a
 *   stream for days; the stream stays DEGRADED meanwhile, so the wait is visible.
 * - A fatal answer (the stream itself is refused: 401/403/404) is retried slowly, every
 *   `maxMillis`: someone has to fix the settings or the destination first.
 */

/** The longest `Retry-After` honoured: 1 hour. A longer one is treated as 1 hour. */
export const MAX_RETRY_AFTER_MILLIS = 60 * 60 * 1000;

export interface BackoffSettings {
  /** The first retry's window, in milliseconds (`DeliverySettings.retryInitialMillis`). */
  readonly initialMillis: number;
  /** The largest window, in milliseconds (`DeliverySettings.retryMaxMillis`). */
  readonly maxMillis: number;
}

/** A source of uniformly distributed numbers in [0, 1), such as `Math.random`. */
export type RandomSource = () => number;

/**
 * The jittered delay before retry number `attempt` (1 = the first retry), in whole milliseconds.
 * `attempt` below 1 is treated as 1. The result is in [0, min(maxMillis, initialMillis · 2^(attempt-1))).
 */
export function backoffMillis(attempt: number, settings: BackoffSettings, random: RandomSource): number {
  const window = backoffWindowMillis(attempt, settings);
  const r = clampUnit(random());
  return Math.floor(window * r);
}

/** The upper bound of `backoffMillis` for `attempt`: min(maxMillis, initialMillis · 2^(attempt-1)). */
export function backoffWindowMillis(attempt: number, settings: BackoffSettings): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  const initial = Math.max(0, settings.initialMillis);
  const max = Math.max(initial, settings.maxMillis);
  // 2^(n-1) overflows to Infinity for large n; Math.min then yields max, which is what we want.
  return Math.min(max, initial * 2 ** (n - 1));
}

/**
 * The delay before the next attempt after `result`, where `attempt` counts the consecutive failed
 * attempts of the same events including this one (1 after the first failure).
 *
 * - `delivered` and `rejected`: 0 (nothing to wait for; a rejected batch is bisected at once).
 * - `retryable`: the jittered backoff, but never less than `retryAfterMillis` (capped at 1 h).
 * - `partial`: the jittered backoff (the retryable items are sent again; delivered ones are done).
 * - `fatal`: `maxMillis`, the slow cadence of a stream that its destination refuses.
 */
export function nextDelayMillis(
  result: SendResult,
  attempt: number,
  settings: BackoffSettings,
  random: RandomSource,
): number {
  switch (result.outcome) {
    case 'delivered':
    case 'rejected':
      return 0;
    case 'retryable': {
      const backoff = backoffMillis(attempt, settings, random);
      if (result.retryAfterMillis === undefined) return backoff;
      return Math.max(backoff, retryAfterFloorMillis(result.retryAfterMillis));
    }
    case 'partial':
      return backoffMillis(attempt, settings, random);
    case 'fatal':
      return Math.max(settings.initialMillis, settings.maxMillis);
  }
}

/** A destination's Retry-After as a usable delay: non-negative, whole, at most 1 hour. */
export function retryAfterFloorMillis(retryAfterMillis: number): number {
  if (!Number.isFinite(retryAfterMillis)) {
    return retryAfterMillis > 0 ? MAX_RETRY_AFTER_MILLIS : 0;
  }
  return Math.min(MAX_RETRY_AFTER_MILLIS, Math.max(0, Math.ceil(retryAfterMillis)));
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  // random() is specified as [0, 1); a source returning 1 would make the window inclusive.
  return value >= 1 ? 1 - Number.EPSILON : value;
}
