import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ulid } from 'ulid';
import { classifyNetworkError } from '../destinations/classify.js';
import type {
  DeliveryError,
  Destination,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from '../destinations/destination.js';
import type { EventLog } from '../log/event-log.js';
import type { NetworkPolicy } from '../net/network-policy.js';
import { type StreamLagSample, StreamMetrics } from './metrics.js';
import { redactStream, restoreRedacted } from './redact.js';
import type { RandomSource } from './retry-policy.js';
import { StreamRunner } from './runner.js';
import type { StreamDefinition, StreamHealth } from './stream.js';
import { StreamError, streamNotFound } from './stream-errors.js';
import { checkStreamInput, type StreamInput, toDefinition } from './stream-input.js';
import {
  type DeadLetter,
  type DeadLetterPage,
  type LastError,
  type SecretSealer,
  StreamStore,
} from './stream-store.js';
import { applyTransforms } from './transforms.js';

/**
 * All log streams of the process: their definitions and state (the `StreamStore`), one
 * `StreamRunner` per active stream, and the operations of the log streams API (SPEC §3).
 *
 * - A new stream's cursor starts at the log's current end: it receives events ingested after it
 *   was created (`replay` delivers older ones).
 * - Operations on one stream are serialized; operations on different streams are independent.
 *   Changing a running stream (update, replay, deactivate, delete) stops its runner gracefully
 *   (in-flight sends may finish for `restartDeadlineMillis`) and starts a new one from the cursor.
 * - Expected problems throw `StreamError` with a stable code (stream-errors.ts). Settings are never
 *   logged: they hold secrets.
 */

export interface StreamManagerOptions {
  /** The data directory; the state is `<directory>/state.db`. */
  readonly directory: string;
  readonly log: EventLog;
  /** The destination definition of a stream `type`, or undefined when the type is unknown. */
  readonly resolveDestination: (type: string) => DestinationDefinition | undefined;
  readonly network: NetworkPolicy;
  readonly logger: Logger;
  /** Where the stream metrics are registered (the `/metrics` registry). */
  readonly registry: Registry;
  /** The event `test(id)` sends (before the stream's transforms). */
  readonly syntheticEvent: () => OutboundEvent;
  /** Streams declared in the configuration file: created or replaced at `start()`, ids stable. */
  readonly configStreams?: readonly StreamInput[];
  /** Seals stream definitions at rest (they hold secret settings). Default: stored as plain JSON. */
  readonly sealer?: SecretSealer;
  /** How long a change to a running stream waits for its in-flight sends. Default 5000 ms. */
  readonly restartDeadlineMillis?: number;
  readonly now?: () => number;
  readonly random?: RandomSource;
  /** Id for streams created without one. Default: a ULID. */
  readonly newId?: () => string;
  /** Passed to every runner (tests shorten them). */
  readonly runner?: { readonly progressFlushMillis?: number; readonly abortGraceMillis?: number };
}

export interface ReplayResult {
  /** The cursor before the replay. */
  readonly previousCursor: number;
  /** The cursor now: delivery continues after it. */
  readonly cursor: number;
}

export type RedeliveryOutcome = 'delivered' | 'retryable' | 'rejected' | 'fatal' | 'not_attempted';

export interface RedeliveryReport {
  readonly delivered: number;
  /** Dead letters that are still there (failed again, or not attempted). */
  readonly remaining: number;
  readonly results: readonly {
    readonly id: number;
    readonly seq: number;
    readonly outcome: RedeliveryOutcome;
    readonly error?: DeliveryError;
  }[];
}

/** Default and largest page of `deadLetters`. */
export const DEFAULT_DEAD_LETTER_PAGE = 100;
export const MAX_DEAD_LETTER_PAGE = 1000;

interface Running {
  readonly runner: StreamRunner;
  readonly destination: Destination;
}

export class StreamManager {
  readonly #options: StreamManagerOptions;
  readonly #store: StreamStore;
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #metrics: StreamMetrics;
  readonly #now: () => number;
  readonly #restartDeadlineMillis: number;
  readonly #running = new Map<string, Running>();
  /** Why a stream's runner could not start (its destination's `create` threw), for health. */
  readonly #startErrors = new Map<string, LastError>();
  readonly #locks = new Map<string, Promise<unknown>>();
  #started = false;
  #stopped = false;
  #stopPromise: Promise<void> | undefined;

  constructor(options: StreamManagerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#restartDeadlineMillis = options.restartDeadlineMillis ?? 5000;
    this.#store = StreamStore.open({
      directory: options.directory,
      ...(options.sealer === undefined ? {} : { sealer: options.sealer }),
    });
    this.#metrics = new StreamMetrics(options.registry);
    this.#metrics.setLagSource(() => this.#lagSamples());
  }

  /** Upserts the config-declared streams, then starts a runner for every active, unpaused stream. */
  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#started) return;
    this.#started = true;
    for (const input of this.#options.configStreams ?? []) {
      const id = input.id;
      if (id === undefined) throw new StreamError('FS_STREAM_INVALID', 'a configured stream needs an id');
      const existing = this.#store.getStream(id);
      await this.#save(input, existing, id);
    }
    for (const stream of this.#store.listStreams()) {
      if (stream.status === 'ACTIVE') this.#startRunner(stream, undefined);
    }
  }

  list(): StreamDefinition[] {
    this.#assertOpen();
    return this.#store.listStreams();
  }

  get(id: string): StreamDefinition | undefined {
    this.#assertOpen();
    return this.#store.getStream(id);
  }

  /** The stream as responses show it: secret settings and the PII key replaced by `********`. */
  redacted(stream: StreamDefinition): StreamDefinition {
    return redactStream(stream, this.#options.resolveDestination(stream.type)?.secretSettings ?? []);
  }

  /** Creates a stream from a stream object (`StreamInput`); `id` is generated when absent. */
  create(input: unknown): Promise<StreamDefinition> {
    this.#assertOpen();
    const id = idOf(input) ?? (this.#options.newId ?? ulid)();
    return this.#withLock(id, async () => {
      if (this.#store.getStream(id) !== undefined) {
        throw new StreamError('FS_STREAM_EXISTS', `a log stream with the id "${id}" already exists`);
      }
      return this.#save(input, undefined, id);
    });
  }

  /**
   * Replaces a stream's definition (PUT). Secret values sent back as `********` keep their stored
   * value. The cursor, counters and dead letters are kept.
   */
  update(id: string, input: unknown): Promise<StreamDefinition> {
    this.#assertOpen();
    return this.#withLock(id, async () => {
      const existing = this.#require(id);
      const given = idOf(input);
      if (given !== undefined && given !== id) {
        throw new StreamError('FS_STREAM_INVALID', 'the id of a log stream cannot be changed', [
          { path: '/id', message: 'id differs from the stream being updated' },
        ]);
      }
      return this.#save(input, existing, id);
    });
  }

  /** Stops the stream's runner and removes its definition, state, dead letters and metric series. */
  delete(id: string): Promise<void> {
    this.#assertOpen();
    return this.#withLock(id, async () => {
      this.#require(id);
      await this.#stopRunner(id, this.#restartDeadlineMillis);
      this.#store.deleteStream(id);
      this.#startErrors.delete(id);
      this.#metrics.removeStream(id);
      this.#logger.info({ stream: id }, 'log stream deleted');
    });
  }

  /** Sets the stream ACTIVE; a PAUSED stream resumes from its cursor with a fresh failure streak. */
  activate(id: string): Promise<StreamDefinition> {
    this.#assertOpen();
    return this.#withLock(id, async () => {
      const existing = this.#require(id);
      const state = this.#store.getState(id);
      const wasPaused = state?.pausedAtMillis !== null && state?.pausedAtMillis !== undefined;
      if (existing.status === 'ACTIVE' && !wasPaused && this.#running.has(id)) return existing;
      const stream: StreamDefinition = { ...existing, status: 'ACTIVE', lastUpdated: this.#iso() };
      await this.#stopRunner(id, this.#restartDeadlineMillis);
      this.#store.putStream(stream, this.#log.lastSeq());
      if (wasPaused) {
        this.#store.setPaused(id, null);
        this.#store.clearFailures(id);
      }
      this.#startRunner(stream, undefined);
      this.#logger.info({ stream: id, resumed: wasPaused }, 'log stream activated');
      return stream;
    });
  }

  /** Sets the stream INACTIVE: its runner stops; the cursor stays where it is. */
  deactivate(id: string): Promise<StreamDefinition> {
    this.#assertOpen();
    return this.#withLock(id, async () => {
      const existing = this.#require(id);
      await this.#stopRunner(id, this.#restartDeadlineMillis);
      if (existing.status === 'INACTIVE') return existing;
      const stream: StreamDefinition = { ...existing, status: 'INACTIVE', lastUpdated: this.#iso() };
      this.#store.putStream(stream, this.#log.lastSeq());
      this.#logger.info({ stream: id }, 'log stream deactivated');
      return stream;
    });
  }

  /**
   * The stream's health (SPEC §3). `lagEvents` counts the log's events after the cursor that the
   * runner has not yet read, plus those it read and still owes: exact for what is read, an upper
   * bound for the rest (events the filter will drop are included until they are read).
   */
  async health(id: string): Promise<StreamHealth> {
    this.#assertOpen();
    const stream = this.#require(id);
    const running = this.#running.get(id);
    if (running !== undefined && !running.runner.stopped) {
      const s = running.runner.snapshot();
      return {
        status: stream.status === 'INACTIVE' ? 'INACTIVE' : s.status,
        lagEvents: s.lagEvents,
        lagSeconds: await this.#lagSeconds(s.cursor, s.lagEvents, s.oldestOwedIngestedAtMillis),
        deliveredTotal: s.deliveredTotal,
        deadLetteredTotal: s.deadLetteredTotal,
        expiredTotal: s.expiredTotal,
        consecutiveFailures: s.consecutiveFailures,
        lastDeliveredAt: isoOrNull(s.lastDeliveredAtMillis),
        lastError: lastErrorOut(s.lastError),
        cursor: s.cursor,
      };
    }
    const state = this.#store.getState(id);
    if (state === undefined) throw streamNotFound(id);
    const startError = this.#startErrors.get(id);
    const lagEvents = Math.max(0, this.#log.lastSeq() - state.cursor);
    const status =
      stream.status === 'INACTIVE'
        ? 'INACTIVE'
        : state.pausedAtMillis !== null
          ? 'PAUSED'
          : state.consecutiveFailures > 0 || startError !== undefined
            ? 'DEGRADED'
            : 'ACTIVE';
    return {
      status,
      lagEvents,
      lagSeconds: await this.#lagSeconds(state.cursor, lagEvents, undefined),
      deliveredTotal: state.deliveredTotal,
      deadLetteredTotal: state.deadLetteredTotal,
      expiredTotal: state.expiredTotal,
      consecutiveFailures: state.consecutiveFailures,
      lastDeliveredAt: isoOrNull(state.lastDeliveredAtMillis),
      lastError: lastErrorOut(startError ?? state.lastError),
      cursor: state.cursor,
    };
  }

  /**
   * Sends one synthetic event (the stream's transforms applied) straight to the destination, not
   * through the log, and returns the destination's answer. Works on inactive streams too.
   */
  async test(id: string): Promise<SendResult> {
    this.#assertOpen();
    const stream = this.#require(id);
    const event = applyTransforms(this.#options.syntheticEvent(), stream.transforms);
    return this.#withDestination(stream, (destination) => this.#sendOnce(stream, destination, [event]));
  }

  /**
   * Re-delivers from `fromMillis` (ingest time: the log's clock, not the events' own `timestamp`):
   * the cursor moves back to just before the first event ingested at or after it. Replay only moves
   * the cursor back; a time after the cursor leaves it where it is, so nothing is skipped.
   */
  replay(id: string, fromMillis: number): Promise<ReplayResult> {
    this.#assertOpen();
    return this.#withLock(id, async () => {
      const stream = this.#require(id);
      const wasRunning = this.#running.has(id);
      await this.#stopRunner(id, this.#restartDeadlineMillis);
      const state = this.#store.getState(id);
      if (state === undefined) throw streamNotFound(id);
      const target = this.#log.seqAtOrAfter(fromMillis) - 1;
      const cursor = Math.min(state.cursor, target);
      this.#store.setCursor(id, cursor);
      this.#logger.info(
        { stream: id, fromMillis, previousCursor: state.cursor, cursor },
        'log stream replay',
      );
      if (wasRunning || (stream.status === 'ACTIVE' && state.pausedAtMillis === null)) {
        this.#startRunner(stream, undefined);
      }
      return { previousCursor: state.cursor, cursor };
    });
  }

  /** A page of the stream's dead letters, oldest first. `limit` defaults to 100, at most 1000. */
  deadLetters(
    id: string,
    options: { readonly limit?: number; readonly after?: number } = {},
  ): DeadLetterPage {
    this.#assertOpen();
    this.#require(id);
    const limit = Math.min(
      MAX_DEAD_LETTER_PAGE,
      Math.max(1, Math.floor(options.limit ?? DEFAULT_DEAD_LETTER_PAGE)),
    );
    return this.#store.listDeadLetters(id, {
      limit,
      ...(options.after === undefined ? {} : { after: options.after }),
    });
  }

  /**
   * Sends dead letters (these ids, or all) to the destination again, one at a time, oldest first.
   * A delivered one is removed (and counted as delivered); a rejected one stays with the new answer
   * and one more attempt. A retryable or fatal answer ends the run: the destination is not taking
   * events, so the rest stay untouched (`not_attempted`).
   */
  async redeliverDeadLetters(id: string, ids?: readonly number[]): Promise<RedeliveryReport> {
    this.#assertOpen();
    const stream = this.#require(id);
    const letters = this.#store.getDeadLetters(id, ids);
    if (letters.length === 0) return { delivered: 0, remaining: 0, results: [] };
    return this.#withDestination(stream, async (destination) => {
      const results: RedeliveryReport['results'][number][] = [];
      let delivered = 0;
      let halted = false;
      for (const letter of letters) {
        if (halted || this.#stopped || this.#store.getStream(id) === undefined) {
          results.push({ id: letter.id, seq: letter.seq, outcome: 'not_attempted' });
          continue;
        }
        const event = fromDeadLetter(letter);
        const outcome = singleOutcome(await this.#sendOnce(stream, destination, [event]));
        if (this.#stopped) {
          results.push({ id: letter.id, seq: letter.seq, outcome: 'not_attempted' });
          continue;
        }
        if (outcome.outcome === 'delivered') {
          this.#store.deadLetterDelivered(id, letter.id, this.#now());
          this.#metrics.delivered(id, 1, Buffer.byteLength(letter.json, 'utf8'));
          delivered++;
          results.push({ id: letter.id, seq: letter.seq, outcome: 'delivered' });
        } else {
          this.#store.deadLetterFailedAgain(id, letter.id, outcome.error, this.#now());
          this.#metrics.error(id, outcome.error.code);
          results.push({ id: letter.id, seq: letter.seq, outcome: outcome.outcome, error: outcome.error });
          if (outcome.outcome !== 'rejected') halted = true;
        }
      }
      this.#logger.info({ stream: id, delivered, attempted: results.length }, 'dead letters redelivered');
      return { delivered, remaining: letters.length - delivered, results };
    });
  }

  /**
   * Stops every runner (in-flight sends get `deadlineMillis`, then are aborted and will be re-sent
   * after restart), closes the destinations and the state store. Idempotent.
   */
  stop(deadlineMillis: number): Promise<void> {
    this.#stopPromise ??= this.#shutdown(deadlineMillis);
    return this.#stopPromise;
  }

  // ---- internals ----

  async #shutdown(deadlineMillis: number): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#locks.values()]);
    const ids = [...this.#running.keys()];
    await Promise.all(ids.map((id) => this.#stopRunner(id, deadlineMillis)));
    this.#store.close();
  }

  /** Validates, checks the network policy, saves, and (re)starts the runner as the status says. */
  async #save(raw: unknown, existing: StreamDefinition | undefined, id: string): Promise<StreamDefinition> {
    let input = raw;
    if (isObject(raw)) {
      // A stream object read from the API may be written back whole: its read-only fields are ignored.
      const { created: _created, lastUpdated: _lastUpdated, ...writable } = raw;
      input = existing === undefined ? writable : this.#restoreSecrets(writable, existing);
    }
    const checked = checkStreamInput(input, this.#options.resolveDestination);
    const now = this.#iso();
    const stream = toDefinition(checked.input, {
      id,
      created: existing?.created ?? now,
      lastUpdated: now,
    });
    await this.#checkTargets(stream, checked.destination);
    // Create the destination before saving, so that settings its schema cannot judge fail the request.
    const destination =
      stream.status === 'ACTIVE' ? this.#createDestination(stream, checked.destination) : undefined;
    try {
      await this.#stopRunner(id, this.#restartDeadlineMillis);
      this.#store.putStream(stream, this.#log.lastSeq());
      this.#startErrors.delete(id);
    } catch (err: unknown) {
      await destination?.close();
      throw err;
    }
    const state = this.#store.getState(id);
    if (destination !== undefined) {
      if (state?.pausedAtMillis === null) this.#startRunner(stream, destination);
      else await destination.close();
    }
    this.#logger.info(
      { stream: id, type: stream.type, status: stream.status },
      existing ? 'log stream updated' : 'log stream created',
    );
    return stream;
  }

  #restoreSecrets(raw: Record<string, unknown>, existing: StreamDefinition): Record<string, unknown> {
    const definition = this.#options.resolveDestination(existing.type);
    const out: Record<string, unknown> = { ...raw };
    if (definition !== undefined && isObject(raw.settings) && raw.type === existing.type) {
      out.settings = restoreRedacted(raw.settings, existing.settings, definition.secretSettings);
    }
    const transforms = raw.transforms;
    const key = existing.transforms.hashUserEmail?.key;
    if (key !== undefined && isObject(transforms) && isObject(transforms.hashUserEmail)) {
      out.transforms = {
        ...transforms,
        hashUserEmail: restoreRedacted(transforms.hashUserEmail, { key }, ['/key']),
      };
    }
    return out;
  }

  async #checkTargets(stream: StreamDefinition, definition: DestinationDefinition): Promise<void> {
    for (const host of definition.targets(stream.settings)) {
      try {
        await this.#options.network.checkHost(host);
      } catch (err: unknown) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new StreamError(
          'FS_STREAM_DESTINATION_FORBIDDEN',
          `the destination ${host} is not allowed: ${reason}`,
          [{ path: '/settings', message: reason }],
        );
      }
    }
  }

  /** The network policy, without certificate verification for a stream that asked for that. */
  #networkFor(stream: StreamDefinition): NetworkPolicy {
    const network = this.#options.network;
    if (stream.tls?.insecureSkipVerify !== true) return network;
    return network.withoutTlsVerification?.() ?? network;
  }

  #createDestination(stream: StreamDefinition, definition: DestinationDefinition): Destination {
    try {
      return definition.create(stream.settings, {
        streamId: stream.id,
        streamName: stream.name,
        format: stream.format,
        network: this.#networkFor(stream),
        logger: this.#logger.child({ stream: stream.id, type: stream.type }),
        timeoutMillis: stream.delivery.requestTimeoutMillis,
      });
    } catch (err: unknown) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StreamError('FS_STREAM_INVALID', `the ${stream.type} settings are not usable: ${reason}`, [
        { path: '/settings', message: reason },
      ]);
    }
  }

  /** Starts the stream's runner (with `destination`, or a new one). Failures show on health. */
  #startRunner(stream: StreamDefinition, destination: Destination | undefined): void {
    const state = this.#store.getState(stream.id);
    // One runner per stream, ever: two would own one cursor and send everything twice.
    if (
      state === undefined ||
      state.pausedAtMillis !== null ||
      this.#stopped ||
      this.#running.has(stream.id)
    ) {
      void destination?.close();
      return;
    }
    let dest = destination;
    if (dest === undefined) {
      const definition = this.#options.resolveDestination(stream.type);
      try {
        if (definition === undefined)
          throw new Error(`type "${stream.type}" is not a known destination type`);
        dest = this.#createDestination(stream, definition);
      } catch (err: unknown) {
        const message = err instanceof Error ? err.message : String(err);
        this.#startErrors.set(stream.id, { code: 'DESTINATION_UNAVAILABLE', message, atMillis: this.#now() });
        this.#logger.error(
          { stream: stream.id, type: stream.type, err: { message } },
          'log stream cannot start',
        );
        return;
      }
    }
    const runner = new StreamRunner({
      stream,
      destination: dest,
      log: this.#log,
      store: this.#store,
      metrics: this.#metrics,
      logger: this.#logger.child({ stream: stream.id }),
      onPaused: () => this.#onPaused(stream.id, runner),
      now: this.#now,
      ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
      ...(this.#options.runner?.progressFlushMillis === undefined
        ? {}
        : { progressFlushMillis: this.#options.runner.progressFlushMillis }),
      ...(this.#options.runner?.abortGraceMillis === undefined
        ? {}
        : { abortGraceMillis: this.#options.runner.abortGraceMillis }),
    });
    this.#startErrors.delete(stream.id);
    this.#running.set(stream.id, { runner, destination: dest });
    runner.start();
  }

  #onPaused(id: string, runner: StreamRunner): void {
    const running = this.#running.get(id);
    if (running === undefined || running.runner !== runner) return;
    this.#running.delete(id);
    void closeQuietly(running.destination, this.#logger);
  }

  async #stopRunner(id: string, deadlineMillis: number): Promise<void> {
    const running = this.#running.get(id);
    if (running === undefined) return;
    this.#running.delete(id);
    await running.runner.stop(deadlineMillis);
    await closeQuietly(running.destination, this.#logger);
  }

  /** Runs `fn` with a fresh destination for the stream (test, redelivery), closed afterwards. */
  async #withDestination<T>(
    stream: StreamDefinition,
    fn: (destination: Destination) => Promise<T>,
  ): Promise<T> {
    const definition = this.#options.resolveDestination(stream.type);
    if (definition === undefined) {
      throw new StreamError('FS_STREAM_INVALID', `type "${stream.type}" is not a known destination type`, [
        { path: '/type', message: 'unknown destination type' },
      ]);
    }
    const destination = this.#createDestination(stream, definition);
    try {
      return await fn(destination);
    } finally {
      await closeQuietly(destination, this.#logger);
    }
  }

  /** One send with the stream's request timeout; never throws. */
  async #sendOnce(
    stream: StreamDefinition,
    destination: Destination,
    batch: readonly OutboundEvent[],
  ): Promise<SendResult> {
    const controller = new AbortController();
    const timeoutMillis = stream.delivery.requestTimeoutMillis;
    const timer = setTimeout(() => {
      const reason = new Error(`the destination did not answer within ${timeoutMillis} ms`);
      reason.name = 'TimeoutError';
      controller.abort(reason);
    }, timeoutMillis);
    const started = performance.now();
    try {
      return await destination.send(batch, controller.signal);
    } catch (err: unknown) {
      return classifyNetworkError(err);
    } finally {
      clearTimeout(timer);
      this.#metrics.observeSend(stream.id, (performance.now() - started) / 1000);
    }
  }

  async #lagSeconds(
    cursor: number,
    lagEvents: number,
    oldestOwedMillis: number | undefined,
  ): Promise<number> {
    if (lagEvents <= 0) return 0;
    let oldest = oldestOwedMillis;
    if (oldest === undefined) {
      try {
        oldest = (await this.#log.readAfter(cursor, 1))[0]?.ingestedAtMillis;
      } catch {
        return 0;
      }
    }
    return oldest === undefined ? 0 : Math.max(0, (this.#now() - oldest) / 1000);
  }

  async #lagSamples(): Promise<StreamLagSample[]> {
    if (this.#stopped) return [];
    const samples: StreamLagSample[] = [];
    for (const stream of this.#store.listStreams()) {
      try {
        const h = await this.health(stream.id);
        samples.push({ stream: stream.id, lagEvents: h.lagEvents, lagSeconds: h.lagSeconds });
      } catch {
        // Deleted or stopped during the scrape: no sample.
      }
    }
    return samples;
  }

  #withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const next = previous.then(
      () => fn(),
      () => fn(),
    );
    const tail = next.catch(() => undefined);
    this.#locks.set(id, tail);
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    });
    return next;
  }

  #require(id: string): StreamDefinition {
    const stream = this.#store.getStream(id);
    if (stream === undefined) throw streamNotFound(id);
    return stream;
  }

  #assertOpen(): void {
    if (this.#stopped)
      throw new StreamError('FS_STREAM_MANAGER_STOPPED', 'the log streams are shutting down');
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

function idOf(input: unknown): string | undefined {
  return isObject(input) && typeof input.id === 'string' ? input.id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isoOrNull(millis: number | null): string | null {
  return millis === null ? null : new Date(millis).toISOString();
}

function lastErrorOut(error: LastError | null | undefined): StreamHealth['lastError'] {
  if (error === null || error === undefined) return null;
  return {
    code: error.code,
    message: error.message,
    at: new Date(error.atMillis).toISOString(),
    ...(error.status === undefined ? {} : { status: error.status }),
  };
}

function fromDeadLetter(letter: DeadLetter): OutboundEvent {
  let event: Readonly<Record<string, unknown>> = {};
  try {
    const parsed: unknown = JSON.parse(letter.json);
    if (isObject(parsed)) event = parsed;
  } catch {
    // Sent as stored; the destination's answer is recorded like any other.
  }
  return {
    seq: letter.seq,
    eventType: letter.eventType,
    orgId: letter.orgId,
    flowId: letter.flowId,
    executionId: letter.executionId,
    idempotencyKey: letter.idempotencyKey,
    timestamp: letter.timestamp,
    event,
    json: letter.json,
  };
}

/** The outcome for the one event of a single-event send. */
function singleOutcome(
  result: SendResult,
):
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retryable' | 'rejected' | 'fatal'; readonly error: DeliveryError } {
  if (result.outcome === 'partial') {
    const item = result.items[0];
    if (item === undefined) {
      return {
        outcome: 'fatal',
        error: { code: 'INVALID_RESULT', message: 'the destination answered no item result' },
      };
    }
    return item;
  }
  return result;
}

async function closeQuietly(destination: Destination, logger: Logger): Promise<void> {
  try {
    await destination.close();
  } catch (err: unknown) {
    logger.warn({ err }, 'closing a stream destination failed');
  }
}
