import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ExecutionLogStats, OrgRef, SdkValidation } from './emit-context.js';
import { EmitContext } from './emit-context.js';
import type { SdkErrorReport } from './errors.js';
import { SdkOptionError } from './errors.js';
import type { FlowRef, UserRef } from './execution-handle.js';
import { ExecutionHandle } from './execution-handle.js';
import type { EventSink } from './sinks/event-sink.js';

/**
 * What a workflow engine holds: one per org. `start` opens an execution and returns its handle;
 * the handle emits the rest (see execution-handle.ts).
 *
 *   const log = new ExecutionLog({ org, sink: new HttpSink({ url, token }) });
 *   const run = log.start(flow, { user, address: 'root:kernel:http:0.0.1:api_endpoint' });
 *   run.step(3);
 *   run.complete({ address: 'root:kernel:control:0.0.1:return' });
 *   await log.shutdown();
 *
 * Guarantees (Temporal's rule for what workflow code calls): no method throws into the engine and
 * none waits for I/O; emitting is a synchronous hand-off to the sink, which queues or drops (and
 * counts). A caller mistake is reported to `onError` with a stable code and counted in `stats()`.
 * Only the constructor throws (SdkOptionError), for options that cannot work.
 */

export interface ExecutionLogOptions {
  /** The org every execution of this log belongs to. */
  readonly org: OrgRef;
  readonly sink: EventSink;
  /** Wall clock for `timestamp`, epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** Monotonic clock for `duration`, milliseconds. Default `performance.now`. */
  readonly monotonicNow?: () => number;
  /** Source of execution ids and `idempotency_key`s. Default `crypto.randomUUID`. */
  readonly randomUUID?: () => string;
  /** `engine_mode` of events. Default `realtime`. */
  readonly engineMode?: string;
  /** `engine_mode` of a throttled execution's events. Default: `engineMode`. */
  readonly throttledEngineMode?: string;
  /** Replace `user_email` with HMAC-SHA256(key, email) in base64url before it leaves the SDK. */
  readonly hashUserEmail?: { readonly key: string };
  /**
   * `strict` (default): every event is checked in strict mode; an event with problems is reported
   * (SDK_EVENT_NOT_STRICT) and still emitted when lenient validation accepts it, else reported
   * (SDK_EVENT_INVALID) and not emitted. `lenient`: only the lenient check. `off`: no check.
   */
  readonly validation?: SdkValidation;
  /** Receives every problem the SDK swallows. Its own throws are swallowed too. */
  readonly onError?: (report: SdkErrorReport) => void;
}

export interface StartOptions {
  /** The user the execution runs for. */
  readonly user: UserRef;
  /** The card that started the flow, e.g. `root:kernel:http:0.0.1:api_endpoint` (FLOW_START `address`). */
  readonly address: string;
  /** The engine's own id for the execution (a UUID). Default: a new random UUID. */
  readonly executionId?: string;
  /** The execution starts throttled (the org is over its limits already). Default false. */
  readonly throttled?: boolean;
}

export class ExecutionLog {
  readonly #context: EmitContext;

  constructor(options: ExecutionLogOptions) {
    const org = options.org;
    if (typeof org !== 'object' || org === null)
      throw new SdkOptionError('org must be { id, name, hostname }');
    for (const key of ['id', 'name', 'hostname'] as const) {
      if (typeof org[key] !== 'string' || org[key] === '') {
        throw new SdkOptionError(`org.${key} must be a non-empty string, got ${JSON.stringify(org[key])}`);
      }
    }
    const sink = options.sink;
    if (typeof sink !== 'object' || sink === null || typeof sink.emit !== 'function') {
      throw new SdkOptionError('sink must be an EventSink (an object with emit, flush, shutdown and stats)');
    }
    const validation = options.validation ?? 'strict';
    if (validation !== 'strict' && validation !== 'lenient' && validation !== 'off') {
      throw new SdkOptionError(
        `validation must be "strict", "lenient" or "off", got ${JSON.stringify(validation)}`,
      );
    }
    const key = options.hashUserEmail?.key;
    if (options.hashUserEmail !== undefined && (typeof key !== 'string' || key === '')) {
      throw new SdkOptionError('hashUserEmail.key must be a non-empty string');
    }
    const engineMode = options.engineMode ?? 'realtime';
    this.#context = new EmitContext({
      org: { id: org.id, name: org.name, hostname: org.hostname },
      sink,
      now: options.now ?? Date.now,
      monotonicNow: options.monotonicNow ?? (() => performance.now()),
      randomUUID: options.randomUUID ?? randomUUID,
      engineMode,
      throttledEngineMode: options.throttledEngineMode ?? engineMode,
      hashUserEmailKey: key,
      validation,
      onError: options.onError,
    });
  }

  get sink(): EventSink {
    return this.#context.sink;
  }

  /** Opens an execution at depth 0 and emits its FLOW_START. Always returns a handle. */
  start(flow: FlowRef, options: StartOptions): ExecutionHandle {
    const context = this.#context;
    let handle: ExecutionHandle;
    let address: unknown;
    try {
      const user = options?.user;
      const executionId = options?.executionId;
      address = options?.address;
      handle = new ExecutionHandle({
        context,
        flow,
        user,
        userEmail: context.userEmail(user?.email),
        executionId: typeof executionId === 'string' ? executionId : context.uuid(),
        depth: 0,
        lineage: undefined,
        throttled: options?.throttled === true,
      });
    } catch (err: unknown) {
      context.report({
        code: 'SDK_INTERNAL_ERROR',
        message: `start could not read its arguments: ${err instanceof Error ? err.message : String(err)}`,
        cause: err,
      });
      handle = new ExecutionHandle({
        context,
        flow: {} as FlowRef,
        user: {} as UserRef,
        userEmail: undefined,
        executionId: context.uuid(),
        depth: 0,
        lineage: undefined,
        throttled: false,
      });
    }
    handle.emitStart(address);
    return handle;
  }

  stats(): ExecutionLogStats {
    return { ...this.#context.counters };
  }

  /** The sink's flush; never rejects (a rejection is reported as SDK_SINK_ERROR). */
  async flush(): Promise<void> {
    try {
      await this.#context.sink.flush();
    } catch (err: unknown) {
      this.#context.report({ code: 'SDK_SINK_ERROR', message: 'the sink failed to flush', cause: err });
    }
  }

  /** The sink's shutdown (idempotent there); never rejects. */
  async shutdown(): Promise<void> {
    try {
      await this.#context.sink.shutdown();
    } catch (err: unknown) {
      this.#context.report({ code: 'SDK_SINK_ERROR', message: 'the sink failed to shut down', cause: err });
    }
  }
}
