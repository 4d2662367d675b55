import type { RetryPolicy } from '../schema/definitions.js';
import type { EmitContext } from './emit-context.js';

/**
 * One execution of one flow, as the engine tells it: start (emitted when the handle is made), steps,
 * and the events of the seed's seven sections. Builds each event's fields from what it was given at
 * start and what it has counted since; the ExecutionLog's context validates and emits.
 *
 * Invariants:
 * - No method throws or waits: every problem is reported through the log's `onError` and counters.
 * - `complete`, a fatal `fail` and `cancel` end the execution. After that, every call except
 *   `startChild` is ignored and reported (SDK_EXECUTION_ENDED): an execution ends once.
 * - `duration` is whole milliseconds on the monotonic clock since the handle was made; `step_count`
 *   is the sum of `step(n)` calls so far.
 * - After `throttled()`, this execution's events (the FLOW_THROTTLE itself included) carry
 *   `throttled: true` and the log's throttled engine mode; children started afterwards inherit it.
 * - "If applicable" fields are left out when not given (never null): parent_* and root_* on a root
 *   execution, `retry_policy`/`retry_delay`, `pause_duration`.
 */

export interface FolderRef {
  /** ULID of the folder the flow lives in (`folder_id`). */
  readonly id: string;
  /** Folder ULIDs from the top folder down to this one (`folder_id_path`, joined by "/"). Empty = `[id]`. */
  readonly idPath: readonly string[];
  /** Human-readable folder names, parent first (`folder_name`). */
  readonly names: readonly string[];
}

export interface FlowRef {
  /** ULID of the flow (`flow_id`). */
  readonly id: string;
  readonly name: string;
  readonly folder: FolderRef;
}

export interface UserRef {
  /** ULID of the Okta user the execution runs for (`user_id`). */
  readonly id: string;
  /** `user_email`; hashed before it leaves the SDK when the log has `hashUserEmail`. */
  readonly email: string;
}

export interface ChildStartOptions {
  /** The card that started the helper flow, e.g. `root:kernel:control:0.0.1:callable`. */
  readonly address: string;
  /** Default: the parent's user. */
  readonly user?: UserRef;
  /** The engine's own id for the execution (a UUID). Default: a new random UUID. */
  readonly executionId?: string;
}

export interface AddressOptions {
  /** The card or step concerned, e.g. `root:kernel:control:0.0.1:return`. */
  readonly address: string;
}

export interface FailOptions extends AddressOptions {
  readonly errorMessage: string;
  readonly errorCode: string;
  /** An enumeration-like value (no spaces), e.g. `http_error`. */
  readonly errorType: string;
  /** True ends the execution; false is a failure that will be retried. */
  readonly fatal: boolean;
  /** Whose retry applies: `flow` (the flow's retry setting) or `handler` (a try/catch card). */
  readonly retryPolicy?: RetryPolicy;
  /** Seconds until the next retry attempt (`retry_delay`). */
  readonly retryDelaySeconds?: number;
}

export interface PauseOptions extends AddressOptions {
  /** Expected length of the pause or wait, in milliseconds (`pause_duration`). */
  readonly pauseDurationMillis?: number;
}

export interface RateLimitedOptions extends AddressOptions {
  /** The third party's HTTP status, e.g. 429. */
  readonly statusCode: number;
  /** Seconds the engine backs off (`backoff_duration`). */
  readonly backoffSeconds: number;
  /** The third party's host name, e.g. `api.example.com`. */
  readonly hostname: string;
}

export interface ThrottledOptions {
  /** e.g. `execution_limit`, `event_hook_limit`. */
  readonly throttlingType: string;
  /** e.g. `org`, `flow`. */
  readonly throttlingLevel: string;
}

/** The chain above a helper flow's execution. */
interface Lineage {
  readonly parent_execution_id: unknown;
  readonly parent_flow_id: unknown;
  readonly parent_flow_name: unknown;
  readonly root_execution_id: unknown;
  readonly root_flow_id: unknown;
  readonly root_flow_name: unknown;
}

/** @internal How ExecutionLog and startChild make a handle. */
export interface HandleInit {
  readonly context: EmitContext;
  readonly flow: FlowRef;
  readonly user: UserRef;
  /** `user_email` as it goes out (already hashed when configured). */
  readonly userEmail: unknown;
  readonly executionId: string;
  readonly depth: number;
  readonly lineage: Lineage | undefined;
  readonly throttled: boolean;
}

export class ExecutionHandle {
  readonly executionId: string;
  /** 0 for an execution the engine started, parent depth + 1 for a helper flow's. */
  readonly depth: number;
  readonly #context: EmitContext;
  readonly #flowId: unknown;
  readonly #flowName: unknown;
  readonly #user: UserRef;
  readonly #userEmail: unknown;
  readonly #lineage: Lineage | undefined;
  readonly #folder: Readonly<Record<string, unknown>>;
  readonly #startedAtMillis: number;
  #steps = 0;
  #throttled: boolean;
  #ended = false;
  #started = false;

  /** @internal Use `ExecutionLog.start` or `startChild`. */
  constructor(init: HandleInit) {
    this.#context = init.context;
    this.executionId = init.executionId;
    this.depth = init.depth;
    this.#flowId = read(init.flow, 'id');
    this.#flowName = read(init.flow, 'name');
    this.#user = init.user;
    this.#userEmail = init.userEmail;
    this.#lineage = init.lineage;
    this.#folder = folderFields(read(init.flow, 'folder'));
    this.#throttled = init.throttled;
    this.#startedAtMillis = init.context.monotonicNow();
  }

  /** True once the execution completed, failed fatally or was canceled. */
  get ended(): boolean {
    return this.#ended;
  }

  get isThrottled(): boolean {
    return this.#throttled;
  }

  get stepCount(): number {
    return this.#steps;
  }

  /** @internal Emits FLOW_START, once: by whoever made the handle. Later calls do nothing. */
  emitStart(address: unknown): void {
    if (this.#started) return;
    this.#started = true;
    this.#guard('FLOW_START', false, () => {
      this.#context.counters.executionsStarted++;
      return { depth: this.depth, address };
    });
  }

  /** Counts `n` steps (cards run) toward `step_count`. `n` must be a whole number ≥ 0. */
  step(n = 1): void {
    try {
      if (this.#ended) {
        this.#reportEnded('step');
        return;
      }
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
        this.#context.report({
          code: 'SDK_INVALID_INPUT',
          message: `step(n) needs a whole number >= 0, got ${String(n)}; ignored`,
          executionId: this.executionId,
        });
        return;
      }
      this.#steps = Math.min(Number.MAX_SAFE_INTEGER, this.#steps + n);
    } catch (err: unknown) {
      this.#internal(err);
    }
  }

  /** FLOW_COMPLETE; ends the execution. */
  complete(options: AddressOptions): void {
    this.#guard('FLOW_COMPLETE', true, () => ({
      duration: this.#durationMillis(),
      step_count: this.#steps,
      address: read(options, 'address'),
    }));
  }

  /** FLOW_FAIL; ends the execution when `fatal` is true. */
  fail(options: FailOptions): void {
    const fatal = toBoolean(safeRead(options, 'fatal'));
    this.#guard('FLOW_FAIL', fatal === true, () => {
      const fields: Record<string, unknown> = {
        duration: this.#durationMillis(),
        step_count: this.#steps,
        address: read(options, 'address'),
        error_message: read(options, 'errorMessage'),
        error_code: read(options, 'errorCode'),
        error_type: read(options, 'errorType'),
        fatal,
      };
      putDefined(fields, 'retry_policy', read(options, 'retryPolicy'));
      putDefined(fields, 'retry_delay', toNumber(read(options, 'retryDelaySeconds')));
      return fields;
    });
  }

  /** FLOW_CANCEL; ends the execution. */
  cancel(options: AddressOptions): void {
    this.#guard('FLOW_CANCEL', true, () => ({
      duration: this.#durationMillis(),
      step_count: this.#steps,
      address: read(options, 'address'),
    }));
  }

  /** FLOW_PAUSE (a wait or pause card); the execution goes on. */
  pause(options: PauseOptions): void {
    this.#guard('FLOW_PAUSE', false, () => {
      const fields: Record<string, unknown> = {};
      putDefined(fields, 'pause_duration', toNumber(read(options, 'pauseDurationMillis')));
      fields.address = read(options, 'address');
      return fields;
    });
  }

  /** FLOW_RATE_LIMIT: a third party answered with a rate limit and the engine backs off. */
  rateLimited(options: RateLimitedOptions): void {
    this.#guard('FLOW_RATE_LIMIT', false, () => ({
      address: read(options, 'address'),
      status_code: toNumber(read(options, 'statusCode')),
      backoff_duration: toNumber(read(options, 'backoffSeconds')),
      hostname: read(options, 'hostname'),
    }));
  }

  /** FLOW_THROTTLE: the engine throttles this execution; it and its later events are throttled. */
  throttled(options: ThrottledOptions): void {
    this.#guard('FLOW_THROTTLE', false, () => {
      this.#throttled = true;
      return {
        throttling_type: read(options, 'throttlingType'),
        throttling_level: read(options, 'throttlingLevel'),
      };
    });
  }

  /**
   * Starts a helper flow called from this execution: emits its FLOW_START with this execution as
   * parent and this chain's root, at depth + 1. Allowed after this execution ended (an asynchronous
   * call can outlive its caller). Always returns a handle.
   */
  startChild(flow: FlowRef, options: ChildStartOptions): ExecutionHandle {
    let child: ExecutionHandle;
    try {
      const user = read(options, 'user');
      const childUser = user === undefined ? this.#user : (user as UserRef);
      const lineage: Lineage = {
        parent_execution_id: this.executionId,
        parent_flow_id: this.#flowId,
        parent_flow_name: this.#flowName,
        root_execution_id: this.#lineage?.root_execution_id ?? this.executionId,
        root_flow_id: this.#lineage?.root_flow_id ?? this.#flowId,
        root_flow_name: this.#lineage?.root_flow_name ?? this.#flowName,
      };
      const executionId = read(options, 'executionId');
      child = new ExecutionHandle({
        context: this.#context,
        flow,
        user: childUser,
        userEmail: user === undefined ? this.#userEmail : this.#context.userEmail(read(user, 'email')),
        executionId: typeof executionId === 'string' ? executionId : this.#context.uuid(),
        depth: this.depth + 1,
        lineage,
        throttled: this.#throttled,
      });
    } catch (err: unknown) {
      // Only a hostile input (a throwing getter) gets here; the engine still needs a handle.
      this.#internal(err);
      child = new ExecutionHandle({
        context: this.#context,
        flow: {} as FlowRef,
        user: this.#user,
        userEmail: this.#userEmail,
        executionId: this.#context.uuid(),
        depth: this.depth + 1,
        lineage: undefined,
        throttled: this.#throttled,
      });
    }
    child.emitStart(safeRead(options, 'address'));
    return child;
  }

  /** Builds and emits one event, unless the execution ended; `ends` marks a terminal event. */
  #guard(eventType: string, ends: boolean, fields: () => Record<string, unknown>): void {
    try {
      if (this.#ended) {
        this.#reportEnded(eventType);
        return;
      }
      if (ends) {
        this.#ended = true;
        this.#context.counters.executionsEnded++;
      }
      const own = fields();
      this.#context.emit(this.#event(eventType, own), this.executionId);
    } catch (err: unknown) {
      this.#internal(err, eventType);
    }
  }

  /** The Base Schema fields in the seed's order, then the type's own fields. */
  #event(eventType: string, own: Record<string, unknown>): Record<string, unknown> {
    const context = this.#context;
    const event: Record<string, unknown> = {
      event_type: eventType,
      execution_id: this.executionId,
      timestamp: context.timestamp(),
    };
    putDefined(event, 'flow_id', this.#flowId);
    putDefined(event, 'flow_name', this.#flowName);
    putDefined(event, 'org_id', read(context.org, 'id'));
    putDefined(event, 'org_name', read(context.org, 'name'));
    putDefined(event, 'org_hostname', read(context.org, 'hostname'));
    putDefined(event, 'user_id', read(this.#user, 'id'));
    putDefined(event, 'user_email', this.#userEmail);
    if (this.#lineage !== undefined) {
      for (const [name, value] of Object.entries(this.#lineage)) putDefined(event, name, value);
    }
    Object.assign(event, this.#folder);
    event.engine_mode = this.#throttled ? context.throttledEngineMode : context.engineMode;
    event.idempotency_key = context.uuid();
    event.throttled = this.#throttled;
    for (const [name, value] of Object.entries(own)) putDefined(event, name, value);
    return event;
  }

  #durationMillis(): number {
    return Math.max(0, Math.round(this.#context.monotonicNow() - this.#startedAtMillis));
  }

  #reportEnded(what: string): void {
    this.#context.report({
      code: 'SDK_EXECUTION_ENDED',
      message: `${what} on an execution that already ended; ignored`,
      executionId: this.executionId,
      ...(what.startsWith('FLOW_') ? { eventType: what } : {}),
    });
  }

  #internal(err: unknown, eventType?: string): void {
    this.#context.report({
      code: 'SDK_INTERNAL_ERROR',
      message: `${eventType ?? 'a call'} could not be handled: ${err instanceof Error ? err.message : String(err)}`,
      executionId: this.executionId,
      ...(eventType === undefined ? {} : { eventType }),
      cause: err,
    });
  }
}

/** The folder fields of an event, from the flow's folder (read defensively). */
function folderFields(folder: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const id = read(folder, 'id');
  const idPath = read(folder, 'idPath');
  const names = read(folder, 'names');
  putDefined(
    out,
    'folder_id_path',
    Array.isArray(idPath) && idPath.length > 0 ? idPath.map(String).join('/') : id,
  );
  putDefined(out, 'folder_id', id);
  putDefined(out, 'folder_name', Array.isArray(names) ? [...names] : names);
  return out;
}

/** `object[key]` for any value (undefined for non-objects). */
function read(object: unknown, key: string): unknown {
  return typeof object === 'object' && object !== null ? (object as Record<string, unknown>)[key] : undefined;
}

function safeRead(object: unknown, key: string): unknown {
  try {
    return read(object, key);
  } catch {
    return undefined;
  }
}

/** Sets the field unless the value is absent: "If applicable" fields are omitted, never null. */
function putDefined(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined && value !== null) target[key] = value;
}

/** Numbers stay numbers; a string of digits (what JavaScript callers sometimes pass) becomes one. */
function toNumber(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return value;
}

function toBoolean(value: unknown): unknown {
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return value;
}
