import type { DefinitionProblem } from './flow-definition.js';

/**
 * Errors of the runtime's own API (not of flows): thrown by the constructor and by `invoke`,
 * `start` for a call that cannot work. Each has a stable code; the control server maps them to
 * HTTP statuses.
 */
export const RUNTIME_ERROR_CODES = [
  /** A flow definition is malformed, or the set is inconsistent (`problems` lists each). */
  'RUNTIME_INVALID_DEFINITION',
  /** An option that cannot work (a negative delay, a limit of 0 ...). */
  'RUNTIME_INVALID_OPTION',
  /** No flow has this id. */
  'RUNTIME_UNKNOWN_FLOW',
  /** The flow is a helper flow: only a call card of another flow can start it. */
  'RUNTIME_NOT_INVOCABLE',
  /** The runtime was stopped. */
  'RUNTIME_STOPPED',
] as const;

export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

export class FlowRuntimeError extends Error {
  override readonly name = 'FlowRuntimeError';
  readonly code: RuntimeErrorCode;
  readonly problems: readonly DefinitionProblem[];

  constructor(code: RuntimeErrorCode, message: string, problems: readonly DefinitionProblem[] = []) {
    super(message);
    this.code = code;
    this.problems = problems;
  }
}

/**
 * Why a card failed, as FLOW_FAIL reports it: `error_message`, `error_code` (the third party's own
 * code when it gave one), `error_type` (a small enumeration, see docs/runtime.md). `retryable`
 * says whether a retry policy may try again (5xx, network errors, timeouts, rate limits).
 */
export interface FlowError {
  readonly message: string;
  readonly code: string;
  readonly type: FlowErrorType;
  readonly retryable: boolean;
}

export const FLOW_ERROR_TYPES = [
  /** The third party answered with an error status. */
  'http_error',
  /** No answer: connection refused or reset, DNS. */
  'network_error',
  /** No answer within the card's timeout. */
  'timeout',
  /** The third party kept answering 429 past the card's rate-limit retries. */
  'rate_limited',
  /** A fail card ran (the flow's own error), unless it names another type. */
  'flow_error',
  /** A called helper flow failed. */
  'helper_flow_error',
  /** A called helper flow was canceled. */
  'helper_canceled',
  /** Helper flows nested deeper than the runtime's `maxDepth`. */
  'limit_exceeded',
  /** A card's input could not be used (e.g. an HTTP card's URL). */
  'invalid_input',
] as const;

export type FlowErrorType = (typeof FLOW_ERROR_TYPES)[number] | (string & {});
