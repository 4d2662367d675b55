/**
 * What the SDK reports instead of throwing (Temporal's sink rule: code an engine calls never throws
 * into it). Every report has a stable code; `onError` receives them, counters sum them.
 *
 * Configuration mistakes are the one exception: constructors (`new ExecutionLog`, `new HttpSink`)
 * throw `SdkOptionError` for a bad option, because that happens once at start-up, not on the
 * engine's hot path.
 */

export const SDK_ERROR_CODES = [
  /** A caller value was unusable (a step count of -1, an address that is not a string ...); the call was ignored or the field left out. */
  'SDK_INVALID_INPUT',
  /** The event built from the caller's values fails strict validation; it was still emitted when lenient validation accepts it. */
  'SDK_EVENT_NOT_STRICT',
  /** The event fails even lenient validation (ingest would refuse it); it was not emitted. */
  'SDK_EVENT_INVALID',
  /** A call on a handle whose execution already ended (complete, fatal fail, cancel); ignored. */
  'SDK_EXECUTION_ENDED',
  /** The sink's `emit`, `flush` or `shutdown` threw or rejected. */
  'SDK_SINK_ERROR',
  /** An injected function (clock, UUID, hashing) threw; a safe fallback was used. */
  'SDK_INTERNAL_ERROR',
] as const;

export type SdkErrorCode = (typeof SDK_ERROR_CODES)[number];

export interface SdkErrorReport {
  readonly code: SdkErrorCode;
  /** One sentence for a person. */
  readonly message: string;
  /** The execution concerned, when there is one. */
  readonly executionId?: string;
  /** The event type concerned, when there is one. */
  readonly eventType?: string;
  /** Validation problems (JSON Pointer, code, message) for the two SDK_EVENT_* codes. */
  readonly problems?: readonly { readonly path: string; readonly code: string; readonly message: string }[];
  /** The thrown value, for SDK_SINK_ERROR and SDK_INTERNAL_ERROR. */
  readonly cause?: unknown;
}

/** Thrown by constructors only, for an option that cannot work. */
export class SdkOptionError extends Error {
  readonly code = 'SDK_INVALID_OPTION';
  override readonly name = 'SdkOptionError';
}

/** `value` when it is a finite number ≥ `min` (an integer when `integer`), else a SdkOptionError. */
export function checkNumberOption(
  name: string,
  value: number | undefined,
  fallback: number,
  { min = 0, integer = true }: { readonly min?: number; readonly integer?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new SdkOptionError(
      `${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}
