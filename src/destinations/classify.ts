import type { DeliveryError, ItemOutcome, OutboundEvent, SendResult } from './destination.js';

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
export function parseRetryAfterMillis(
  value: string | null | undefined,
  nowMillis = Date.now(),
): number | undefined {
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
  return {
    outcome: 'fatal',
    error: { ...error, message: `the destination answered HTTP ${status} (redirects are not followed)` },
  };
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

/**
 * What a destination with per-event answers (Elasticsearch bulk items, EventBridge entries) says
 * about one event: `stream` is a problem with the stream's settings (missing index, access denied)
 * that must never dead-letter the event.
 */
export type ItemClass =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retryable'; readonly error: DeliveryError; readonly retryAfterMillis?: number }
  | { readonly kind: 'rejected'; readonly error: DeliveryError }
  | { readonly kind: 'stream'; readonly error: DeliveryError };

/**
 * The send's result from per-event classes: all delivered → delivered; nothing delivered and a
 * stream problem → fatal; nothing delivered or rejected → retryable (the longest Retry-After);
 * otherwise per item, with stream problems retried. `bytes` counts the delivered events' JSON.
 */
export function combineItemClasses(
  batch: readonly OutboundEvent[],
  classes: readonly ItemClass[],
): SendResult {
  let delivered = 0;
  let rejected = 0;
  let deliveredBytes = 0;
  let firstStream: DeliveryError | undefined;
  let firstRetryable: DeliveryError | undefined;
  let retryAfterMillis: number | undefined;
  for (let i = 0; i < classes.length; i++) {
    const item = classes[i];
    if (item === undefined) continue;
    if (item.kind === 'delivered') {
      delivered++;
      deliveredBytes += Buffer.byteLength(batch[i]?.json ?? '', 'utf8');
    } else if (item.kind === 'rejected') rejected++;
    else if (item.kind === 'stream') firstStream ??= item.error;
    else {
      firstRetryable ??= item.error;
      if (item.retryAfterMillis !== undefined)
        retryAfterMillis = Math.max(retryAfterMillis ?? 0, item.retryAfterMillis);
    }
  }
  if (delivered === classes.length) return { outcome: 'delivered', bytes: deliveredBytes };
  if (delivered === 0 && firstStream !== undefined) return { outcome: 'fatal', error: firstStream };
  if (delivered === 0 && rejected === 0 && firstRetryable !== undefined) {
    return retryAfterMillis === undefined
      ? { outcome: 'retryable', error: firstRetryable }
      : { outcome: 'retryable', error: firstRetryable, retryAfterMillis };
  }
  const items: ItemOutcome[] = classes.map((item) => {
    switch (item.kind) {
      case 'delivered':
        return { outcome: 'delivered' };
      case 'rejected':
        return { outcome: 'rejected', error: item.error };
      default:
        return { outcome: 'retryable', error: item.error };
    }
  });
  return { outcome: 'partial', bytes: deliveredBytes, items };
}

/**
 * TLS verification failures: the peer's certificate will not start verifying by itself, so the
 * stream is refused (fatal: DEGRADED, retried slowly) rather than retried at full pace.
 */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A failure before any answer (HTTP, TCP, TLS): retryable as classifyNetworkError says, except a
 * refusal by the network policy (a `ForbiddenDestinationError`, or a code containing FORBIDDEN),
 * TLS verification failures and TLS handshake refusals, which will not fix themselves: fatal.
 */
export function classifyConnectError(err: unknown): Extract<SendResult, { outcome: 'retryable' | 'fatal' }> {
  const error = networkError(err);
  if (isForbidden(err) || /FORBIDDEN/.test(error.code)) return { outcome: 'fatal', error };
  if (TLS_VERIFY_CODES.has(error.code))
    return { outcome: 'fatal', error: { ...error, message: `TLS: ${error.message}` } };
  if (error.code.startsWith('ERR_SSL_')) {
    // OpenSSL's message is a long internal trace; the code says it all (ERR_SSL_WRONG_VERSION_NUMBER).
    const reason = error.code.slice('ERR_SSL_'.length).toLowerCase().replaceAll('_', ' ');
    return { outcome: 'fatal', error: { code: error.code, message: `TLS handshake failed: ${reason}` } };
  }
  return { outcome: 'retryable', error };
}

function isForbidden(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'ForbiddenDestinationError') return true;
  }
  return false;
}
