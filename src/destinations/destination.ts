import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { NetworkPolicy } from '../net/network-policy.js';

/**
 * The destination contract (ARCHITECTURE.md, "A destination is small").
 *
 * A destination encodes and sends one batch, and says what happened as a value. Retry, backoff,
 * batching, bisection, concurrency, health, dead letters and metrics belong to the stream runner,
 * written once; a destination never retries, sleeps or throws for an expected failure.
 */

/** One event on its way out, after the stream's filter and transforms. */
export interface OutboundEvent {
  readonly seq: number;
  /** Canonical event type. */
  readonly eventType: string;
  readonly orgId: string;
  readonly flowId: string;
  readonly executionId: string;
  readonly idempotencyKey: string;
  /** The event's own `timestamp` field as received (ISO 8601 when valid). */
  readonly timestamp: string;
  /** The event object to deliver (parsed from `json`). Never mutate it. */
  readonly event: Readonly<Record<string, unknown>>;
  /** `event` as JSON text, byte-identical to what ingest stored when no transform changed it. */
  readonly json: string;
}

/** Why a send did not succeed. `code` is stable (e.g. `HTTP_503`, `ECONNRESET`, `TIMEOUT`, `HEC_6`). */
export interface DeliveryError {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  /** The destination's answer, truncated to 2 KiB, for dead letters and health. */
  readonly response?: string;
}

export type ItemOutcome =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retryable'; readonly error: DeliveryError }
  | { readonly outcome: 'rejected'; readonly error: DeliveryError };

export type SendResult =
  /** Every event of the batch was acknowledged by the destination. */
  | { readonly outcome: 'delivered'; readonly bytes: number }
  /** Nothing can be assumed delivered; send the same events again later. */
  | { readonly outcome: 'retryable'; readonly error: DeliveryError; readonly retryAfterMillis?: number }
  /**
   * The destination refused the batch because of its content (400, 413, 422 ...). The runner
   * bisects the batch to find the poison event; a refused batch of one is dead-lettered.
   */
  | { readonly outcome: 'rejected'; readonly error: DeliveryError }
  /**
   * The destination refuses the stream itself (401/403/404, bad settings): nothing will get through
   * until someone fixes it. The runner marks the stream DEGRADED, retries slowly, then pauses.
   */
  | { readonly outcome: 'fatal'; readonly error: DeliveryError }
  /** Per-event results, in batch order (EventBridge PutEvents, Elasticsearch bulk ...). */
  | { readonly outcome: 'partial'; readonly bytes: number; readonly items: readonly ItemOutcome[] };

export interface Destination {
  /** The most events one `send` takes. The runner never passes more. */
  readonly maxBatchEvents: number;
  /** The most bytes of event JSON one `send` takes (the sum of `json` lengths), if the service limits it. */
  readonly maxBatchBytes?: number;
  /** The most bytes one event's JSON may have; the runner dead-letters a larger event without sending it. */
  readonly maxEventBytes?: number;
  send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult>;
  /** Releases sockets and timers. Idempotent. */
  close(): Promise<void>;
}

export type StreamFormat = 'okta' | 'cloudevents';

export interface DestinationContext {
  readonly streamId: string;
  readonly streamName: string;
  /** How each event is shaped before framing: the Okta JSON as received, or a CloudEvents 1.0 envelope. */
  readonly format: StreamFormat;
  readonly network: NetworkPolicy;
  readonly logger: Logger;
  /** How long one send may take before it is aborted and counted as a `TIMEOUT`. Default 30 s. */
  readonly timeoutMillis: number;
}

export interface DestinationDefinition<Settings = Record<string, unknown>> {
  /** The stream `type` (SPEC §4): `webhook`, `splunk_hec`, ... */
  readonly type: string;
  /** TypeBox schema of `settings`; unknown settings are refused. */
  readonly settingsSchema: TSchema;
  /**
   * JSON Pointers (into settings) of secret values, redacted in every response and log line and
   * encrypted at rest. A final `*` means every value of that object (`/headers/*`).
   */
  readonly secretSettings: readonly string[];
  /** The hosts this stream connects to, checked against the network policy when the stream is saved. */
  targets(settings: Settings): readonly string[];
  create(settings: Settings, context: DestinationContext): Destination;
}
