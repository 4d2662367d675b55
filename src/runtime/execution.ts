import { parseRetryAfterMillis } from '../destinations/classify.js';
import type { NetworkPolicy } from '../net/network-policy.js';
import type { ExecutionHandle } from '../sdk/execution-handle.js';
import type { Clock } from './clock.js';
import type { FlowError } from './errors.js';
import type { CallCard, Card, FlowDefinition, HttpCard, TextCard, TryCard } from './flow-definition.js';
import { cardAddress } from './flow-definition.js';
import { exchange } from './http-request.js';
import { evaluateCondition, renderTemplate, renderValue, type Scope, toText } from './template.js';

/**
 * One execution of one flow: the card interpreter. Every event goes through the execution's SDK
 * handle; the order of events is the order of what happened.
 *
 * Invariants:
 * - Cards run one at a time in order; each card that starts adds one step (`step_count`), retries
 *   included. `if` and `try` count as cards; the cards they run count too.
 * - An execution ends exactly once: FLOW_COMPLETE (ran off the end, or a return card), FLOW_FAIL
 *   with `fatal: true` (an error nothing caught or retried), or FLOW_CANCEL (canceled, or its
 *   caller was canceled: the helper's FLOW_CANCEL comes before its caller's).
 * - Retries: a retryable error of a card outside any try card is retried per the flow's policy
 *   (FLOW_FAIL `fatal: false`, `retry_policy: flow`, `retry_delay` = the wait in seconds); inside a
 *   try card, its body is retried per the card's policy (`retry_policy: handler`), then `catch`
 *   runs. Non-retryable errors (a fail card, a 4xx) are never retried.
 * - A 429 from a third party: FLOW_RATE_LIMIT with the backoff in whole seconds (Retry-After, or a
 *   jittered exponential backoff when absent), a wait of exactly that, and the same request again.
 * - A throttled execution waits `throttledCardDelayMillis` before each card (the slower engine).
 * - Nothing here throws to the caller: `start()` resolves with the result in every case.
 */

export type ExecutionStatus = 'completed' | 'failed' | 'canceled';

export interface ExecutionResult {
  readonly executionId: string;
  readonly flowId: string;
  readonly status: ExecutionStatus;
  /** A completed execution's return value (undefined without a return card or value). */
  readonly output?: unknown;
  /** A failed execution's error. */
  readonly error?: FlowError;
  /** The card where the execution ended (the event's `address`). */
  readonly address: string;
  readonly steps: number;
  readonly durationMillis: number;
  readonly throttled: boolean;
}

/** What an execution needs from its runtime. */
export interface ExecutionServices {
  readonly clock: Clock;
  readonly random: () => number;
  readonly network: NetworkPolicy;
  readonly throttledCardDelayMillis: number;
  readonly rateLimitInitialBackoffMillis: number;
  readonly rateLimitMaxBackoffMillis: number;
  readonly maxRetryAfterMillis: number;
  /** Starts a helper flow's execution under `parent`, or says why it cannot start. */
  startHelper(
    parent: Execution,
    flowId: string,
    input: Readonly<Record<string, unknown>>,
  ): StartedExecution | FlowError;
}

/** An execution and the promise of its result (which never rejects). */
export interface StartedExecution {
  readonly execution: Execution;
  readonly result: Promise<ExecutionResult>;
}

type Outcome =
  | { readonly kind: 'next' }
  | { readonly kind: 'return'; readonly value: unknown; readonly address: string }
  | { readonly kind: 'error'; readonly error: FlowError; readonly address: string }
  | { readonly kind: 'canceled'; readonly address: string };

const NEXT: Outcome = Object.freeze({ kind: 'next' });

const DEFAULT_HTTP_TIMEOUT_MILLIS = 10_000;
const DEFAULT_RATE_LIMIT_RETRIES = 3;

/** Marks an abort as a cancel (the reason rejected sleeps and requests carry). */
class CanceledSignal extends Error {
  override readonly name = 'CanceledSignal';
}

export class Execution {
  readonly handle: ExecutionHandle;
  readonly flow: FlowDefinition;
  readonly #services: ExecutionServices;
  readonly #abort = new AbortController();
  readonly #parentSignal: AbortSignal | undefined;
  readonly #startedAtMillis: number;
  /** The card running, or the last one that ran. */
  #address: string;
  #resume: (() => void) | undefined;
  #ended = false;

  constructor(
    services: ExecutionServices,
    flow: FlowDefinition,
    handle: ExecutionHandle,
    parentSignal?: AbortSignal,
  ) {
    this.#services = services;
    this.flow = flow;
    this.handle = handle;
    this.#parentSignal = parentSignal;
    this.#startedAtMillis = services.clock.monotonicNow();
    this.#address = '';
  }

  get executionId(): string {
    return this.handle.executionId;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** True while a pause card waits for `resume()`. */
  get paused(): boolean {
    return this.#resume !== undefined;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Asks the execution to stop; it emits FLOW_CANCEL at the card it is in. False when already ended. */
  cancel(): boolean {
    if (this.#ended || this.#abort.signal.aborted) return false;
    this.#abort.abort(new CanceledSignal('execution canceled'));
    return true;
  }

  /** Continues a pause card. False when the execution is not paused. */
  resume(): boolean {
    const resume = this.#resume;
    if (resume === undefined) return false;
    this.#resume = undefined;
    resume();
    return true;
  }

  /** Runs the flow; resolves with the result, never rejects. Call once. */
  async start(input: Readonly<Record<string, unknown>>): Promise<ExecutionResult> {
    const parent = this.#parentSignal;
    const onParentAbort = (): void => {
      this.cancel();
    };
    if (parent?.aborted) this.cancel();
    else parent?.addEventListener('abort', onParentAbort, { once: true });
    let outcome: Outcome;
    try {
      outcome = await this.#runList(this.flow.cards, { input }, false);
    } catch (err: unknown) {
      // A bug in the interpreter: the execution still ends once, as a failure.
      outcome = {
        kind: 'error',
        error: {
          message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
          code: 'RUNTIME_INTERNAL',
          type: 'internal_error',
          retryable: false,
        },
        address: this.#address,
      };
    } finally {
      parent?.removeEventListener('abort', onParentAbort);
    }
    return this.#finish(outcome);
  }

  #finish(outcome: Outcome): ExecutionResult {
    this.#ended = true;
    this.#resume = undefined;
    const handle = this.handle;
    let result: Omit<ExecutionResult, 'steps' | 'durationMillis' | 'throttled'>;
    switch (outcome.kind) {
      case 'next':
      case 'return': {
        const address = outcome.kind === 'return' ? outcome.address : this.#address;
        handle.complete({ address });
        result = {
          executionId: handle.executionId,
          flowId: this.flow.id,
          status: 'completed',
          output: outcome.kind === 'return' ? outcome.value : undefined,
          address,
        };
        break;
      }
      case 'error':
        handle.fail({
          address: outcome.address,
          errorMessage: outcome.error.message,
          errorCode: outcome.error.code,
          errorType: outcome.error.type,
          fatal: true,
        });
        result = {
          executionId: handle.executionId,
          flowId: this.flow.id,
          status: 'failed',
          error: outcome.error,
          address: outcome.address,
        };
        break;
      case 'canceled':
        handle.cancel({ address: outcome.address });
        result = {
          executionId: handle.executionId,
          flowId: this.flow.id,
          status: 'canceled',
          address: outcome.address,
        };
        break;
    }
    return {
      ...result,
      steps: handle.stepCount,
      durationMillis: Math.max(0, Math.round(this.#services.clock.monotonicNow() - this.#startedAtMillis)),
      throttled: handle.isThrottled,
    };
  }

  async #runList(cards: readonly Card[], scope: Record<string, unknown>, inTry: boolean): Promise<Outcome> {
    for (const card of cards) {
      const outcome = await this.#runCard(card, scope, inTry);
      if (outcome.kind !== 'next') return outcome;
    }
    return NEXT;
  }

  /** One card, with the flow's retry policy for a failing card outside try cards. */
  async #runCard(card: Card, scope: Record<string, unknown>, inTry: boolean): Promise<Outcome> {
    const address = cardAddress(card);
    const services = this.#services;
    for (let attempt = 0; ; attempt++) {
      if (this.signal.aborted) return { kind: 'canceled', address: this.#address || address };
      if (this.handle.isThrottled && services.throttledCardDelayMillis > 0) {
        if (!(await this.#sleep(services.throttledCardDelayMillis))) {
          return { kind: 'canceled', address: this.#address || address };
        }
      }
      this.#address = address;
      this.handle.step();
      const outcome = await this.#execute(card, address, scope, inTry);
      if (outcome.kind !== 'error' || inTry || card.type === 'if' || card.type === 'try') return outcome;
      const retry = this.flow.retry;
      if (retry === undefined || !outcome.error.retryable || attempt >= retry.attempts) return outcome;
      this.handle.fail({
        address: outcome.address,
        errorMessage: outcome.error.message,
        errorCode: outcome.error.code,
        errorType: outcome.error.type,
        fatal: false,
        retryPolicy: 'flow',
        retryDelaySeconds: retry.delaySeconds,
      });
      if (!(await this.#sleep(retry.delaySeconds * 1000))) return { kind: 'canceled', address };
    }
  }

  async #execute(
    card: Card,
    address: string,
    scope: Record<string, unknown>,
    inTry: boolean,
  ): Promise<Outcome> {
    switch (card.type) {
      case 'compose':
        assign(scope, card.as, renderTemplate(card.template, scope));
        return NEXT;
      case 'text':
        assign(scope, card.as, textOperation(card, scope));
        return NEXT;
      case 'call':
        return this.#call(card, address, scope);
      case 'http':
        return this.#http(card, address, scope);
      case 'wait':
        this.handle.pause({ address, pauseDurationMillis: card.durationMillis });
        return (await this.#sleep(card.durationMillis)) ? NEXT : { kind: 'canceled', address };
      case 'pause':
        this.handle.pause({ address });
        return (await this.#waitForResume()) ? NEXT : { kind: 'canceled', address };
      case 'if':
        return this.#runList(
          evaluateCondition(card.condition, scope) ? card.ifTrue : (card.ifFalse ?? []),
          scope,
          inTry,
        );
      case 'try':
        return this.#try(card, address, scope, inTry);
      case 'return':
        return { kind: 'return', value: renderValue(card.value, scope), address };
      case 'fail':
        return {
          kind: 'error',
          error: {
            message: toText(renderValue(card.message, scope)),
            code: card.code ?? 'FLOW_ERROR',
            type: card.errorType ?? 'flow_error',
            retryable: false,
          },
          address,
        };
    }
  }

  async #call(card: CallCard, address: string, scope: Record<string, unknown>): Promise<Outcome> {
    const input = (renderValue(card.input ?? {}, scope) ?? {}) as Record<string, unknown>;
    const started = this.#services.startHelper(this, card.flowId, input);
    if (!('execution' in started)) return { kind: 'error', error: started, address };
    const child = started.execution;
    const result = await started.result;
    if (this.signal.aborted) return { kind: 'canceled', address };
    switch (result.status) {
      case 'completed':
        assign(scope, card.as, result.output);
        return NEXT;
      case 'failed': {
        const error = result.error as FlowError;
        return {
          kind: 'error',
          error: {
            message: `helper flow "${child.flow.name}" failed: ${error.message}`,
            code: error.code,
            type: 'helper_flow_error',
            retryable: error.retryable,
          },
          address,
        };
      }
      case 'canceled':
        return {
          kind: 'error',
          error: {
            message: `helper flow "${child.flow.name}" was canceled`,
            code: 'HELPER_CANCELED',
            type: 'helper_canceled',
            retryable: false,
          },
          address,
        };
    }
  }

  async #http(card: HttpCard, address: string, scope: Record<string, unknown>): Promise<Outcome> {
    const services = this.#services;
    const urlText = toText(renderValue(card.url, scope));
    let url: URL;
    try {
      url = new URL(urlText);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('not http(s)');
    } catch {
      return {
        kind: 'error',
        error: {
          message: `the HTTP card's URL ${JSON.stringify(urlText)} is not an absolute http(s) URL`,
          code: 'INVALID_URL',
          type: 'invalid_input',
          retryable: false,
        },
        address,
      };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(card.headers ?? {}))
      headers[name] = toText(renderValue(value, scope));
    const body = card.body === undefined ? undefined : renderValue(card.body, scope);
    const maxRateLimitRetries = card.maxRateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES;
    for (let rateLimited = 0; ; rateLimited++) {
      const answer = await services.clock.external(
        exchange({
          method: card.method,
          url,
          headers,
          body,
          timeoutMillis: card.timeoutMillis ?? DEFAULT_HTTP_TIMEOUT_MILLIS,
          signal: this.signal,
          network: services.network,
        }),
      );
      if (answer.kind === 'aborted' || this.signal.aborted) return { kind: 'canceled', address };
      if (answer.kind === 'failure') {
        return {
          kind: 'error',
          error: {
            message: answer.message,
            code: answer.code,
            type: answer.timedOut ? 'timeout' : 'network_error',
            retryable: true,
          },
          address,
        };
      }
      const { status } = answer;
      if (status === 429) {
        if (rateLimited >= maxRateLimitRetries) {
          return {
            kind: 'error',
            error: { ...thirdPartyError(answer.body, status, url), type: 'rate_limited' },
            address,
          };
        }
        const backoffSeconds = this.#backoffSeconds(answer.retryAfter, rateLimited);
        this.handle.rateLimited({ address, statusCode: status, backoffSeconds, hostname: hostnameOf(url) });
        if (!(await this.#sleep(backoffSeconds * 1000))) return { kind: 'canceled', address };
        continue;
      }
      if (status >= 200 && status < 300) {
        assign(scope, card.as, { status, body: answer.body });
        return NEXT;
      }
      return { kind: 'error', error: thirdPartyError(answer.body, status, url), address };
    }
  }

  /** Whole seconds: Retry-After when usable (capped), else 2^n × the initial backoff, jittered to [½, 1]. */
  #backoffSeconds(retryAfter: string | undefined, previous: number): number {
    const services = this.#services;
    let millis = parseRetryAfterMillis(retryAfter, services.clock.now());
    if (millis === undefined) {
      const ceiling = Math.min(
        services.rateLimitMaxBackoffMillis,
        services.rateLimitInitialBackoffMillis * 2 ** Math.min(previous, 30),
      );
      millis = ceiling * (0.5 + services.random() / 2);
    }
    return Math.max(1, Math.ceil(Math.min(millis, services.maxRetryAfterMillis) / 1000));
  }

  async #try(
    card: TryCard,
    address: string,
    scope: Record<string, unknown>,
    inTry: boolean,
  ): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#runList(card.body, scope, true);
      if (outcome.kind !== 'error') return outcome;
      const retry = card.retry;
      if (retry !== undefined && outcome.error.retryable && attempt < retry.attempts) {
        this.handle.fail({
          address: outcome.address,
          errorMessage: outcome.error.message,
          errorCode: outcome.error.code,
          errorType: outcome.error.type,
          fatal: false,
          retryPolicy: 'handler',
          retryDelaySeconds: retry.delaySeconds,
        });
        if (!(await this.#sleep(retry.delaySeconds * 1000)))
          return { kind: 'canceled', address: outcome.address };
        continue;
      }
      const { message, code, type } = outcome.error;
      scope[card.errorAs ?? 'error'] = { message, code, type, address: outcome.address };
      this.#address = address;
      return this.#runList(card.catch, scope, inTry);
    }
  }

  /** False when the execution was canceled during the sleep. */
  async #sleep(millis: number): Promise<boolean> {
    try {
      await this.#services.clock.sleep(millis, { signal: this.signal });
      return true;
    } catch {
      return false;
    }
  }

  #waitForResume(): Promise<boolean> {
    const signal = this.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        this.#resume = undefined;
        resolve(false);
      };
      this.#resume = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function assign(scope: Record<string, unknown>, name: string | undefined, value: unknown): void {
  if (name !== undefined) scope[name] = value;
}

function textOperation(card: TextCard, scope: Scope): unknown {
  const value = renderValue(card.value, scope);
  const argument = toText(renderValue(card.argument, scope));
  switch (card.operation) {
    case 'uppercase':
      return toText(value).toUpperCase();
    case 'lowercase':
      return toText(value).toLowerCase();
    case 'capitalize':
      return toText(value)
        .toLowerCase()
        .replace(
          /(^|[\s'-])(\p{L})/gu,
          (_m, before: string, letter: string) => before + letter.toUpperCase(),
        );
    case 'trim':
      return toText(value).trim();
    case 'concatenate':
      return (Array.isArray(value) ? value : [value]).map(toText).join(argument);
    case 'replace':
      return toText(value).replaceAll(argument, toText(renderValue(card.replacement, scope)));
    case 'split':
      return argument === '' ? [toText(value)] : toText(value).split(argument);
  }
}

/** `[::1]` → `::1`: the event's `hostname` is the host without URL brackets. */
function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * A third party's error answer as FLOW_FAIL reports it: its own code and message when the JSON body
 * has them (`errorCode`/`code`/`error.code`, `errorSummary`/`message`/`error.message`), else
 * `HTTP_<status>`. Retryable: 408, 429 and 5xx.
 */
function thirdPartyError(body: unknown, status: number, url: URL): FlowError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const nested =
    typeof fields.error === 'object' && fields.error !== null
      ? (fields.error as Record<string, unknown>)
      : {};
  const pick = (...values: unknown[]): string | undefined =>
    values.find((v): v is string => typeof v === 'string' && v !== '');
  const code = pick(fields.errorCode, fields.code, nested.code) ?? `HTTP_${status}`;
  const message =
    pick(
      fields.errorSummary,
      fields.message,
      nested.message,
      typeof fields.error === 'string' ? fields.error : undefined,
    ) ?? `${url.host} answered HTTP ${status}`;
  return { message, code, type: 'http_error', retryable: status === 408 || status === 429 || status >= 500 };
}
