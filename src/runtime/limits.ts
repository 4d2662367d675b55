import { FlowRuntimeError } from './errors.js';

/**
 * An org's execution limits, as Okta Workflows throttles an org or a flow that uses too much. An
 * execution started over a limit still runs, throttled: FLOW_THROTTLE, then `throttled: true`, the
 * throttled engine mode, and slower cards. Limits count executions started by a trigger (API
 * endpoint, schedule), not helper flows (which inherit their caller's throttling). Omitted = no limit.
 */
export interface ExecutionLimits {
  /** Executions started per second in the org (sliding one-second window). */
  readonly orgExecutionsPerSecond?: number;
  /** Executions running at once in the org. */
  readonly orgConcurrentExecutions?: number;
  /** Executions started per second of one flow (Okta documents 10 for API endpoint invocations). */
  readonly flowExecutionsPerSecond?: number;
}

/** FLOW_THROTTLE's fields. */
export interface Throttling {
  readonly throttlingType: 'concurrency_limit' | 'execution_rate_limit';
  readonly throttlingLevel: 'org' | 'flow';
}

const WINDOW_MILLIS = 1000;

function checkLimit(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new FlowRuntimeError(
      'RUNTIME_INVALID_OPTION',
      `limits.${name} must be an integer >= 1, got ${String(value)}`,
    );
  }
  return value;
}

/** Sliding-window start times, oldest first. */
class Window {
  readonly #starts: number[] = [];
  #head = 0;

  /** Records a start at `nowMillis`; returns how many starts (this one included) are in the window. */
  record(nowMillis: number): number {
    while (
      this.#head < this.#starts.length &&
      (this.#starts[this.#head] as number) <= nowMillis - WINDOW_MILLIS
    ) {
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#starts.length) {
      this.#starts.splice(0, this.#head);
      this.#head = 0;
    }
    this.#starts.push(nowMillis);
    return this.#starts.length - this.#head;
  }
}

export class ExecutionLimiter {
  readonly #orgRate: number | undefined;
  readonly #orgConcurrent: number | undefined;
  readonly #flowRate: number | undefined;
  readonly #orgWindow = new Window();
  readonly #flowWindows = new Map<string, Window>();
  #running = 0;

  constructor(limits: ExecutionLimits = {}) {
    this.#orgRate = checkLimit('orgExecutionsPerSecond', limits.orgExecutionsPerSecond);
    this.#orgConcurrent = checkLimit('orgConcurrentExecutions', limits.orgConcurrentExecutions);
    this.#flowRate = checkLimit('flowExecutionsPerSecond', limits.flowExecutionsPerSecond);
  }

  get running(): number {
    return this.#running;
  }

  /**
   * Counts a triggered execution starting at `nowMillis` (monotonic) and says whether it is over a
   * limit (the first one found: concurrency, then the org's rate, then the flow's). Every call must
   * be followed by one `finished()`.
   */
  admit(flowId: string, nowMillis: number): Throttling | undefined {
    const concurrent = this.#running;
    this.#running++;
    const orgStarts = this.#orgWindow.record(nowMillis);
    let flowWindow = this.#flowWindows.get(flowId);
    if (flowWindow === undefined) {
      flowWindow = new Window();
      this.#flowWindows.set(flowId, flowWindow);
    }
    const flowStarts = flowWindow.record(nowMillis);
    if (this.#orgConcurrent !== undefined && concurrent >= this.#orgConcurrent) {
      return { throttlingType: 'concurrency_limit', throttlingLevel: 'org' };
    }
    if (this.#orgRate !== undefined && orgStarts > this.#orgRate) {
      return { throttlingType: 'execution_rate_limit', throttlingLevel: 'org' };
    }
    if (this.#flowRate !== undefined && flowStarts > this.#flowRate) {
      return { throttlingType: 'execution_rate_limit', throttlingLevel: 'flow' };
    }
    return undefined;
  }

  finished(): void {
    this.#running = Math.max(0, this.#running - 1);
  }
}
