import type { FlowEvent } from '../../schema/definitions.js';

/**
 * Where an ExecutionLog puts its events. The shape follows OpenTelemetry's log record processor:
 * a synchronous hand-off plus flush and shutdown.
 *
 * Invariants every sink keeps:
 * - `emit` returns at once, never throws and never waits for I/O: it queues or drops (and counts).
 * - `flush` resolves when every event emitted before the call is settled: sent, refused, given up
 *   or dropped. It never rejects.
 * - `shutdown` flushes within the sink's deadline, then releases timers and sockets. It is
 *   idempotent (a second call returns the first call's promise) and never rejects; events emitted
 *   after it are dropped and counted.
 */
export interface EventSink {
  emit(event: FlowEvent): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  stats(): SinkStats;
}

/**
 * Counters (`…Total`, monotonic) and gauges of a sink. When the server's answers are consistent,
 * `emittedTotal = queued + inFlight + acceptedTotal + duplicatesTotal + rejectedTotal + failedTotal + droppedTotal`.
 */
export interface SinkStats {
  /** Events handed to `emit`. */
  readonly emittedTotal: number;
  /** Events waiting in the queue (gauge). */
  readonly queued: number;
  /** Events in the batch being sent or waiting to be retried (gauge). */
  readonly inFlight: number;
  /** Events in requests the receiver answered with 2xx. */
  readonly sentTotal: number;
  /** Events the receiver stored. */
  readonly acceptedTotal: number;
  /** Events the receiver already had (same `idempotency_key`), stored once. */
  readonly duplicatesTotal: number;
  /** Events the receiver refused for their content (never retried). */
  readonly rejectedTotal: number;
  /** Events never queued (queue full, after shutdown, not serializable) or still queued at the shutdown deadline. */
  readonly droppedTotal: number;
  /** Events given up after being tried: credentials refused, retry time used up, shutdown deadline. */
  readonly failedTotal: number;
  /** Requests re-sent after a retryable failure. */
  readonly retriesTotal: number;
  /** Requests made. */
  readonly requestsTotal: number;
}

export const EMPTY_SINK_STATS: SinkStats = Object.freeze({
  emittedTotal: 0,
  queued: 0,
  inFlight: 0,
  sentTotal: 0,
  acceptedTotal: 0,
  duplicatesTotal: 0,
  rejectedTotal: 0,
  droppedTotal: 0,
  failedTotal: 0,
  retriesTotal: 0,
  requestsTotal: 0,
});
