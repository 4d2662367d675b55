import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FlowEvent } from '../schema/definitions.js';
import { validateEvent } from '../schema/validate.js';
import { hashEmail } from '../streams/pii.js';
import type { SdkErrorCode, SdkErrorReport } from './errors.js';
import type { EventSink } from './sinks/event-sink.js';

/**
 * What every handle of one ExecutionLog shares: the org, the clocks, the UUID source, the email
 * hashing, and the emit pipeline (validate → sink). Internal to src/sdk: engines use ExecutionLog.
 *
 * Every method here returns a usable value and never throws: an injected function that throws or
 * returns garbage is reported (SDK_INTERNAL_ERROR) and replaced by the built-in one.
 */

/** How events are checked before they reach the sink. */
export type SdkValidation = 'strict' | 'lenient' | 'off';

export interface OrgRef {
  /** ULID of the org (`org_id`). */
  readonly id: string;
  /** `org_name`. */
  readonly name: string;
  /** `org_hostname`: the domain of the org's Workflows tenant, e.g. `atko.okta.com`. */
  readonly hostname: string;
}

export interface ExecutionLogStats {
  readonly executionsStarted: number;
  readonly executionsEnded: number;
  /** Events handed to the sink. */
  readonly eventsEmitted: number;
  /** Events emitted although strict validation found problems (lenient accepted them). */
  readonly eventsNotStrict: number;
  /** Events not emitted because even lenient validation refused them. */
  readonly eventsInvalid: number;
  /** Calls with an unusable value that were ignored (e.g. `step(-1)`). */
  readonly invalidInputs: number;
  /** Calls on a handle whose execution had ended; ignored. */
  readonly callsAfterEnd: number;
  /** Throws or rejections from the sink. */
  readonly sinkErrors: number;
  /** Throws from injected functions (clock, UUID) or from the SDK itself. */
  readonly internalErrors: number;
}

type MutableStats = { -readonly [K in keyof ExecutionLogStats]: ExecutionLogStats[K] };

export interface EmitContextOptions {
  readonly org: OrgRef;
  readonly sink: EventSink;
  readonly now: () => number;
  readonly monotonicNow: () => number;
  readonly randomUUID: () => string;
  readonly engineMode: string;
  readonly throttledEngineMode: string;
  readonly hashUserEmailKey: string | undefined;
  readonly validation: SdkValidation;
  readonly onError: ((report: SdkErrorReport) => void) | undefined;
}

const STAT_BY_CODE: Readonly<Record<SdkErrorCode, keyof MutableStats>> = {
  SDK_INVALID_INPUT: 'invalidInputs',
  SDK_EVENT_NOT_STRICT: 'eventsNotStrict',
  SDK_EVENT_INVALID: 'eventsInvalid',
  SDK_EXECUTION_ENDED: 'callsAfterEnd',
  SDK_SINK_ERROR: 'sinkErrors',
  SDK_INTERNAL_ERROR: 'internalErrors',
};

export class EmitContext {
  readonly org: OrgRef;
  readonly sink: EventSink;
  readonly engineMode: string;
  readonly throttledEngineMode: string;
  readonly counters: MutableStats = {
    executionsStarted: 0,
    executionsEnded: 0,
    eventsEmitted: 0,
    eventsNotStrict: 0,
    eventsInvalid: 0,
    invalidInputs: 0,
    callsAfterEnd: 0,
    sinkErrors: 0,
    internalErrors: 0,
  };
  readonly #now: () => number;
  readonly #monotonicNow: () => number;
  readonly #randomUUID: () => string;
  readonly #hashKey: string | undefined;
  readonly #validation: SdkValidation;
  readonly #onError: ((report: SdkErrorReport) => void) | undefined;

  constructor(options: EmitContextOptions) {
    this.org = options.org;
    this.sink = options.sink;
    this.engineMode = options.engineMode;
    this.throttledEngineMode = options.throttledEngineMode;
    this.#now = options.now;
    this.#monotonicNow = options.monotonicNow;
    this.#randomUUID = options.randomUUID;
    this.#hashKey = options.hashUserEmailKey;
    this.#validation = options.validation;
    this.#onError = options.onError;
  }

  /** Counts the report under its code and passes it to `onError` (whose throws are swallowed). */
  report(report: SdkErrorReport): void {
    this.counters[STAT_BY_CODE[report.code]]++;
    if (this.#onError === undefined) return;
    try {
      this.#onError(report);
    } catch {
      // onError is the engine's own code; its failure must not turn into ours.
    }
  }

  /** ISO 8601 UTC with milliseconds and `Z`, from the injected wall clock. */
  timestamp(): string {
    try {
      const millis = this.#now();
      if (typeof millis === 'number' && Number.isFinite(millis)) {
        const text = new Date(Math.trunc(millis)).toISOString();
        if (text.length === 24) return text;
      }
      this.report({
        code: 'SDK_INTERNAL_ERROR',
        message: `now() returned ${String(millis)}; Date.now() was used`,
      });
    } catch (err: unknown) {
      this.report({ code: 'SDK_INTERNAL_ERROR', message: 'now() threw; Date.now() was used', cause: err });
    }
    return new Date().toISOString();
  }

  /** Milliseconds from the injected monotonic clock (durations only). */
  monotonicNow(): number {
    try {
      const millis = this.#monotonicNow();
      if (typeof millis === 'number' && Number.isFinite(millis)) return millis;
      this.report({
        code: 'SDK_INTERNAL_ERROR',
        message: `monotonicNow() returned ${String(millis)}; performance.now() was used`,
      });
    } catch (err: unknown) {
      this.report({
        code: 'SDK_INTERNAL_ERROR',
        message: 'monotonicNow() threw; performance.now() was used',
        cause: err,
      });
    }
    return performance.now();
  }

  uuid(): string {
    try {
      const id = this.#randomUUID();
      if (typeof id === 'string' && id !== '') return id;
      this.report({
        code: 'SDK_INTERNAL_ERROR',
        message: 'randomUUID() returned no string; crypto.randomUUID() was used',
      });
    } catch (err: unknown) {
      this.report({
        code: 'SDK_INTERNAL_ERROR',
        message: 'randomUUID() threw; crypto.randomUUID() was used',
        cause: err,
      });
    }
    return cryptoRandomUUID();
  }

  /** `user_email` as it goes out: hashed (HMAC-SHA256, base64url) when a key is configured. */
  userEmail(email: unknown): unknown {
    if (this.#hashKey === undefined || typeof email !== 'string') return email;
    return hashEmail(email, this.#hashKey);
  }

  /** Validates per `validation`, then hands the event to the sink. Never throws. */
  emit(event: Record<string, unknown>, executionId: string): void {
    const eventType = typeof event.event_type === 'string' ? event.event_type : undefined;
    if (this.#validation !== 'off') {
      const result = validateEvent(event, this.#validation);
      if (!result.ok) {
        const lenient = this.#validation === 'strict' ? validateEvent(event, 'lenient') : result;
        const type = eventType === undefined ? {} : { eventType };
        if (lenient.ok) {
          this.report({
            code: 'SDK_EVENT_NOT_STRICT',
            message: `${eventType ?? 'an event'} fails strict validation; it was emitted because lenient validation accepts it`,
            executionId,
            ...type,
            problems: result.errors,
          });
        } else {
          this.report({
            code: 'SDK_EVENT_INVALID',
            message: `${eventType ?? 'an event'} fails lenient validation (ingest would refuse it); it was not emitted`,
            executionId,
            ...type,
            problems: lenient.errors,
          });
          return;
        }
      }
    }
    try {
      // Validated above (or validation is off by the engine's choice): the sink's type is a promise
      // about shape that the validator keeps, not the compiler.
      this.sink.emit(event as unknown as FlowEvent);
      this.counters.eventsEmitted++;
    } catch (err: unknown) {
      this.report({
        code: 'SDK_SINK_ERROR',
        message: 'the sink threw from emit(); the event is lost',
        executionId,
        ...(eventType === undefined ? {} : { eventType }),
        cause: err,
      });
    }
  }
}
