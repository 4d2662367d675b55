import {
  type AppendResult,
  DEFAULT_RETENTION_POLICY,
  type EventLog,
  type EventLogStats,
  type NewEvent,
  type RetentionPolicy,
  type RetentionResult,
  StorageFullError,
  type StoredEvent,
} from '../../src/log/event-log.js';
import { EventLogError } from '../../src/log/event-log-error.js';

/**
 * The event log's contract as the simplest possible in-memory program: an array of stored events,
 * a set of keys, a counter. The property test runs the SQLite log and this model side by side; any
 * observable difference is a bug in one of them. Written from `event-log.ts` and the documented
 * rules of the SQLite backend (docs/storage.md), not from its code:
 * - an append is served whole, in call order; `ingestedAtMillis` is max(floor(now), last one used);
 * - an append that would take the stored JSON bytes over `maxBytes` stores nothing (FS_STORAGE_FULL);
 * - an event with a missing or non-string field, an empty key or empty json rejects the whole
 *   append (FS_LOG_INVALID_EVENT);
 * - retention deletes from the oldest while the oldest is older than maxAgeMillis (ingested before
 *   now - maxAgeMillis) or the stored bytes exceed the policy's maxBytes.
 */
export class MemoryEventLog implements EventLog {
  private readonly stored: StoredEvent[] = [];
  private readonly keys = new Set<string>();
  private last = 0;
  private bytes = 0;
  private lastIngestedAt = 0;
  private readonly listeners = new Set<(lastSeq: number) => void>();
  private readonly retention: RetentionPolicy;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(options: { retention?: Partial<RetentionPolicy>; maxBytes?: number; now: () => number }) {
    this.retention = { ...DEFAULT_RETENTION_POLICY, ...options.retention };
    this.maxBytes = options.maxBytes ?? 20 * 1024 ** 3;
    this.now = options.now;
  }

  async append(events: readonly NewEvent[]): Promise<AppendResult> {
    for (const event of events) {
      const record = event as unknown as Record<string, unknown>;
      for (const field of ['orgId', 'eventType', 'flowId', 'executionId', 'idempotencyKey', 'json']) {
        if (typeof record[field] !== 'string') throw new EventLogError('FS_LOG_INVALID_EVENT', `${field}`);
      }
      if (event.idempotencyKey === '' || event.json === '')
        throw new EventLogError('FS_LOG_INVALID_EVENT', 'empty');
    }
    const ingestedAtMillis = Math.max(Math.floor(this.now()), this.lastIngestedAt);
    const seen = new Set<string>();
    const added: StoredEvent[] = [];
    const seqs: (number | null)[] = [];
    let addedBytes = 0;
    for (const event of events) {
      if (this.keys.has(event.idempotencyKey) || seen.has(event.idempotencyKey)) {
        seqs.push(null);
        continue;
      }
      seen.add(event.idempotencyKey);
      const seq = this.last + added.length + 1;
      added.push({ ...event, seq, ingestedAtMillis });
      addedBytes += Buffer.byteLength(event.json, 'utf8');
      seqs.push(seq);
    }
    if (this.bytes + addedBytes > this.maxBytes) throw new StorageFullError();
    for (const event of added) {
      this.stored.push(event);
      this.keys.add(event.idempotencyKey);
    }
    this.bytes += addedBytes;
    if (added.length > 0) {
      this.last += added.length;
      this.lastIngestedAt = ingestedAtMillis;
      for (const listener of this.listeners) listener(this.last);
    }
    return { accepted: added.length, duplicates: events.length - added.length, seqs };
  }

  async readAfter(afterSeq: number, limit: number): Promise<readonly StoredEvent[]> {
    return this.stored.filter((event) => event.seq > afterSeq).slice(0, limit);
  }

  lastSeq(): number {
    return this.last;
  }

  firstSeq(): number {
    return this.stored[0]?.seq ?? this.last + 1;
  }

  seqAtOrAfter(timeMillis: number): number {
    return this.stored.find((event) => event.ingestedAtMillis >= timeMillis)?.seq ?? this.last + 1;
  }

  enforceRetention(): RetentionResult {
    const cutoff = Math.floor(this.now()) - this.retention.maxAgeMillis;
    let deleted = 0;
    for (;;) {
      const oldest = this.stored[0];
      if (oldest === undefined) break;
      if (oldest.ingestedAtMillis >= cutoff && this.bytes <= this.retention.maxBytes) break;
      this.stored.shift();
      this.keys.delete(oldest.idempotencyKey);
      this.bytes -= Buffer.byteLength(oldest.json, 'utf8');
      deleted++;
    }
    return { deleted, firstSeq: this.firstSeq() };
  }

  stats(): EventLogStats {
    return { events: this.stored.length, bytes: this.bytes, firstSeq: this.firstSeq(), lastSeq: this.last };
  }

  onAppend(listener: (lastSeq: number) => void): () => void {
    const entry = (lastSeq: number) => listener(lastSeq);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async close(): Promise<void> {}
}
