import type { DeliveryError, SendResult } from './destination.js';

/**
 * Failure classification, in one place (ARCHITECTURE.md, rule 5). Destinations map what the peer
 * said onto a `SendResult` with these functions; the runner decides what to do with it.
 */

/** Longest response body kept in a DeliveryError. */
export const MAX_ERROR_RESPONSE_BYTES = 2048;

/** Statuses that say the stream itself is refused: bad credentials, missing endpoint. */
const FATAL_STATUSES = new Set([401, 403, 404, 407, 410]);

/**
 * `Retry-After` (RFC 9110 §10.2.3) as milliseconds from `nowMillis`: either delay-seconds or an
 * HTTP-date. Returns undefined when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfterMillis(value: string | null | undefined, nowMillis = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date always names a weekday and a month; this refuses what Date.parse would also take
  // ("-5", "1.5") and misread as a date in the past, i.e. "retry now".
  if (!/^[A-Za-z]{3,9}, /.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMillis);
}

export function truncateResponse(body: string): string {
  if (body.length <= MAX_ERROR_RESPONSE_BYTES) return body;
  return `${body.slice(0, MAX_ERROR_RESPONSE_BYTES)}…`;
}

/**
 * The result of an HTTP exchange, from its status alone: 2xx delivered; 408, 425, 429 and 5xx
 * retryable (honouring Retry-After); 401/403/404/407/410 fatal for the stream; any other 4xx
 * rejected (the runner bisects the batch: 400, 413 and 422 are about the content).
 */
export function classifyHttpStatus(
  status: number,
  retryAfter: string | null | undefined,
  responseBody: string,
  bytes: number,
): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', bytes };
  const error: DeliveryError = {
    code: `HTTP_${status}`,
    message: `the destination answered HTTP ${status}`,
    status,
    response: truncateResponse(responseBody),
  };
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    const retryAfterMillis = parseRetryAfterMillis(retryAfter);
    return retryAfterMillis === undefined
      ? { outcome: 'retryable', error }
      : { outcome: 'retryable', error, retryAfterMillis };
  }
  if (FATAL_STATUSES.has(status)) return { outcome: 'fatal', error };
  if (status >= 400) return { outcome: 'rejected', error };
  // 1xx/3xx that reached us: redirects are not followed (SSRF), so the stream's URL is wrong.
  return { outcome: 'fatal', error: { ...error, message: `the destination answered HTTP ${status} (redirects are not followed)` } };
}

/** Network-level failures (reset, refused, DNS, TLS, timeout) are retryable. */
export function classifyNetworkError(err: unknown): SendResult {
  return { outcome: 'retryable', error: networkError(err) };
}

export function networkError(err: unknown): DeliveryError {
  if (err instanceof Error) {
    const code = errorCode(err);
    if (err.name === 'AbortError' || err.name === 'TimeoutError' || code === 'UND_ERR_ABORTED') {
      return { code: 'TIMEOUT', message: 'the destination did not answer in time' };
    }
    return { code: code ?? 'NETWORK_ERROR', message: err.message };
  }
  return { code: 'NETWORK_ERROR', message: String(err) };
}

function errorCode(err: Error): string | undefined {
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) return errorCode(cause);
  return undefined;
}
