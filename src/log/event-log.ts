/**
 * The event log: the single source of truth of the data path (ARCHITECTURE.md, rule 2).
 *
 * Invariants every backend keeps:
 * - `seq` is assigned at append, starts at 1 and strictly increases; it is never reused, even after
 *   retention deletes the events that held it.
 * - `append` is all or nothing, and resolves only once the events are durable (a process or machine
 *   crash after it resolves loses none of them).
 * - An `idempotencyKey` is stored at most once among retained events: a key already stored, or
 *   repeated within the same append, counts as a duplicate and is not stored again.
 * - `json` is the validated event's JSON text exactly as it will be delivered (no re-serialization).
 */

export interface StoredEvent {
  readonly seq: number;
  /** When the log stored the event (epoch milliseconds). Replay-from-timestamp uses this clock. */
  readonly ingestedAtMillis: number;
  readonly orgId: string;
  /** The canonical event type (aliases are resolved before storage; `json` keeps what was received). */
  readonly eventType: string;
  readonly flowId: string;
  readonly executionId: string;
  readonly idempotencyKey: string;
  readonly json: string;
}

export type NewEvent = Omit<StoredEvent, 'seq' | 'ingestedAtMillis'>;

export interface AppendResult {
  readonly accepted: number;
  readonly duplicates: number;
  /** One entry per input event: its new seq, or `null` when it was a duplicate. */
  readonly seqs: readonly (number | null)[];
}

export interface RetentionPolicy {
  /** Events older than this are deleted. Default: 7 days. */
  readonly maxAgeMillis: number;
  /** The oldest events are deleted while the stored events' JSON exceeds this many bytes. Default: 10 GiB. */
  readonly maxBytes: number;
}

/** The defaults stated on `RetentionPolicy`: 7 days, 10 GiB. */
export const DEFAULT_RETENTION_POLICY: RetentionPolicy = Object.freeze({
  maxAgeMillis: 7 * 24 * 60 * 60 * 1000,
  maxBytes: 10 * 1024 ** 3,
});

export interface RetentionResult {
  readonly deleted: number;
  /** The lowest seq still stored after retention ran (lastSeq + 1 when the log is empty). */
  readonly firstSeq: number;
}

export interface EventLogStats {
  readonly events: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** Thrown by `append` when the log is over its hard size limit; ingest answers 503 + Retry-After. */
export class StorageFullError extends Error {
  readonly code = 'FS_STORAGE_FULL';
  constructor(message = 'the event log is over its size limit') {
    super(message);
    this.name = 'StorageFullError';
  }
}

export interface EventLog {
  append(events: readonly NewEvent[]): Promise<AppendResult>;
  /** Events with `seq > afterSeq`, ascending, at most `limit` of them. */
  readAfter(afterSeq: number, limit: number): Promise<readonly StoredEvent[]>;
  /** The highest seq ever assigned (0 before the first append). */
  lastSeq(): number;
  /** The lowest seq still stored; `lastSeq() + 1` when nothing is stored. */
  firstSeq(): number;
  /** The lowest stored seq ingested at or after `timeMillis`; `lastSeq() + 1` when there is none. */
  seqAtOrAfter(timeMillis: number): number;
  enforceRetention(): RetentionResult;
  stats(): EventLogStats;
  /** Calls `listener` after each durable append with the new `lastSeq`. Returns the unsubscribe function. */
  onAppend(listener: (lastSeq: number) => void): () => void;
  close(): Promise<void>;
}
