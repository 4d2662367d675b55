import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { type NetworkPolicy, openNetworkPolicy } from '../net/network-policy.js';
import type { FlowEvent } from '../schema/definitions.js';
import { EVENT_TYPES, type EventType } from '../schema/event-types.js';
import type { ExecutionLogStats, OrgRef, SdkValidation } from '../sdk/emit-context.js';
import type { SdkErrorReport } from '../sdk/errors.js';
import type { FlowRef, UserRef } from '../sdk/execution-handle.js';
import { ExecutionLog } from '../sdk/execution-log.js';
import type { EventSink, SinkStats } from '../sdk/sinks/event-sink.js';
import { type Clock, systemClock } from './clock.js';
import { type FlowError, FlowRuntimeError } from './errors.js';
import {
  Execution,
  type ExecutionResult,
  type ExecutionServices,
  type StartedExecution,
} from './execution.js';
import {
  type FlowDefinition,
  HELPER_START_ADDRESS,
  parseFlowDefinitions,
  startAddress,
} from './flow-definition.js';
import { ExecutionLimiter, type ExecutionLimits } from './limits.js';

/**
 * The reference flow runtime: runs flow definitions for one org and reports every execution through
 * the SDK, as an engine would (ARCHITECTURE.md, "The reference flow runtime"; docs/runtime.md).
 *
 *   const runtime = new FlowRuntime({ org, user, flows, sink });
 *   const run = runtime.invoke(flowId, { firstName: 'Ada' });   // API endpoint trigger
 *   const result = await run.result;                            // never rejects
 *   runtime.cancel(run.executionId);                            // FLOW_CANCEL
 *   runtime.start();                                            // schedule triggers
 *   await runtime.stop();
 *
 * Executions run concurrently on the event loop; each awaits only timers (the injected clock),
 * third-party requests and the helper flows it calls. `invoke` emits FLOW_START (and FLOW_THROTTLE
 * when the org is over its limits) before it returns.
 */

export interface FlowRuntimeOptions {
  readonly org: OrgRef;
  /** The user executions run for unless `invoke` names another (a flow runs as its owner in Okta). */
  readonly user: UserRef;
  /** The org's flows (checked: a malformed set throws RUNTIME_INVALID_DEFINITION). */
  readonly flows: readonly FlowDefinition[];
  /** Where events go. The runtime flushes it on stop; shutting it down is the owner's job. */
  readonly sink: EventSink;
  /** Default: real time. */
  readonly clock?: Clock;
  /** Jitter of backoffs without Retry-After. Default `Math.random`. */
  readonly random?: () => number;
  /** Execution ids and idempotency keys. Default `crypto.randomUUID`. */
  readonly randomUUID?: () => string;
  /** When an execution runs throttled. Default: no limits. */
  readonly limits?: ExecutionLimits;
  /** `engine_mode` of events. Default `realtime` (the seed's). */
  readonly engineMode?: string;
  /** `engine_mode` of a throttled execution's events. Default `throttled`. */
  readonly throttledEngineMode?: string;
  /** Wait before each card of a throttled execution, ms. Default 250. */
  readonly throttledCardDelayMillis?: number;
  /** Deepest helper-flow nesting (depth of the deepest helper). Default 16. */
  readonly maxDepth?: number;
  /** First backoff after a 429 without Retry-After, ms; doubles per retry. Default 1000. */
  readonly rateLimitInitialBackoffMillis?: number;
  /** Longest backoff without Retry-After, ms. Default 60000. */
  readonly rateLimitMaxBackoffMillis?: number;
  /** Longest Retry-After honoured, ms (a longer one is cut to this). Default 300000. */
  readonly maxRetryAfterMillis?: number;
  /** HTTP cards connect through this policy. Default: an open policy owned (and closed) by the runtime. */
  readonly network?: NetworkPolicy;
  /** The SDK's check of each event. Default `strict`. */
  readonly validation?: SdkValidation;
  /** Problems the SDK reports (an event that fails validation, …). */
  readonly onError?: (report: SdkErrorReport) => void;
  /** Every event that leaves the runtime, after the sink took it. A throw is swallowed. */
  readonly onEvent?: (event: FlowEvent) => void;
}

export interface InvokeOptions {
  /** Default: the runtime's `user`. */
  readonly user?: UserRef;
}

export interface RunningExecution {
  readonly executionId: string;
  readonly flowId: string;
  /** Settles when the execution ended; never rejects. */
  readonly result: Promise<ExecutionResult>;
}

export interface ExecutionInfo {
  readonly executionId: string;
  readonly flowId: string;
  readonly flowName: string;
  readonly depth: number;
  readonly paused: boolean;
  readonly throttled: boolean;
}

export interface RuntimeStats {
  /** Executions started, helpers included. */
  readonly executionsStarted: number;
  /** Executions started by a trigger (invoke, schedule). */
  readonly invocations: number;
  readonly executionsCompleted: number;
  readonly executionsFailed: number;
  readonly executionsCanceled: number;
  /** Executions that ran throttled (helpers of a throttled caller included). */
  readonly executionsThrottled: number;
  readonly running: number;
  /** Events handed to the sink, by type. */
  readonly eventsByType: Readonly<Record<EventType, number>>;
  /** Events of flows whose `streamExecutionLogs` is off (built, never sent). */
  readonly eventsSuppressed: number;
  readonly log: ExecutionLogStats;
  readonly sink: SinkStats;
}

export interface StopOptions {
  /** How long running executions may go on before they are canceled, ms. Default 0. */
  readonly graceMillis?: number;
}

function nonNegative(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new FlowRuntimeError(
      'RUNTIME_INVALID_OPTION',
      `${name} must be a number >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}

function flowRef(flow: FlowDefinition): FlowRef {
  const own = flow.folderPath[flow.folderPath.length - 1];
  return {
    id: flow.id,
    name: flow.name,
    folder: {
      id: own?.id ?? '',
      idPath: flow.folderPath.map((f) => f.id),
      names: flow.folderPath.map((f) => f.name),
    },
  };
}

/**
 * Counts events by type, drops those of flows that do not stream their execution logs, and hands
 * the rest to the owner's sink. The SDK builds every event (so a streamed helper of a silent caller
 * still carries its parent and root ids); only what is streamed leaves.
 */
class RuntimeSink implements EventSink {
  readonly counts: Record<EventType, number> = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<
    EventType,
    number
  >;
  suppressed = 0;
  readonly #inner: EventSink;
  readonly #silentFlowIds: ReadonlySet<string>;
  readonly #onEvent: ((event: FlowEvent) => void) | undefined;

  constructor(
    inner: EventSink,
    silentFlowIds: ReadonlySet<string>,
    onEvent: ((event: FlowEvent) => void) | undefined,
  ) {
    this.#inner = inner;
    this.#silentFlowIds = silentFlowIds;
    this.#onEvent = onEvent;
  }

  emit(event: FlowEvent): void {
    if (typeof event.flow_id === 'string' && this.#silentFlowIds.has(event.flow_id)) {
      this.suppressed++;
      return;
    }
    this.#inner.emit(event);
    const type = event.event_type as EventType;
    if (Object.hasOwn(this.counts, type)) this.counts[type]++;
    if (this.#onEvent !== undefined) {
      try {
        this.#onEvent(event);
      } catch {
        // The observer's failure is not the runtime's.
      }
    }
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  stats(): SinkStats {
    return this.#inner.stats();
  }
}

export class FlowRuntime {
  readonly #flows: ReadonlyMap<string, FlowDefinition>;
  readonly #user: UserRef;
  readonly #clock: Clock;
  readonly #log: ExecutionLog;
  readonly #sink: RuntimeSink;
  readonly #limiter: ExecutionLimiter;
  readonly #network: NetworkPolicy;
  readonly #ownsNetwork: boolean;
  readonly #maxDepth: number;
  readonly #services: ExecutionServices;
  readonly #running = new Map<string, Execution>();
  readonly #results = new Set<Promise<ExecutionResult>>();
  /** Aborted by stop: ends schedule loops. */
  readonly #triggers = new AbortController();
  #started = false;
  #stopping: Promise<void> | undefined;
  #counters = {
    executionsStarted: 0,
    invocations: 0,
    executionsCompleted: 0,
    executionsFailed: 0,
    executionsCanceled: 0,
    executionsThrottled: 0,
  };

  constructor(options: FlowRuntimeOptions) {
    const checked = parseFlowDefinitions([...options.flows]);
    if (!checked.ok) {
      const first = checked.problems[0];
      throw new FlowRuntimeError(
        'RUNTIME_INVALID_DEFINITION',
        `invalid flow definitions: ${first?.path ?? ''}: ${first?.message ?? ''}${checked.problems.length > 1 ? ` (and ${checked.problems.length - 1} more)` : ''}`,
        checked.problems,
      );
    }
    this.#flows = new Map(checked.flows.map((f) => [f.id, f]));
    setMaxListeners(0, this.#triggers.signal);
    this.#user = options.user;
    this.#clock = options.clock ?? systemClock;
    this.#limiter = new ExecutionLimiter(options.limits);
    this.#maxDepth = nonNegative('maxDepth', options.maxDepth, 16, 1);
    this.#ownsNetwork = options.network === undefined;
    this.#network = options.network ?? openNetworkPolicy();
    const silent = new Set(checked.flows.filter((f) => !f.streamExecutionLogs).map((f) => f.id));
    this.#sink = new RuntimeSink(options.sink, silent, options.onEvent);
    const clock = this.#clock;
    this.#log = new ExecutionLog({
      org: options.org,
      sink: this.#sink,
      now: () => clock.now(),
      monotonicNow: () => clock.monotonicNow(),
      randomUUID: options.randomUUID ?? cryptoRandomUUID,
      engineMode: options.engineMode ?? 'realtime',
      throttledEngineMode: options.throttledEngineMode ?? 'throttled',
      validation: options.validation ?? 'strict',
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    });
    const initialBackoff = nonNegative(
      'rateLimitInitialBackoffMillis',
      options.rateLimitInitialBackoffMillis,
      1000,
      1,
    );
    this.#services = {
      clock,
      random: options.random ?? Math.random,
      network: this.#network,
      throttledCardDelayMillis: nonNegative(
        'throttledCardDelayMillis',
        options.throttledCardDelayMillis,
        250,
      ),
      rateLimitInitialBackoffMillis: initialBackoff,
      rateLimitMaxBackoffMillis: nonNegative(
        'rateLimitMaxBackoffMillis',
        options.rateLimitMaxBackoffMillis,
        Math.max(60_000, initialBackoff),
        initialBackoff,
      ),
      maxRetryAfterMillis: nonNegative('maxRetryAfterMillis', options.maxRetryAfterMillis, 300_000),
      startHelper: (parent, flowId, input) => this.#startHelper(parent, flowId, input),
    };
  }

  /** The flows, by id. */
  get flows(): ReadonlyMap<string, FlowDefinition> {
    return this.#flows;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /**
   * Starts an execution of an API endpoint (or scheduled) flow, as Okta's API Endpoint card does.
   * Throws FlowRuntimeError for an unknown flow, a helper flow, or a stopped runtime.
   */
  invoke(
    flowId: string,
    input: Readonly<Record<string, unknown>> = {},
    options: InvokeOptions = {},
  ): RunningExecution {
    if (this.#stopping !== undefined)
      throw new FlowRuntimeError('RUNTIME_STOPPED', 'the flow runtime was stopped');
    const flow = this.#flows.get(flowId);
    if (flow === undefined) throw new FlowRuntimeError('RUNTIME_UNKNOWN_FLOW', `no flow has id ${flowId}`);
    if (flow.trigger.type === 'helper') {
      throw new FlowRuntimeError(
        'RUNTIME_NOT_INVOCABLE',
        `flow ${flowId} (${flow.name}) is a helper flow: only a call card can start it`,
      );
    }
    return this.#startTriggered(flow, input, options.user ?? this.#user);
  }

  /** Cancels a running execution (and the helpers it is waiting for). False when none runs with this id. */
  cancel(executionId: string): boolean {
    return this.#running.get(executionId)?.cancel() ?? false;
  }

  /** Continues an execution waiting in a pause card. False when none is paused with this id. */
  resume(executionId: string): boolean {
    return this.#running.get(executionId)?.resume() ?? false;
  }

  /** The executions running now. */
  list(): ExecutionInfo[] {
    return [...this.#running.values()].map((e) => ({
      executionId: e.executionId,
      flowId: e.flow.id,
      flowName: e.flow.name,
      depth: e.handle.depth,
      paused: e.paused,
      throttled: e.handle.isThrottled,
    }));
  }

  /** Starts the schedule triggers. Idempotent. */
  start(): void {
    if (this.#started || this.#stopping !== undefined) return;
    this.#started = true;
    for (const flow of this.#flows.values()) {
      const trigger = flow.trigger;
      if (trigger.type !== 'schedule') continue;
      void this.#schedule(
        flow,
        trigger.firstAfterMillis ?? trigger.everyMillis,
        trigger.everyMillis,
        trigger.input ?? {},
      );
    }
  }

  async #schedule(
    flow: FlowDefinition,
    firstAfterMillis: number,
    everyMillis: number,
    input: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const signal = this.#triggers.signal;
    let delay = firstAfterMillis;
    for (;;) {
      try {
        await this.#clock.sleep(delay, { signal, keepAlive: false });
      } catch {
        return;
      }
      if (this.#stopping !== undefined) return;
      this.#startTriggered(flow, input, this.#user);
      delay = everyMillis;
    }
  }

  /**
   * Stops the triggers, lets running executions go on for `graceMillis`, cancels the rest (their
   * FLOW_CANCEL is emitted), waits for every execution to end, flushes the sink, and closes the
   * network policy it owns. Idempotent.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#stop(nonNegative('graceMillis', options.graceMillis, 0));
    return this.#stopping;
  }

  async #stop(graceMillis: number): Promise<void> {
    this.#triggers.abort();
    if (graceMillis > 0 && this.#results.size > 0) {
      const grace = new AbortController();
      await Promise.race([
        Promise.all([...this.#results]),
        this.#clock.sleep(graceMillis, { signal: grace.signal, keepAlive: false }).catch(() => {}),
      ]);
      grace.abort();
    }
    for (const execution of this.#running.values()) {
      if (execution.handle.depth === 0) execution.cancel();
    }
    await Promise.all([...this.#results]);
    await this.#log.flush();
    if (this.#ownsNetwork) await this.#network.dispatcher.close().catch(() => {});
  }

  stats(): RuntimeStats {
    return {
      ...this.#counters,
      running: this.#running.size,
      eventsByType: { ...this.#sink.counts },
      eventsSuppressed: this.#sink.suppressed,
      log: this.#log.stats(),
      sink: this.#sink.stats(),
    };
  }

  #startTriggered(
    flow: FlowDefinition,
    input: Readonly<Record<string, unknown>>,
    user: UserRef,
  ): RunningExecution {
    const handle = this.#log.start(flowRef(flow), { user, address: startAddress(flow) });
    const throttling = this.#limiter.admit(flow.id, this.#clock.monotonicNow());
    if (throttling !== undefined) handle.throttled(throttling);
    this.#counters.invocations++;
    const execution = new Execution(this.#services, flow, handle);
    const { result } = this.#track(execution, input, () => this.#limiter.finished());
    return { executionId: execution.executionId, flowId: flow.id, result };
  }

  #startHelper(
    parent: Execution,
    flowId: string,
    input: Readonly<Record<string, unknown>>,
  ): StartedExecution | FlowError {
    const flow = this.#flows.get(flowId);
    if (flow === undefined) {
      // checkFlowSet makes this unreachable for checked definitions; kept as a value, not a throw.
      return {
        message: `no flow has id ${flowId}`,
        code: 'UNKNOWN_FLOW',
        type: 'invalid_input',
        retryable: false,
      };
    }
    if (parent.handle.depth + 1 > this.#maxDepth) {
      return {
        message: `helper flows nested deeper than ${this.#maxDepth}`,
        code: 'DEPTH_LIMIT',
        type: 'limit_exceeded',
        retryable: false,
      };
    }
    const handle = parent.handle.startChild(flowRef(flow), { address: HELPER_START_ADDRESS });
    return this.#track(new Execution(this.#services, flow, handle, parent.signal), input);
  }

  #track(
    execution: Execution,
    input: Readonly<Record<string, unknown>>,
    onEnd?: () => void,
  ): StartedExecution {
    this.#counters.executionsStarted++;
    this.#running.set(execution.executionId, execution);
    const result = execution.start(input).then((r) => {
      this.#running.delete(execution.executionId);
      this.#results.delete(result);
      if (r.status === 'completed') this.#counters.executionsCompleted++;
      else if (r.status === 'failed') this.#counters.executionsFailed++;
      else this.#counters.executionsCanceled++;
      if (r.throttled) this.#counters.executionsThrottled++;
      onEnd?.();
      return r;
    });
    this.#results.add(result);
    return { execution, result };
  }
}
