import { classifyHttpStatus, parseRetryAfterMillis, truncateResponse } from './classify.js';
import type { DeliveryError, ItemOutcome, SendResult } from './destination.js';
import type { HttpSendResponse } from './http-send.js';
import { headerValue, parseJsonResponse } from './http-send.js';

/**
 * Splunk HTTP Event Collector status codes (Splunk docs, "Troubleshoot HTTP Event Collector",
 * table of possible error codes) and what each one means for delivery.
 *
 * Every HEC answer is `{"text": "...", "code": n}` with an HTTP status fixed by the code; a refusal
 * that concerns one event of a batch adds `"invalid-event-number": i` (0-based position in the
 * request body). The `code` is the more precise of the two, so it decides; the HTTP status is only
 * used when the body is not a HEC answer (a load balancer's 502 page, an empty 200).
 */

/**
 * - `success`: accepted (acknowledged later when indexer acknowledgement is on).
 * - `retryable`: the collector is overloaded or failing; send the same events again later.
 * - `fatal`: the token, index or channel settings are refused: nothing will pass until they change.
 * - `event`: one event is malformed; `invalid-event-number` says which.
 */
export type HecCodeKind = 'success' | 'retryable' | 'fatal' | 'event';

export interface HecCode {
  readonly code: number;
  readonly httpStatus: number;
  /** Splunk's `text`, verbatim. */
  readonly text: string;
  readonly kind: HecCodeKind;
  /** What an operator should do, for `fatal` codes. */
  readonly hint?: string;
}

const table: readonly HecCode[] = [
  { code: 0, httpStatus: 200, text: 'Success', kind: 'success' },
  { code: 1, httpStatus: 403, text: 'Token disabled', kind: 'fatal', hint: 'enable the HEC token in Splunk' },
  { code: 2, httpStatus: 401, text: 'Token is required', kind: 'fatal', hint: 'set `token`' },
  {
    code: 3,
    httpStatus: 401,
    text: 'Invalid authorization',
    kind: 'fatal',
    hint: 'a proxy may be rewriting the Authorization header',
  },
  {
    code: 4,
    httpStatus: 403,
    text: 'Invalid token',
    kind: 'fatal',
    hint: 'check `token` against the HEC token',
  },
  // flowstream never sends an empty body: "No data" means something on the way lost it.
  {
    code: 5,
    httpStatus: 400,
    text: 'No data',
    kind: 'fatal',
    hint: 'a proxy may be dropping request bodies',
  },
  { code: 6, httpStatus: 400, text: 'Invalid data format', kind: 'event' },
  {
    code: 7,
    httpStatus: 400,
    text: 'Incorrect index',
    kind: 'fatal',
    hint: "add `index` to the token's allowed indexes, or change `index`",
  },
  { code: 8, httpStatus: 500, text: 'Internal server error', kind: 'retryable' },
  { code: 9, httpStatus: 503, text: 'Server is busy', kind: 'retryable' },
  {
    code: 10,
    httpStatus: 400,
    text: 'Data channel is missing',
    kind: 'fatal',
    hint: 'a proxy may be dropping the X-Splunk-Request-Channel header',
  },
  {
    code: 11,
    httpStatus: 400,
    text: 'Invalid data channel',
    kind: 'fatal',
    hint: '`channel` must be a GUID',
  },
  { code: 12, httpStatus: 400, text: 'Event field is required', kind: 'event' },
  { code: 13, httpStatus: 400, text: 'Event field cannot be blank', kind: 'event' },
  {
    code: 14,
    httpStatus: 400,
    text: 'ACK is disabled',
    kind: 'fatal',
    hint: 'enable indexer acknowledgement on the token, or set `indexerAcknowledgement: false`',
  },
  { code: 15, httpStatus: 400, text: 'Error in handling indexed fields', kind: 'event' },
  {
    code: 16,
    httpStatus: 400,
    text: 'Query string authorization is not enabled',
    kind: 'fatal',
    hint: 'flowstream authenticates with the Authorization header; check for a proxy',
  },
  { code: 17, httpStatus: 200, text: 'HEC is healthy', kind: 'success' },
  { code: 18, httpStatus: 503, text: 'HEC is unhealthy, queues are full', kind: 'retryable' },
  { code: 19, httpStatus: 503, text: 'HEC is unhealthy, ack service unavailable', kind: 'retryable' },
  {
    code: 20,
    httpStatus: 503,
    text: 'HEC is unhealthy, queues are full, ack service unavailable',
    kind: 'retryable',
  },
  {
    code: 21,
    httpStatus: 400,
    text: 'Invalid token',
    kind: 'fatal',
    hint: 'check `token` against the HEC token',
  },
  {
    code: 22,
    httpStatus: 400,
    text: 'Token disabled',
    kind: 'fatal',
    hint: 'enable the HEC token in Splunk',
  },
  { code: 23, httpStatus: 503, text: 'Server is shutting down', kind: 'retryable' },
  { code: 24, httpStatus: 200, text: 'HEC queue is approaching its capacity limit', kind: 'success' },
  { code: 25, httpStatus: 200, text: 'HEC ACK is approaching its capacity limit', kind: 'success' },
  {
    code: 26,
    httpStatus: 429,
    text: 'HEC queue is at capacity and cannot process any more requests',
    kind: 'retryable',
  },
  {
    code: 27,
    httpStatus: 429,
    text: 'HEC ACK channel is at capacity and cannot process any more requests',
    kind: 'retryable',
  },
];

/** Every documented HEC code, by number. */
export const HEC_CODES: ReadonlyMap<number, HecCode> = new Map(table.map((entry) => [entry.code, entry]));

/** A HEC JSON answer, as far as flowstream reads it. */
export interface HecAnswer {
  readonly code: number;
  readonly text: string;
  readonly ackId?: number;
  readonly invalidEventNumber?: number;
}

/** The HEC answer in a response body, or undefined when the body is not one. */
export function parseHecAnswer(response: HttpSendResponse): HecAnswer | undefined {
  const parsed = parseJsonResponse(response);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  const code = record.code;
  if (typeof code !== 'number' || !Number.isInteger(code)) return undefined;
  const text = typeof record.text === 'string' ? record.text : '';
  const ackId = record.ackId;
  const invalid = record['invalid-event-number'];
  return {
    code,
    text,
    ...(typeof ackId === 'number' && Number.isInteger(ackId) && ackId >= 0 ? { ackId } : {}),
    ...(typeof invalid === 'number' && Number.isInteger(invalid) ? { invalidEventNumber: invalid } : {}),
  };
}

export interface EventResponseInterpretation {
  readonly result: SendResult;
  /** Set when the collector accepted the batch and returned an acknowledgement id. */
  readonly ackId?: number;
}

/**
 * What a `POST /services/collector/event` answer means for a batch of `batchLength` events whose
 * event JSON totals `bytes`.
 *
 * A refusal of one event (`event` kind) with a usable `invalid-event-number` becomes a `partial`
 * result: that event is `rejected` (dead-lettered by the runner), every other event `retryable`.
 * The events before it are retryable rather than delivered because HEC is not transactional and
 * does not say whether it indexed them: re-sending may duplicate them (receivers drop duplicates by
 * `idempotency_key`), while assuming them delivered could lose them. Without a usable position the
 * whole batch is `rejected`, and the runner bisects it.
 */
export function interpretEventResponse(
  response: HttpSendResponse,
  batchLength: number,
  bytes: number,
): EventResponseInterpretation {
  if (response.status === undefined) return { result: response.result };
  const answer = parseHecAnswer(response);
  const status = response.status;
  if (answer === undefined) {
    // Not a HEC answer: the HTTP status alone decides (a 2xx without a body is taken as accepted).
    return { result: classifyHttpStatus(status, retryAfterOf(response), response.responseBody ?? '', bytes) };
  }
  const known = HEC_CODES.get(answer.code);
  const error = hecError(answer, status, response.responseBody ?? '');
  if (known === undefined) {
    if (status >= 200 && status < 300) {
      // A 2xx with a code Splunk does not document: nothing says the events were taken.
      return { result: { outcome: 'retryable', error } };
    }
    const byStatus = classifyHttpStatus(status, retryAfterOf(response), response.responseBody ?? '', bytes);
    switch (byStatus.outcome) {
      case 'retryable':
        return { result: { ...byStatus, error } };
      case 'fatal':
      case 'rejected':
        return { result: { outcome: byStatus.outcome, error } };
      default:
        return { result: byStatus };
    }
  }
  switch (known.kind) {
    case 'success':
      return {
        result: { outcome: 'delivered', bytes },
        ...(answer.ackId === undefined ? {} : { ackId: answer.ackId }),
      };
    case 'retryable': {
      const retryAfterMillis = parseRetryAfterMillis(retryAfterOf(response));
      return {
        result:
          retryAfterMillis === undefined
            ? { outcome: 'retryable', error }
            : { outcome: 'retryable', error, retryAfterMillis },
      };
    }
    case 'fatal':
      return { result: { outcome: 'fatal', error } };
    case 'event':
      return { result: eventRefusal(answer, error, batchLength) };
  }
}

function eventRefusal(answer: HecAnswer, error: DeliveryError, batchLength: number): SendResult {
  const position = answer.invalidEventNumber;
  if (batchLength <= 1 || position === undefined || position < 0 || position >= batchLength) {
    return { outcome: 'rejected', error };
  }
  const others: DeliveryError = {
    ...error,
    message: `${error.message}; event ${position} of the batch was refused, this one is sent again`,
  };
  const items: ItemOutcome[] = [];
  for (let i = 0; i < batchLength; i++) {
    items.push(i === position ? { outcome: 'rejected', error } : { outcome: 'retryable', error: others });
  }
  return { outcome: 'partial', bytes: 0, items };
}

/** A DeliveryError for a HEC answer: code `HEC_<n>`, Splunk's text and, for settings problems, a hint. */
export function hecError(answer: HecAnswer, status: number | undefined, body: string): DeliveryError {
  const known = HEC_CODES.get(answer.code);
  const text = answer.text === '' ? (known?.text ?? 'unknown') : answer.text;
  const position = answer.invalidEventNumber === undefined ? '' : ` (event ${answer.invalidEventNumber})`;
  const hint = known?.hint === undefined ? '' : `: ${known.hint}`;
  return {
    code: `HEC_${answer.code}`,
    message: `Splunk HEC answered code ${answer.code} "${text}"${position}${hint}`,
    ...(status === undefined ? {} : { status }),
    response: truncateResponse(body),
  };
}

function retryAfterOf(response: HttpSendResponse): string | undefined {
  return response.headers === undefined ? undefined : headerValue(response.headers['retry-after']);
}
