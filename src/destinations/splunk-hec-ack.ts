import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkPolicy } from '../net/network-policy.js';
import type { DeliveryError, SendResult } from './destination.js';
import type { HttpSendResponse } from './http-send.js';
import { parseJsonResponse, sendHttp } from './http-send.js';
import { HEC_CODES, hecError, parseHecAnswer } from './splunk-hec-codes.js';

/**
 * Indexer acknowledgement (Splunk docs, "About HTTP Event Collector Indexer Acknowledgment").
 *
 * With acknowledgement on, a `200 {"text":"Success","code":0,"ackId":n}` only says the collector
 * received the batch. It is indexed (written and replicated) once
 * `POST /services/collector/ack?channel=<channel>` with `{"acks":[n]}` answers
 * `{"acks":{"n":true}}`. Splunk forgets an ack id once it has answered `true` for it, and ack ids
 * belong to the channel (the `X-Splunk-Request-Channel` GUID) that sent the batch.
 *
 * The batch is reported delivered only when its ack id comes back `true`. An ack that does not come
 * within `ackTimeoutMillis` makes the batch retryable: it is sent again (Splunk may then hold it
 * twice; receivers drop duplicates by `idempotency_key`).
 */

export interface AckPollOptions {
  /** `<base>/services/collector/ack?channel=<channel>`. */
  readonly ackUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly network: NetworkPolicy;
  readonly signal: AbortSignal;
  /** Limit for each poll request. */
  readonly requestTimeoutMillis: number;
  /** How long to wait for the ack, from the moment the batch was accepted. */
  readonly ackTimeoutMillis: number;
  /** Longest pause between polls. Polls start 100 ms apart and double up to this. */
  readonly maxPollIntervalMillis: number;
}

const FIRST_POLL_INTERVAL_MILLIS = 100;
/** The shortest time limit of one poll, even right before the deadline (the wait may overrun by this). */
const MIN_POLL_TIMEOUT_MILLIS = 250;

/**
 * Polls until `ackId` is acknowledged (`delivered`), the time is up (`retryable`
 * `HEC_ACK_TIMEOUT`), the collector refuses the settings (`fatal`, e.g. code 14 ACK is disabled),
 * or `signal` ends it (`retryable` `TIMEOUT`). Transient poll failures (network, 5xx, busy) are
 * retried within the time limit.
 */
export async function waitForAck(ackId: number, bytes: number, options: AckPollOptions): Promise<SendResult> {
  const deadline = Date.now() + options.ackTimeoutMillis;
  const body = JSON.stringify({ acks: [ackId] });
  let interval = FIRST_POLL_INTERVAL_MILLIS;
  let lastProblem: DeliveryError | undefined;

  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return ackTimeout(ackId, options.ackTimeoutMillis, lastProblem);
    try {
      await sleep(Math.min(interval, remaining), undefined, { signal: options.signal, ref: false });
    } catch {
      return {
        outcome: 'retryable',
        error: { code: 'TIMEOUT', message: 'the destination did not answer in time' },
      };
    }
    interval = Math.min(interval * 2, options.maxPollIntervalMillis);

    const response = await sendHttp({
      url: options.ackUrl,
      headers: options.headers,
      body,
      network: options.network,
      signal: options.signal,
      // A poll that starts near the deadline still gets a fair chance to be answered.
      timeoutMillis: Math.min(
        options.requestTimeoutMillis,
        Math.max(MIN_POLL_TIMEOUT_MILLIS, deadline - Date.now()),
      ),
    });
    if (options.signal.aborted) {
      return {
        outcome: 'retryable',
        error: { code: 'TIMEOUT', message: 'the destination did not answer in time' },
      };
    }
    const verdict = readAckResponse(response, ackId);
    if (verdict.kind === 'acked') return { outcome: 'delivered', bytes };
    if (verdict.kind === 'fatal') return { outcome: 'fatal', error: verdict.error };
    if (verdict.kind === 'problem') lastProblem = verdict.error;
  }
}

type AckVerdict =
  | { readonly kind: 'acked' }
  | { readonly kind: 'pending' }
  | { readonly kind: 'problem'; readonly error: DeliveryError }
  | { readonly kind: 'fatal'; readonly error: DeliveryError };

/** One ack poll answer: acknowledged, not yet, a transient problem, or a refusal of the settings. */
export function readAckResponse(response: HttpSendResponse, ackId: number): AckVerdict {
  if (response.status === undefined) {
    return response.result.outcome === 'retryable'
      ? { kind: 'problem', error: response.result.error }
      : { kind: 'pending' };
  }
  if (response.status >= 200 && response.status < 300) {
    const parsed = parseJsonResponse(response);
    const acks =
      typeof parsed === 'object' && parsed !== null ? (parsed as { acks?: unknown }).acks : undefined;
    if (
      typeof acks === 'object' &&
      acks !== null &&
      (acks as Record<string, unknown>)[String(ackId)] === true
    ) {
      return { kind: 'acked' };
    }
    return { kind: 'pending' };
  }
  const answer = parseHecAnswer(response);
  if (answer !== undefined) {
    const error = hecError(answer, response.status, response.responseBody ?? '');
    return HEC_CODES.get(answer.code)?.kind === 'fatal'
      ? { kind: 'fatal', error }
      : { kind: 'problem', error };
  }
  const result = response.result;
  if (result.outcome === 'fatal') return { kind: 'fatal', error: result.error };
  if (result.outcome === 'retryable' || result.outcome === 'rejected')
    return { kind: 'problem', error: result.error };
  return { kind: 'pending' };
}

function ackTimeout(
  ackId: number,
  ackTimeoutMillis: number,
  lastProblem: DeliveryError | undefined,
): SendResult {
  const problem = lastProblem === undefined ? '' : `; last poll: ${lastProblem.code} ${lastProblem.message}`;
  return {
    outcome: 'retryable',
    error: {
      code: 'HEC_ACK_TIMEOUT',
      message: `Splunk did not acknowledge indexing of ackId ${ackId} within ${ackTimeoutMillis} ms; the batch is sent again${problem}`,
    },
  };
}
