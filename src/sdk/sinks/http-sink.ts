import { performance } from 'node:perf_hooks';
import type { DeliveryError } from '../../destinations/destination.js';
import type { HttpSendResponse } from '../../destinations/http-send.js';
import { parseJsonResponse, sendHttp } from '../../destinations/http-send.js';
import type { NetworkPolicy } from '../../net/network-policy.js';
import { openNetworkPolicy } from '../../net/network-policy.js';
import type { FlowEvent } from '../../schema/definitions.js';
import { checkNumberOption, SdkOptionError } from '../errors.js';
import type { EventSink, SinkStats } from './event-sink.js';
import { EMPTY_SINK_STATS } from './event-sink.js';

/**
 * Sends events to a flowstream server's ingest endpoint (`POST {url}/api/v1/events`, SPEC §3),
 * batched like OpenTelemetry's BatchLogRecordProcessor.
 *
 * Invariants:
 * - `emit` is O(1) apart from `JSON.stringify` of the event: it never waits for I/O, never throws.
 *   The event is serialized at emit time, so later changes to the object do not leak into what is
 *   sent. When `maxQueueSize` events are waiting, a new event is dropped and counted
 *   (`droppedTotal`, `onDrop`): memory is bounded by `maxQueueSize` events plus one batch in flight.
 * - At most one request is in flight, and batches leave in emit order, so the receiver sees each
 *   execution's events in the order they happened (a batch being retried holds back the next one).
 * - A batch is sent when `maxBatchSize` events are waiting, `scheduledDelayMillis` after the first
 *   event of a partial batch was queued, or at once on `flush`/`shutdown`.
 * - Failure handling (classification from `classifyHttpStatus`, the project's one place for it):
 *   - 2xx: the body `{accepted, duplicates, rejected: [{index, errors}]}` is read; events at the
 *     `rejected` indexes are counted as rejected (and passed to `onReject`), never re-sent.
 *   - 408, 425, 429, 5xx, network errors and timeouts: the same batch is re-sent after `Retry-After`
 *     (capped at `maxRetryAfterMillis`) or else a jittered exponential backoff, until
 *     `retryTimeoutMillis` after its first attempt; then its events count as failed (`onFailure`).
 *     Re-sending keeps each event's `idempotency_key`, so the receiver stores a retried event once.
 *   - 413: the batch is split in halves, each sent on its own; a single event that is too large is
 *     rejected.
 *   - 400 and other content 4xx: every event of the batch is rejected (ingest answers 400 only when
 *     no event of the body is valid); per-event errors from the body go to `onReject`.
 *   - 401, 403, 404, 407, 410 and redirects: the batch's events count as failed at once, not
 *     retried (re-sending cannot succeed until someone fixes the token or the URL); later batches
 *     are still tried, so a fixed token takes effect without a restart.
 * - `flush()` resolves when every event queued before the call is settled (accepted, duplicate,
 *   rejected, failed or dropped). `shutdown()` stops taking events, flushes, and at
 *   `shutdownTimeoutMillis` aborts the request in flight (its events count as failed) and drops
 *   what is still queued (counted). Both never reject; shutdown is idempotent.
 * - Timers are unref'd, except a retry's backoff timer while someone awaits `flush`/`shutdown`
 *   (so `await sink.flush()` in a script is not cut short by the process exiting).
 */

export const HTTP_SINK_DEFAULTS = Object.freeze({
  /** Events waiting to be sent; once reached, new events are dropped. */
  maxQueueSize: 2048,
  /** Events per request. */
  maxBatchSize: 500,
  /** Bytes of event JSON per request (uncompressed); a single larger event is sent alone. 1 MiB. */
  maxBatchBytes: 1024 * 1024,
  /** Delay between the first event of a partial batch and its sending, in milliseconds. */
  scheduledDelayMillis: 200,
  /** Limit for one request (connect, send, answer), in milliseconds. */
  timeoutMillis: 10_000,
  /** First retry delay before jitter, in milliseconds; doubles per attempt up to `maxBackoffMillis`. */
  initialBackoffMillis: 200,
  /** Longest backoff delay, in milliseconds. */
  maxBackoffMillis: 30_000,
  /** Longest `Retry-After` honoured, in milliseconds (a longer one is cut to this). */
  maxRetryAfterMillis: 60_000,
  /** How long one batch is retried, from its first attempt, before its events count as failed. */
  retryTimeoutMillis: 120_000,
  /** How long `shutdown()` waits for the queue to drain, in milliseconds. */
  shutdownTimeoutMillis: 10_000,
});

/** The receiver is flowstream itself; its per-event rejection list for a 500-event batch is larger than the destinations' 64 KiB default. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export type DropReason = 'queue_full' | 'shutdown' | 'not_serializable';

export interface SinkDrop {
  readonly reason: DropReason;
  /** How many events this drop concerns. */
  readonly events: number;
}

export interface SinkRejectionProblem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface SinkRejection {
  /** The event as sent (JSON text). */
  readonly json: string;
  /** The HTTP status of the answer that refused it. */
  readonly status: number;
  /** The receiver's reasons (from its `rejected[].errors`), or one entry made from the status. */
  readonly errors: readonly SinkRejectionProblem[];
}

export interface SinkFailure {
  /** Stable code: `HTTP_401`, `ECONNREFUSED`, `TIMEOUT`, `SHUTDOWN` ... */
  readonly error: DeliveryError;
  /** Events given up. */
  readonly events: number;
  /** Requests made for them. */
  readonly attempts: number;
}

export interface HttpSinkOptions {
  /** Base URL of the flowstream server, e.g. `http://127.0.0.1:8470`; events go to `{url}/api/v1/events`. */
  readonly url: string;
  /** An ingest token (scope `events:write`). Sent as `Authorization: <authScheme> <token>`. */
  readonly token: string;
  /** `Bearer` (default) or Okta's `SSWS`. */
  readonly authScheme?: 'Bearer' | 'SSWS';
  /** Compress request bodies with gzip. Default false. */
  readonly gzip?: boolean;
  readonly maxQueueSize?: number;
  readonly maxBatchSize?: number;
  readonly maxBatchBytes?: number;
  readonly scheduledDelayMillis?: number;
  readonly timeoutMillis?: number;
  readonly initialBackoffMillis?: number;
  readonly maxBackoffMillis?: number;
  readonly maxRetryAfterMillis?: number;
  readonly retryTimeoutMillis?: number;
  readonly shutdownTimeoutMillis?: number;
  /**
   * How connections are made (undici dispatcher). Default: a private keep-alive agent that permits
   * every address (the receiver is the operator's own server), closed at shutdown. A policy passed
   * here is not closed by the sink.
   */
  readonly network?: NetworkPolicy;
  /** Source of jitter in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Called for each drop (queue full: once per event). Must not throw (a throw is swallowed). */
  readonly onDrop?: (drop: SinkDrop) => void;
  /** Called with the events the receiver refused, per answer. */
  readonly onReject?: (rejections: readonly SinkRejection[]) => void;
  /** Called when a batch is given up. */
  readonly onFailure?: (failure: SinkFailure) => void;
}

interface QueuedEvent {
  readonly json: string;
  readonly bytes: number;
}

interface FlushWaiter {
  readonly target: number;
  readonly resolve: () => void;
}

type MutableStats = { -readonly [K in keyof SinkStats]: SinkStats[K] };

export class HttpSink implements EventSink {
  readonly #endpoint: URL;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #gzip: boolean;
  readonly #maxQueueSize: number;
  readonly #maxBatchSize: number;
  readonly #maxBatchBytes: number;
  readonly #scheduledDelayMillis: number;
  readonly #timeoutMillis: number;
  readonly #initialBackoffMillis: number;
  readonly #maxBackoffMillis: number;
  readonly #maxRetryAfterMillis: number;
  readonly #retryTimeoutMillis: number;
  readonly #shutdownTimeoutMillis: number;
  readonly #network: NetworkPolicy;
  readonly #ownsNetwork: boolean;
  readonly #random: () => number;
  readonly #onDrop: ((drop: SinkDrop) => void) | undefined;
  readonly #onReject: ((rejections: readonly SinkRejection[]) => void) | undefined;
  readonly #onFailure: ((failure: SinkFailure) => void) | undefined;

  #queue: QueuedEvent[] = [];
  readonly #stats: MutableStats = { ...EMPTY_SINK_STATS };
  /** Events ever queued; `flush` waits until `#settledTotal` reaches this value as it was at the call. */
  #enqueuedTotal = 0;
  /** Events that left the queue and reached a final state, in queue order. */
  #settledTotal = 0;
  #waiters: FlushWaiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerDue = false;
  /** The backoff wait of a retry, if one is running. */
  #sleepTimer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #closed = false;
  #shutdown: Promise<void> | undefined;
  /** Aborted at the shutdown deadline: ends the request in flight and any backoff wait. */
  readonly #abort = new AbortController();

  constructor(options: HttpSinkOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new SdkOptionError(`url must be an absolute http(s) URL, got ${JSON.stringify(options.url)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new SdkOptionError(`url must be an http(s) URL, got ${JSON.stringify(options.url)}`);
    }
    if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
    this.#endpoint = new URL('api/v1/events', base);
    if (typeof options.token !== 'string' || options.token === '' || /[\r\n]/.test(options.token)) {
      throw new SdkOptionError('token must be a non-empty string without line breaks');
    }
    const scheme = options.authScheme ?? 'Bearer';
    if (scheme !== 'Bearer' && scheme !== 'SSWS') {
      throw new SdkOptionError(`authScheme must be "Bearer" or "SSWS", got ${JSON.stringify(scheme)}`);
    }
    this.#headers = Object.freeze({
      'content-type': 'application/json',
      authorization: `${scheme} ${options.token}`,
      'user-agent': 'flowstream-sdk',
    });
    this.#gzip = options.gzip === true;
    const d = HTTP_SINK_DEFAULTS;
    this.#maxQueueSize = checkNumberOption('maxQueueSize', options.maxQueueSize, d.maxQueueSize, { min: 1 });
    this.#maxBatchSize = checkNumberOption('maxBatchSize', options.maxBatchSize, d.maxBatchSize, { min: 1 });
    this.#maxBatchBytes = checkNumberOption('maxBatchBytes', options.maxBatchBytes, d.maxBatchBytes, {
      min: 1,
    });
    this.#scheduledDelayMillis = checkNumberOption(
      'scheduledDelayMillis',
      options.scheduledDelayMillis,
      d.scheduledDelayMillis,
    );
    this.#timeoutMillis = checkNumberOption('timeoutMillis', options.timeoutMillis, d.timeoutMillis, {
      min: 1,
    });
    this.#initialBackoffMillis = checkNumberOption(
      'initialBackoffMillis',
      options.initialBackoffMillis,
      d.initialBackoffMillis,
      { min: 1 },
    );
    this.#maxBackoffMillis = checkNumberOption(
      'maxBackoffMillis',
      options.maxBackoffMillis,
      d.maxBackoffMillis,
      {
        min: this.#initialBackoffMillis,
      },
    );
    this.#maxRetryAfterMillis = checkNumberOption(
      'maxRetryAfterMillis',
      options.maxRetryAfterMillis,
      d.maxRetryAfterMillis,
    );
    this.#retryTimeoutMillis = checkNumberOption(
      'retryTimeoutMillis',
      options.retryTimeoutMillis,
      d.retryTimeoutMillis,
    );
    this.#shutdownTimeoutMillis = checkNumberOption(
      'shutdownTimeoutMillis',
      options.shutdownTimeoutMillis,
      d.shutdownTimeoutMillis,
    );
    this.#ownsNetwork = options.network === undefined;
    this.#network = options.network ?? openNetworkPolicy();
    this.#random = options.random ?? Math.random;
    this.#onDrop = options.onDrop;
    this.#onReject = options.onReject;
    this.#onFailure = options.onFailure;
  }

  /** The ingest URL requests go to. */
  get endpoint(): string {
    return this.#endpoint.href;
  }

  emit(event: FlowEvent): void {
    try {
      this.#stats.emittedTotal++;
      if (this.#closed) {
        this.#drop('shutdown', 1);
        return;
      }
      if (this.#queue.length >= this.#maxQueueSize) {
        this.#drop('queue_full', 1);
        return;
      }
      const json: unknown = JSON.stringify(event);
      if (typeof json !== 'string' || json[0] !== '{') {
        this.#drop('not_serializable', 1);
        return;
      }
      this.#queue.push({ json, bytes: Buffer.byteLength(json) });
      this.#enqueuedTotal++;
      if (this.#queue.length >= this.#maxBatchSize) this.#kick();
      else this.#schedule();
    } catch {
      // JSON.stringify throws on cycles and BigInt; nothing else here can.
      this.#drop('not_serializable', 1);
    }
  }

  flush(): Promise<void> {
    const target = this.#enqueuedTotal;
    if (this.#settledTotal >= target) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#waiters.push({ target, resolve });
      this.#sleepTimer?.ref();
      this.#clearTimer();
      this.#kick();
    });
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#shutDown();
    return this.#shutdown;
  }

  stats(): SinkStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    let deadline: NodeJS.Timeout | undefined;
    try {
      const timedOut = await Promise.race([
        this.flush().then(() => false),
        new Promise<boolean>((resolve) => {
          deadline = setTimeout(() => resolve(true), this.#shutdownTimeoutMillis);
          deadline.unref();
        }),
      ]);
      if (timedOut) {
        this.#abort.abort();
        const left = this.#queue.length;
        this.#queue = [];
        if (left > 0) {
          this.#settle(left);
          this.#drop('shutdown', left);
        }
        await this.#draining;
      }
    } finally {
      clearTimeout(deadline);
      this.#clearTimer();
      if (this.#ownsNetwork) {
        try {
          await this.#network.dispatcher.close();
        } catch {
          // Closing an agent only fails when it is already closed.
        }
      }
    }
  }

  #drop(reason: DropReason, events: number): void {
    this.#stats.droppedTotal += events;
    callSafely(this.#onDrop, { reason, events });
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#draining !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = true;
      this.#kick();
    }, this.#scheduledDelayMillis);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #kick(): void {
    if (this.#draining !== undefined) return;
    this.#draining = this.#drain();
  }

  /** The one sender: takes batches while one is due, sends each to a final state, in order. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#batchDue()) {
        this.#timerDue = false;
        const batch = this.#takeBatch();
        this.#stats.inFlight = batch.length;
        await this.#deliver(batch, 0);
      }
    } catch {
      // #deliver settles every event itself; reaching here would be a bug, and the sink must not stop.
    } finally {
      this.#stats.inFlight = 0;
      this.#draining = undefined;
      if (this.#queue.length > 0) {
        if (this.#batchDue()) this.#kick();
        else this.#schedule();
      }
    }
  }

  #batchDue(): boolean {
    if (this.#queue.length >= this.#maxBatchSize || this.#timerDue || this.#closed) return true;
    return this.#waiters.some((w) => w.target > this.#settledTotal);
  }

  #takeBatch(): QueuedEvent[] {
    let count = 0;
    let bytes = 0;
    for (const item of this.#queue) {
      if (count === this.#maxBatchSize) break;
      if (count > 0 && bytes + item.bytes + 1 > this.#maxBatchBytes) break;
      bytes += item.bytes + 1;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  /** Sends one batch until it reaches a final state. `attemptsBefore` carries over when a 413 splits it. */
  async #deliver(batch: readonly QueuedEvent[], attemptsBefore: number): Promise<void> {
    const firstAttemptAt = performance.now();
    let attempts = attemptsBefore;
    let retries = 0;
    for (;;) {
      if (this.#abort.signal.aborted) {
        this.#fail(batch, attempts, shutdownError());
        return;
      }
      attempts++;
      this.#stats.requestsTotal++;
      const response = await this.#send(batch);
      const result = response.result;
      switch (result.outcome) {
        case 'delivered':
        case 'partial':
          this.#settleAnswered(batch, response);
          return;
        case 'rejected':
          if (response.status === 413 && batch.length > 1) {
            const half = Math.ceil(batch.length / 2);
            await this.#deliver(batch.slice(0, half), attempts);
            await this.#deliver(batch.slice(half), attempts);
            return;
          }
          this.#reject(batch, response, result.error);
          return;
        case 'fatal':
          this.#fail(batch, attempts, result.error);
          return;
        case 'retryable': {
          if (this.#abort.signal.aborted) {
            this.#fail(batch, attempts, shutdownError());
            return;
          }
          retries++;
          const retryAfter = result.retryAfterMillis;
          const delay =
            retryAfter !== undefined && retryAfter > 0
              ? Math.min(retryAfter, this.#maxRetryAfterMillis)
              : this.#backoffMillis(retries);
          if (performance.now() - firstAttemptAt + delay > this.#retryTimeoutMillis) {
            this.#fail(batch, attempts, {
              ...result.error,
              message: `${result.error.message}; gave up after ${attempts} attempts`,
            });
            return;
          }
          this.#stats.retriesTotal++;
          await this.#sleep(delay);
        }
      }
    }
  }

  /**
   * One request. sendHttp reports expected failures as values; anything it throws (a bug, a
   * dispatcher closed under it) becomes a retryable failure, so every batch still settles and no
   * `flush()` waits forever.
   */
  async #send(batch: readonly QueuedEvent[]): Promise<HttpSendResponse> {
    try {
      return await sendHttp({
        url: this.#endpoint,
        headers: this.#headers,
        body: `[${batch.map((e) => e.json).join(',')}]`,
        gzip: this.#gzip,
        network: this.#network,
        signal: this.#abort.signal,
        timeoutMillis: this.#timeoutMillis,
        maxResponseBytes: MAX_RESPONSE_BYTES,
      });
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      return { result: { outcome: 'retryable', error: { code: 'SDK_SEND_ERROR', message } }, sentBytes: 0 };
    }
  }

  /** Resolves after `millis`, or at once at the shutdown deadline. */
  #sleep(millis: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        this.#sleepTimer = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, millis);
      // Only someone awaiting flush/shutdown keeps the process alive for a retry.
      if (this.#waiters.length === 0 && !this.#closed) timer.unref();
      this.#sleepTimer = timer;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Full-jitter-ish exponential backoff: uniformly in [½, 1] × min(max, initial × 2^(retry-1)). */
  #backoffMillis(retry: number): number {
    const base = Math.min(this.#maxBackoffMillis, this.#initialBackoffMillis * 2 ** Math.min(retry - 1, 30));
    const jitter = Math.min(Math.max(this.#random(), 0), 1);
    return Math.round(base * (0.5 + 0.5 * jitter));
  }

  /** A 2xx: the receiver's counts, made consistent with the batch so the stats invariant holds. */
  #settleAnswered(batch: readonly QueuedEvent[], response: HttpSendResponse): void {
    this.#stats.sentTotal += batch.length;
    const answer = readIngestAnswer(parseJsonResponse(response), batch.length);
    const rejected: SinkRejection[] = answer.rejected.map(({ index, errors }) => ({
      json: batch[index]?.json ?? '',
      status: response.status ?? 0,
      errors,
    }));
    const duplicates = Math.min(answer.duplicates, batch.length - rejected.length);
    this.#stats.duplicatesTotal += duplicates;
    this.#stats.rejectedTotal += rejected.length;
    this.#stats.acceptedTotal += batch.length - rejected.length - duplicates;
    this.#settle(batch.length);
    if (rejected.length > 0) callSafely(this.#onReject, rejected);
  }

  /** The whole batch refused for its content; per-event reasons from the body when it has them. */
  #reject(batch: readonly QueuedEvent[], response: HttpSendResponse, error: DeliveryError): void {
    const answer = readIngestAnswer(parseJsonResponse(response), batch.length);
    const reasons = new Map(answer.rejected.map((r) => [r.index, r.errors]));
    const fallback = [{ path: '', code: error.code, message: error.message }];
    const rejections = batch.map((item, index) => ({
      json: item.json,
      status: response.status ?? 0,
      errors: reasons.get(index) ?? fallback,
    }));
    this.#stats.rejectedTotal += batch.length;
    this.#settle(batch.length);
    callSafely(this.#onReject, rejections);
  }

  #fail(batch: readonly QueuedEvent[], attempts: number, error: DeliveryError): void {
    this.#stats.failedTotal += batch.length;
    this.#settle(batch.length);
    callSafely(this.#onFailure, { error, events: batch.length, attempts });
  }

  #settle(events: number): void {
    this.#settledTotal += events;
    this.#stats.inFlight = Math.max(0, this.#stats.inFlight - events);
    if (this.#waiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.target <= this.#settledTotal) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }
}

interface IngestAnswer {
  readonly duplicates: number;
  /** Distinct in-range indexes, ascending. */
  readonly rejected: readonly { readonly index: number; readonly errors: readonly SinkRejectionProblem[] }[];
}

/**
 * Reads ingest's `{accepted, duplicates, rejected: [{index, errors}]}` defensively: anything
 * missing or malformed counts as "no duplicates, nothing rejected" (a 2xx then means all stored).
 */
export function readIngestAnswer(body: unknown, batchLength: number): IngestAnswer {
  if (typeof body !== 'object' || body === null) return { duplicates: 0, rejected: [] };
  const record = body as Record<string, unknown>;
  const duplicates =
    typeof record.duplicates === 'number' && Number.isInteger(record.duplicates) && record.duplicates > 0
      ? record.duplicates
      : 0;
  const byIndex = new Map<number, SinkRejectionProblem[]>();
  if (Array.isArray(record.rejected)) {
    for (const entry of record.rejected as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { index, errors } = entry as { index?: unknown; errors?: unknown };
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= batchLength)
        continue;
      const problems = byIndex.get(index) ?? [];
      if (Array.isArray(errors)) {
        for (const e of errors as unknown[]) {
          if (typeof e !== 'object' || e === null) continue;
          const { path, code, message } = e as Record<string, unknown>;
          problems.push({
            path: typeof path === 'string' ? path : '',
            code: typeof code === 'string' ? code : 'UNKNOWN',
            message: typeof message === 'string' ? message : '',
          });
        }
      }
      byIndex.set(index, problems);
    }
  }
  const rejected = [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, errors]) => ({ index, errors }));
  return { duplicates, rejected };
}

function shutdownError(): DeliveryError {
  return { code: 'SHUTDOWN', message: 'the sink shut down before the receiver answered' };
}

function callSafely<T>(callback: ((value: T) => void) | undefined, value: T): void {
  if (callback === undefined) return;
  try {
    callback(value);
  } catch {
    // A throwing callback must not stop delivery (or reach the engine).
  }
}
