import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { classifyNetworkError } from '../destinations/classify.js';
import type { DeliveryError, Destination, OutboundEvent, SendResult } from '../destinations/destination.js';
import type { EventLog, StoredEvent } from '../log/event-log.js';
import { CursorTracker } from './cursor-tracker.js';
import type { StreamMetrics } from './metrics.js';
import { type BackoffSettings, nextDelayMillis, type RandomSource } from './retry-policy.js';
import type { DeliverySettings, StreamDefinition } from './stream.js';
import type { LastError, NewDeadLetter, StreamStore } from './stream-store.js';
import { compileFilter, type EventPredicate, toOutboundEvent } from './transforms.js';
import { Wakeup } from './wakeup.js';

/**
 * The stream runner: one per active stream; it owns the stream's cursor (ARCHITECTURE.md rules 3-6).
 *
 * Algorithm (docs/streams.md has the long form):
 * - A reader takes events after `readSeq` from the log (`readAfter`), drops those the filter does
 *   not want (they count as done), converts the rest (`toOutboundEvent`, transforms applied) and
 *   queues each on lane `hash(execution_id) % concurrency`. It sleeps on `log.onAppend` when caught
 *   up, and while `maxBufferedEvents` events are owed (back-pressure). Retention gaps are counted
 *   as expired before anything after them is read.
 * - Each lane sends one batch at a time, so an execution's events are never in two in-flight
 *   batches and reach the destination in log order. A batch is up to min(batchMaxEvents,
 *   destination.maxBatchEvents) events and destination.maxBatchBytes bytes; a partial batch waits
 *   up to batchTimeoutMillis for more. Each send is aborted after requestTimeoutMillis.
 * - delivered: done. retryable: the same events again after `nextDelayMillis` (never before a
 *   Retry-After). rejected: the batch is split in halves, recursively, and a refused single event is
 *   dead-lettered with the destination's answer. partial: delivered items done, rejected items
 *   dead-lettered, only the retryable items sent again. fatal: retried every retryMaxMillis; once
 *   the failure streak is pauseAfterMillis old the stream is PAUSED (the runner stops; activating
 *   the stream again starts a new runner from the cursor).
 * - The cursor (`CursorTracker.acknowledged`) is the highest seq at or below which every wanted
 *   event is acknowledged or dead-lettered. Progress is written at most every
 *   `progressFlushMillis`, dead letters in the same transaction as the cursor that passes them.
 *   After a crash the events after the persisted cursor are sent again: at least once.
 *
 * Nothing here blocks ingest or another stream: the runner has its own loops, timers, buffers and
 * cursor; the only shared resource is the state store, written in short transactions.
 */

export interface StreamRunnerOptions {
  readonly stream: StreamDefinition;
  readonly destination: Destination;
  readonly log: EventLog;
  readonly store: StreamStore;
  readonly metrics: StreamMetrics;
  readonly logger: Logger;
  /** Called once after the failure policy paused the stream and the runner stopped. */
  readonly onPaused?: () => void;
  /** Default `Math.random`. */
  readonly random?: RandomSource;
  /** Default `Date.now`. */
  readonly now?: () => number;
  /** Longest time between progress writes to the store. Default 100 ms. */
  readonly progressFlushMillis?: number;
  /**
   * How long a send may run after its signal was aborted before the runner stops waiting for it
   * (and counts it as a TIMEOUT). Protects against a destination that ignores its signal. Default 1000 ms.
   */
  readonly abortGraceMillis?: number;
}

export type RunnerStatus = 'ACTIVE' | 'DEGRADED' | 'PAUSED';

export interface RunnerSnapshot {
  readonly status: RunnerStatus;
  /** The acknowledged cursor (may be ahead of the persisted one by up to one flush interval). */
  readonly cursor: number;
  /** Owed events in memory plus the unread events after `readSeq` (an upper bound when filtering). */
  readonly lagEvents: number;
  /** Ingest time of the oldest owed event in memory, if any. */
  readonly oldestOwedIngestedAtMillis: number | undefined;
  readonly deliveredTotal: number;
  readonly deadLetteredTotal: number;
  readonly expiredTotal: number;
  readonly consecutiveFailures: number;
  readonly lastDeliveredAtMillis: number | null;
  readonly lastError: LastError | null;
}

interface Entry {
  readonly event: OutboundEvent;
  readonly bytes: number;
  readonly ingestedAtMillis: number;
  readonly enqueuedAtMillis: number;
  attempts: number;
}

interface Lane {
  readonly index: number;
  queue: Entry[];
  queuedBytes: number;
  readonly wake: Wakeup;
  readonly sleep: Wakeup;
}

const DEFAULT_PROGRESS_FLUSH_MILLIS = 100;
const DEFAULT_ABORT_GRACE_MILLIS = 1000;
/** The most events one `readAfter` asks for. */
const MAX_READ_EVENTS = 5000;
/** Delay before the reader tries again after the log failed to read. */
const READ_ERROR_DELAY_MILLIS = 1000;

export class StreamRunner {
  readonly #stream: StreamDefinition;
  readonly #delivery: DeliverySettings;
  readonly #destination: Destination;
  readonly #log: EventLog;
  readonly #store: StreamStore;
  readonly #metrics: StreamMetrics;
  readonly #logger: Logger;
  readonly #onPaused: (() => void) | undefined;
  readonly #random: RandomSource;
  readonly #now: () => number;
  readonly #flushMillis: number;
  readonly #abortGraceMillis: number;
  readonly #filter: EventPredicate;
  readonly #backoff: BackoffSettings;

  readonly #maxBatchEvents: number;
  readonly #maxBatchBytes: number;
  /** Larger events can never be sent: min(destination.maxEventBytes, destination.maxBatchBytes). */
  readonly #maxEventBytes: number;
  readonly #maxBufferedEvents: number;

  readonly #tracker: CursorTracker;
  readonly #lanes: Lane[];
  readonly #readerWake = new Wakeup();
  readonly #capacity = new Wakeup();
  readonly #owedIngestedAt = new Map<number, number>();
  readonly #inFlight = new Set<AbortController>();
  #readerBlocked = false;

  // Totals as persisted at start plus what this runner added; `#unsaved` holds what is not yet written.
  #deliveredTotal: number;
  #deadLetteredTotal: number;
  #expiredTotal: number;
  #lastDeliveredAtMillis: number | null;
  #consecutiveFailures: number;
  #failingSinceMillis: number | null;
  #lastError: LastError | null;
  #persistedCursor: number;
  #unsaved = {
    delivered: 0,
    expired: 0,
    deadLetters: [] as NewDeadLetter[],
    lastDelivered: false,
    failure: false,
  };
  #flushTimer: NodeJS.Timeout | undefined;
  #lastFlushAtMillis = 0;

  #started = false;
  #stopping = false;
  #closed = false;
  #paused = false;
  #loops: Promise<void>[] = [];
  #unsubscribe: (() => void) | undefined;
  #stopPromise: Promise<void> | undefined;

  constructor(options: StreamRunnerOptions) {
    this.#stream = options.stream;
    this.#delivery = options.stream.delivery;
    this.#destination = options.destination;
    this.#log = options.log;
    this.#store = options.store;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#onPaused = options.onPaused;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#flushMillis = options.progressFlushMillis ?? DEFAULT_PROGRESS_FLUSH_MILLIS;
    this.#abortGraceMillis = options.abortGraceMillis ?? DEFAULT_ABORT_GRACE_MILLIS;
    this.#filter = compileFilter(options.stream);
    this.#backoff = {
      initialMillis: this.#delivery.retryInitialMillis,
      maxMillis: this.#delivery.retryMaxMillis,
    };

    const d = this.#destination;
    this.#maxBatchEvents = Math.max(1, Math.min(this.#delivery.batchMaxEvents, d.maxBatchEvents));
    this.#maxBatchBytes = d.maxBatchBytes ?? Number.POSITIVE_INFINITY;
    this.#maxEventBytes = Math.min(d.maxEventBytes ?? Number.POSITIVE_INFINITY, this.#maxBatchBytes);
    const concurrency = Math.max(1, Math.floor(this.#delivery.concurrency));
    this.#maxBufferedEvents = Math.max(100, this.#maxBatchEvents * concurrency * 2);

    const state = this.#store.getState(this.#stream.id);
    if (state === undefined) throw new Error(`stream ${this.#stream.id} has no state row`);
    this.#tracker = new CursorTracker(state.cursor);
    this.#persistedCursor = state.cursor;
    this.#deliveredTotal = state.deliveredTotal;
    this.#deadLetteredTotal = state.deadLetteredTotal;
    this.#expiredTotal = state.expiredTotal;
    this.#lastDeliveredAtMillis = state.lastDeliveredAtMillis;
    this.#consecutiveFailures = state.consecutiveFailures;
    this.#failingSinceMillis = state.failingSinceMillis;
    this.#lastError = state.lastError;
    this.#paused = state.pausedAtMillis !== null;

    this.#lanes = Array.from({ length: concurrency }, (_, index) => ({
      index,
      queue: [],
      queuedBytes: 0,
      wake: new Wakeup(),
      sleep: new Wakeup(),
    }));
  }

  get streamId(): string {
    return this.#stream.id;
  }

  /** True once the runner stopped (by `stop` or by the failure policy). */
  get stopped(): boolean {
    return this.#closed;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Starts the reader and the lanes. A runner starts once; a paused stream's runner does not start. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#paused) {
      this.#closed = true;
      return;
    }
    this.#metrics.initStream(this.#stream.id);
    if (this.#tracker.readSeq > this.#log.lastSeq()) {
      // Only a replaced or truncated event log does this; events up to the cursor would be skipped.
      this.#logger.warn(
        { cursor: this.#tracker.readSeq, lastSeq: this.#log.lastSeq() },
        'the stream cursor is ahead of the event log; was the log replaced?',
      );
    }
    this.#unsubscribe = this.#log.onAppend(() => this.#readerWake.notify());
    this.#loops = [this.#guard('reader', () => this.#runReader())];
    for (const lane of this.#lanes)
      this.#loops.push(this.#guard(`lane ${lane.index}`, () => this.#runLane(lane)));
  }

  /**
   * Stops reading, lets in-flight sends finish for up to `deadlineMillis`, then aborts them. Events
   * not acknowledged stay after the cursor and are sent again by the next runner (at least once).
   * Progress is written before it resolves. Idempotent.
   */
  stop(deadlineMillis: number): Promise<void> {
    this.#stopPromise ??= this.#shutdown(deadlineMillis);
    return this.#stopPromise;
  }

  snapshot(): RunnerSnapshot {
    const first = this.#tracker.firstPending();
    // Totals: what is stored (redelivered dead letters add to it from outside the runner) plus
    // what this runner has not written yet.
    const stored = this.#closed ? undefined : this.#store.getState(this.#stream.id);
    const u = this.#unsaved;
    const unread = Math.max(0, this.#log.lastSeq() - this.#tracker.readSeq);
    return {
      status: this.#paused ? 'PAUSED' : this.#consecutiveFailures > 0 ? 'DEGRADED' : 'ACTIVE',
      cursor: this.#tracker.acknowledged(),
      lagEvents: this.#tracker.pendingCount + unread,
      oldestOwedIngestedAtMillis: first === undefined ? undefined : this.#owedIngestedAt.get(first),
      deliveredTotal: stored === undefined ? this.#deliveredTotal : stored.deliveredTotal + u.delivered,
      deadLetteredTotal:
        stored === undefined ? this.#deadLetteredTotal : stored.deadLetteredTotal + u.deadLetters.length,
      expiredTotal: stored === undefined ? this.#expiredTotal : stored.expiredTotal + u.expired,
      consecutiveFailures: this.#consecutiveFailures,
      lastDeliveredAtMillis: this.#lastDeliveredAtMillis,
      lastError: this.#lastError,
    };
  }

  // ---- reader ----

  async #runReader(): Promise<void> {
    while (!this.#stopping) {
      if (this.#tracker.pendingCount >= this.#maxBufferedEvents) {
        if (!this.#readerBlocked) {
          this.#readerBlocked = true;
          // Lanes waiting for a full batch send what they have: no more is coming until they do.
          for (const lane of this.#lanes) lane.wake.notify();
        }
        await this.#capacity.wait();
        continue;
      }
      this.#readerBlocked = false;
      this.#countRetentionGap(undefined);
      const limit = Math.min(MAX_READ_EVENTS, this.#maxBufferedEvents - this.#tracker.pendingCount);
      let events: readonly StoredEvent[];
      try {
        events = await this.#log.readAfter(this.#tracker.readSeq, limit);
      } catch (err: unknown) {
        if (this.#stopping) return;
        this.#logger.error({ err }, 'reading the event log failed; retrying');
        await this.#readerWake.wait(READ_ERROR_DELAY_MILLIS);
        continue;
      }
      if (this.#stopping) return;
      if (events.length === 0) {
        // No await between this check and the wait: an append after the check notifies the waiter.
        if (this.#log.lastSeq() <= this.#tracker.readSeq) await this.#readerWake.wait();
        continue;
      }
      this.#countRetentionGap(events[0]?.seq);
      this.#enqueue(events);
      // The embedded log answers synchronously (a resolved promise): without a macrotask turn here a
      // backlog would be read, parsed and sent in one long run of microtasks, starving ingest.
      await yieldToEventLoop();
    }
  }

  /**
   * Counts events retention removed before they were read. Without `nextReadSeq`: the gap between
   * `readSeq` and the log's first seq. With it (the first seq a read returned): the gap before it,
   * when retention is what made it (the log's first seq moved past `readSeq`).
   */
  #countRetentionGap(nextReadSeq: number | undefined): void {
    const read = this.#tracker.readSeq;
    const first = this.#log.firstSeq();
    if (first <= read + 1) return;
    const upTo = nextReadSeq === undefined ? first : Math.min(first, nextReadSeq);
    const expired = upTo - read - 1;
    if (expired <= 0) return;
    this.#tracker.skipTo(upTo - 1);
    this.#expiredTotal += expired;
    this.#unsaved.expired += expired;
    this.#metrics.expired(this.#stream.id, expired);
    this.#logger.warn(
      { expired, fromSeq: read + 1, toSeq: upTo - 1 },
      'retention removed events before the stream delivered them',
    );
    this.#scheduleFlush();
  }

  #enqueue(events: readonly StoredEvent[]): void {
    const now = this.#now();
    const touched = new Set<Lane>();
    for (const stored of events) {
      if (stored.seq <= this.#tracker.readSeq) continue;
      if (!this.#filter(stored)) {
        this.#tracker.skipTo(stored.seq);
        continue;
      }
      const converted = toOutboundEvent(stored, this.#stream.transforms);
      if (!converted.ok) {
        // Cannot happen for events that ingest validated; kept so that nothing is dropped unseen.
        this.#tracker.skipTo(stored.seq);
        this.#metrics.error(this.#stream.id, converted.error.code);
        this.#recordDeadLetter(unconvertible(stored), converted.error, 0);
        continue;
      }
      const event = converted.event;
      this.#tracker.add(stored.seq);
      this.#owedIngestedAt.set(stored.seq, stored.ingestedAtMillis);
      const lane = this.#lanes[laneOf(event.executionId, this.#lanes.length)] as Lane;
      const bytes = Buffer.byteLength(event.json, 'utf8');
      lane.queue.push({
        event,
        bytes,
        ingestedAtMillis: stored.ingestedAtMillis,
        enqueuedAtMillis: now,
        attempts: 0,
      });
      lane.queuedBytes += bytes;
      touched.add(lane);
    }
    for (const lane of touched) lane.wake.notify();
    this.#scheduleFlush();
  }

  // ---- lanes ----

  async #runLane(lane: Lane): Promise<void> {
    while (!this.#stopping) {
      if (lane.queue.length === 0) {
        await lane.wake.wait();
        continue;
      }
      if (!this.#batchReady(lane)) {
        const head = lane.queue[0] as Entry;
        const waitMillis = head.enqueuedAtMillis + this.#delivery.batchTimeoutMillis - this.#now();
        if (waitMillis > 0) {
          await lane.wake.wait(waitMillis);
          continue;
        }
      }
      const batch = this.#takeBatch(lane);
      if (batch.length > 0) await this.#deliver(lane, batch);
      // A destination that answers at once (a file, a local buffer) must not hold the loop either.
      await yieldToEventLoop();
    }
  }

  #batchReady(lane: Lane): boolean {
    return (
      this.#readerBlocked ||
      lane.queue.length >= this.#maxBatchEvents ||
      lane.queuedBytes >= this.#maxBatchBytes ||
      this.#delivery.batchTimeoutMillis <= 0
    );
  }

  /** The next batch of the lane, in order; events too large to ever send are dead-lettered here. */
  #takeBatch(lane: Lane): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    let taken = 0;
    for (const entry of lane.queue) {
      if (batch.length >= this.#maxBatchEvents) break;
      if (entry.bytes > this.#maxEventBytes) {
        taken++;
        this.#metrics.error(this.#stream.id, 'EVENT_TOO_LARGE');
        this.#recordDeadLetter(
          entry.event,
          {
            code: 'EVENT_TOO_LARGE',
            message: `the event is ${entry.bytes} bytes of JSON; the destination takes at most ${this.#maxEventBytes}`,
          },
          0,
        );
        continue;
      }
      if (batch.length > 0 && bytes + entry.bytes > this.#maxBatchBytes) break;
      taken++;
      bytes += entry.bytes;
      batch.push(entry);
    }
    const removed = lane.queue.splice(0, taken);
    for (const entry of removed) lane.queuedBytes -= entry.bytes;
    return batch;
  }

  /**
   * Sends `initial` until every event in it is acknowledged or dead-lettered, or the runner stops.
   * `work` holds what is left, in order: a rejected batch is replaced by its two halves.
   */
  async #deliver(lane: Lane, initial: Entry[]): Promise<void> {
    const work: Entry[][] = [initial];
    let failures = 0;
    while (work.length > 0 && !this.#stopping) {
      const current = work[0] as Entry[];
      const result = await this.#send(current);
      if (this.#closed) return;
      // A send cut short by stop() says nothing about the destination: no failure is recorded,
      // and the events stay owed for the next runner.
      if (this.#stopping && (result.outcome === 'retryable' || result.outcome === 'fatal')) return;
      switch (result.outcome) {
        case 'delivered':
          work.shift();
          failures = 0;
          this.#recordDelivered(current, result.bytes);
          break;
        case 'rejected':
          work.shift();
          this.#metrics.error(this.#stream.id, result.error.code);
          if (current.length === 1) {
            this.#recordDeadLetter((current[0] as Entry).event, result.error, (current[0] as Entry).attempts);
          } else {
            const middle = Math.ceil(current.length / 2);
            work.unshift(current.slice(0, middle), current.slice(middle));
          }
          break;
        case 'retryable':
          failures++;
          this.#recordFailure(result.error, 1, false);
          await this.#sleep(lane, nextDelayMillis(result, failures, this.#backoff, this.#random));
          break;
        case 'fatal':
          failures++;
          this.#recordFailure(result.error, 1, true);
          if (this.#shouldPause()) {
            this.#pause();
            return;
          }
          await this.#sleep(lane, nextDelayMillis(result, failures, this.#backoff, this.#random));
          break;
        case 'partial': {
          const retry: Entry[] = [];
          const delivered: Entry[] = [];
          let retryError: DeliveryError | undefined;
          current.forEach((entry, i) => {
            const item = result.items[i];
            if (item === undefined) return;
            if (item.outcome === 'delivered') delivered.push(entry);
            else if (item.outcome === 'rejected') {
              this.#metrics.error(this.#stream.id, item.error.code);
              this.#recordDeadLetter(entry.event, item.error, entry.attempts);
            } else {
              retry.push(entry);
              retryError = item.error;
            }
          });
          work.shift();
          if (delivered.length > 0) this.#recordDelivered(delivered, result.bytes);
          if (retry.length > 0 && retryError !== undefined) {
            work.unshift(retry);
            failures++;
            this.#recordFailure(retryError, retry.length, false);
            await this.#sleep(lane, nextDelayMillis(result, failures, this.#backoff, this.#random));
          } else {
            failures = 0;
          }
          break;
        }
      }
    }
  }

  async #sleep(lane: Lane, millis: number): Promise<void> {
    if (this.#stopping || millis <= 0) return;
    await lane.sleep.wait(millis);
  }

  /**
   * One `destination.send`, bounded by requestTimeoutMillis. Never throws: a destination that throws
   * is classified like a network error, and a malformed result is fatal (a destination bug that an
   * operator must see).
   */
  async #send(batch: readonly Entry[]): Promise<SendResult> {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    for (const entry of batch) entry.attempts++;
    const timeoutMillis = this.#delivery.requestTimeoutMillis;
    const timer = setTimeout(() => controller.abort(timeoutReason(timeoutMillis)), timeoutMillis);
    timer.unref();
    const started = performance.now();
    try {
      const result = await settleWithin(
        this.#destination.send(
          batch.map((entry) => entry.event),
          controller.signal,
        ),
        controller.signal,
        this.#abortGraceMillis,
      );
      return checkResult(result, batch.length);
    } catch (err: unknown) {
      return classifyNetworkError(err);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
      this.#metrics.observeSend(this.#stream.id, (performance.now() - started) / 1000);
    }
  }

  // ---- outcomes ----

  #recordDelivered(entries: readonly Entry[], bytes: number): void {
    for (const entry of entries) this.#complete(entry.event.seq);
    const now = this.#now();
    this.#deliveredTotal += entries.length;
    this.#unsaved.delivered += entries.length;
    this.#lastDeliveredAtMillis = now;
    this.#unsaved.lastDelivered = true;
    this.#metrics.delivered(this.#stream.id, entries.length, bytes);
    if (this.#consecutiveFailures > 0) {
      this.#logger.info(
        { failures: this.#consecutiveFailures },
        'the stream destination accepts events again',
      );
      this.#consecutiveFailures = 0;
      this.#failingSinceMillis = null;
      this.#unsaved.failure = true;
    }
    this.#scheduleFlush();
  }

  #recordDeadLetter(event: Omit<OutboundEvent, 'event'>, error: DeliveryError, attempts: number): void {
    this.#complete(event.seq);
    this.#unsaved.deadLetters.push({
      event: {
        seq: event.seq,
        eventType: event.eventType,
        orgId: event.orgId,
        flowId: event.flowId,
        executionId: event.executionId,
        idempotencyKey: event.idempotencyKey,
        timestamp: event.timestamp,
        json: event.json,
      },
      error,
      attempts,
      failedAtMillis: this.#now(),
    });
    this.#deadLetteredTotal++;
    this.#metrics.deadLettered(this.#stream.id, 1);
    this.#logger.warn(
      { seq: event.seq, idempotencyKey: event.idempotencyKey, code: error.code, status: error.status },
      'the event was dead-lettered',
    );
    this.#scheduleFlush();
  }

  #recordFailure(error: DeliveryError, count: number, fatal: boolean): void {
    const now = this.#now();
    this.#metrics.error(this.#stream.id, error.code, count);
    this.#consecutiveFailures++;
    this.#failingSinceMillis ??= now;
    this.#lastError = {
      code: error.code,
      message: error.message,
      ...(error.status === undefined ? {} : { status: error.status }),
      atMillis: now,
    };
    this.#unsaved.failure = true;
    const fields = { code: error.code, status: error.status, failures: this.#consecutiveFailures, fatal };
    if (this.#consecutiveFailures === 1 || fatal)
      this.#logger.warn(fields, 'sending to the stream destination failed');
    else this.#logger.debug(fields, 'sending to the stream destination failed again');
    this.#scheduleFlush();
  }

  #complete(seq: number): void {
    this.#tracker.complete(seq);
    this.#owedIngestedAt.delete(seq);
    this.#capacity.notify();
  }

  #shouldPause(): boolean {
    const pauseAfter = this.#delivery.pauseAfterMillis;
    return (
      pauseAfter > 0 &&
      this.#failingSinceMillis !== null &&
      this.#now() - this.#failingSinceMillis >= pauseAfter
    );
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#logger.error(
      { code: this.#lastError?.code, failingSinceMillis: this.#failingSinceMillis },
      'the stream destination refused the stream for too long; the stream is paused',
    );
    // The pause is written at once: a restart must not resume a paused stream.
    try {
      this.#store.setPaused(this.#stream.id, this.#now());
    } catch (err: unknown) {
      this.#logger.error({ err }, 'recording the pause failed');
    }
    void this.stop(0).then(() => this.#onPaused?.());
  }

  // ---- progress ----

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#closed) return;
    const due = Math.max(0, this.#lastFlushAtMillis + this.#flushMillis - this.#now());
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, due);
    this.#flushTimer.unref();
  }

  /** Writes the cursor, counters, dead letters and failure streak in one transaction. */
  #flush(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    const cursor = this.#tracker.acknowledged();
    const u = this.#unsaved;
    const moved = cursor > this.#persistedCursor;
    if (!moved && u.delivered === 0 && u.expired === 0 && u.deadLetters.length === 0 && !u.failure) return;
    const deadLetters = u.deadLetters;
    try {
      this.#store.saveProgress(this.#stream.id, {
        ...(moved ? { cursor } : {}),
        delivered: u.delivered,
        expired: u.expired,
        deadLetters,
        ...(u.lastDelivered && this.#lastDeliveredAtMillis !== null
          ? { lastDeliveredAtMillis: this.#lastDeliveredAtMillis }
          : {}),
        ...(u.failure
          ? {
              failure: {
                consecutiveFailures: this.#consecutiveFailures,
                failingSinceMillis: this.#failingSinceMillis,
                lastError: this.#lastError,
              },
            }
          : {}),
      });
    } catch (err: unknown) {
      // Nothing is lost: the same progress is written by the next flush.
      this.#logger.error({ err }, 'writing the stream progress failed; will retry');
      this.#lastFlushAtMillis = this.#now();
      this.#scheduleFlush();
      return;
    }
    if (moved) this.#persistedCursor = cursor;
    this.#unsaved = { delivered: 0, expired: 0, deadLetters: [], lastDelivered: false, failure: false };
    this.#lastFlushAtMillis = this.#now();
  }

  // ---- stopping ----

  async #shutdown(deadlineMillis: number): Promise<void> {
    this.#stopping = true;
    this.#readerWake.close();
    this.#capacity.close();
    for (const lane of this.#lanes) {
      lane.wake.close();
      lane.sleep.close();
    }
    const loops = Promise.all(this.#loops);
    if (!(await settlesWithin(loops, deadlineMillis))) {
      for (const controller of this.#inFlight) controller.abort(stopReason());
      if (!(await settlesWithin(loops, this.#abortGraceMillis + 100))) {
        this.#logger.warn('a send did not end after it was aborted; the runner stops without it');
      }
    }
    this.#unsubscribe?.();
    this.#flush();
    this.#closed = true;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
  }

  /** Keeps a loop alive through unexpected errors (a bug must not silently stop a stream). */
  async #guard(name: string, loop: () => Promise<void>): Promise<void> {
    while (!this.#stopping) {
      try {
        await loop();
        return;
      } catch (err: unknown) {
        this.#logger.error({ err, loop: name }, 'a stream runner loop failed; restarting it');
        await this.#readerWake.wait(READ_ERROR_DELAY_MILLIS);
      }
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** FNV-1a of the execution id: a stable, even spread of executions over lanes. */
export function laneOf(executionId: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < executionId.length; i++) {
    hash ^= executionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}

function unconvertible(stored: StoredEvent): Omit<OutboundEvent, 'event'> {
  return {
    seq: stored.seq,
    eventType: stored.eventType,
    orgId: stored.orgId,
    flowId: stored.flowId,
    executionId: stored.executionId,
    idempotencyKey: stored.idempotencyKey,
    timestamp: new Date(stored.ingestedAtMillis).toISOString(),
    json: stored.json,
  };
}

function timeoutReason(timeoutMillis: number): Error {
  const err = new Error(`the destination did not answer within ${timeoutMillis} ms`);
  err.name = 'TimeoutError';
  return err;
}

function stopReason(): Error {
  const err = new Error('the stream runner is stopping');
  err.name = 'AbortError';
  return err;
}

/** `promise`'s value; or, when `signal` aborted and `promise` is still pending `graceMillis` later, a TIMEOUT. */
function settleWithin(
  promise: Promise<SendResult>,
  signal: AbortSignal,
  graceMillis: number,
): Promise<SendResult> {
  return new Promise<SendResult>((resolve, reject) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      graceTimer = setTimeout(() => {
        resolve({
          outcome: 'retryable',
          error: { code: 'TIMEOUT', message: 'the destination ignored the abort' },
        });
      }, graceMillis);
      graceTimer.unref();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      if (graceTimer !== undefined) clearTimeout(graceTimer);
    };
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}

/**
 * Whether `promise` settles within `millis`. The timer is deliberately not unref'd: a shutdown that
 * waits for in-flight sends must keep the process alive until its deadline.
 */
async function settlesWithin(promise: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, millis));
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const OUTCOMES = new Set(['delivered', 'retryable', 'rejected', 'fatal', 'partial']);

function checkResult(result: SendResult, batchLength: number): SendResult {
  const shape = result as { outcome?: unknown; items?: unknown } | null | undefined;
  if (shape === null || typeof shape !== 'object' || !OUTCOMES.has(String(shape.outcome))) {
    return {
      outcome: 'fatal',
      error: { code: 'INVALID_RESULT', message: 'the destination returned a malformed result' },
    };
  }
  if (result.outcome === 'partial' && (!Array.isArray(shape.items) || result.items.length !== batchLength)) {
    const count = Array.isArray(shape.items) ? shape.items.length : 'no';
    return {
      outcome: 'fatal',
      error: {
        code: 'INVALID_RESULT',
        message: `the destination answered ${count} item results for ${batchLength} events`,
      },
    };
  }
  return result;
}
