import type {
  AppendResult,
  EventLog,
  EventLogStats,
  NewEvent,
  RetentionPolicy,
  RetentionResult,
  StoredEvent,
} from '../../../src/log/event-log.js';

/**
 * An in-memory EventLog for the stream tests, keeping every invariant of the interface: seqs from
 * 1, strictly increasing, never reused; all-or-nothing appends; idempotency keys stored once among
 * retained events; `onAppend` after each append. Retention follows `RetentionPolicy`; tests can
 * also cut the log directly with `deleteThrough(seq)`, as a retention run would.
 */
export class MemoryEventLog implements EventLog {
  #events: StoredEvent[] = [];
  #lastSeq = 0;
  readonly #keys = new Set<string>();
  readonly #listeners = new Set<(lastSeq: number) => void>();
  readonly #now: () => number;
  readonly #retention: RetentionPolicy;
  #closed = false;
  /** readAfter calls so far (tests check that an idle runner does not poll). */
  reads = 0;

  constructor(options: { now?: () => number; retention?: Partial<RetentionPolicy> } = {}) {
    this.#now = options.now ?? Date.now;
    this.#retention = {
      maxAgeMillis: options.retention?.maxAgeMillis ?? 7 * 24 * 3600 * 1000,
      maxBytes: options.retention?.maxBytes ?? 10 * 1024 ** 3,
    };
  }

  async append(events: readonly NewEvent[]): Promise<AppendResult> {
    if (this.#closed) throw new Error('the event log is closed');
    const seqs: (number | null)[] = [];
    const batchKeys = new Set<string>();
    const stored: StoredEvent[] = [];
    let seq = this.#lastSeq;
    const now = this.#now();
    for (const event of events) {
      if (this.#keys.has(event.idempotencyKey) || batchKeys.has(event.idempotencyKey)) {
        seqs.push(null);
        continue;
      }
      batchKeys.add(event.idempotencyKey);
      seq++;
      seqs.push(seq);
      stored.push({ ...event, seq, ingestedAtMillis: now });
    }
    this.#events.push(...stored);
    for (const key of batchKeys) this.#keys.add(key);
    this.#lastSeq = seq;
    if (stored.length > 0) for (const listener of [...this.#listeners]) listener(this.#lastSeq);
    return { accepted: stored.length, duplicates: events.length - stored.length, seqs };
  }

  async readAfter(afterSeq: number, limit: number): Promise<readonly StoredEvent[]> {
    if (this.#closed) throw new Error('the event log is closed');
    this.reads++;
    const start = this.#indexAfter(afterSeq);
    return this.#events.slice(start, start + Math.max(0, limit));
  }

  lastSeq(): number {
    return this.#lastSeq;
  }

  firstSeq(): number {
    return this.#events[0]?.seq ?? this.#lastSeq + 1;
  }

  seqAtOrAfter(timeMillis: number): number {
    const found = this.#events.find((e) => e.ingestedAtMillis >= timeMillis);
    return found?.seq ?? this.#lastSeq + 1;
  }

  enforceRetention(): RetentionResult {
    const cutoff = this.#now() - this.#retention.maxAgeMillis;
    let drop = 0;
    while (drop < this.#events.length && (this.#events[drop] as StoredEvent).ingestedAtMillis < cutoff)
      drop++;
    let bytes = this.#bytesFrom(drop);
    while (drop < this.#events.length && bytes > this.#retention.maxBytes) {
      bytes -= Buffer.byteLength((this.#events[drop] as StoredEvent).json, 'utf8');
      drop++;
    }
    this.#drop(drop);
    return { deleted: drop, firstSeq: this.firstSeq() };
  }

  /** Deletes every event with seq ≤ `seq`, as retention does. */
  deleteThrough(seq: number): number {
    const count = this.#indexAfter(seq);
    this.#drop(count);
    return count;
  }

  stats(): EventLogStats {
    return {
      events: this.#events.length,
      bytes: this.#bytesFrom(0),
      firstSeq: this.firstSeq(),
      lastSeq: this.#lastSeq,
    };
  }

  onAppend(listener: (lastSeq: number) => void): () => void {
    const own = (lastSeq: number): void => listener(lastSeq);
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  #drop(count: number): void {
    for (const event of this.#events.slice(0, count)) this.#keys.delete(event.idempotencyKey);
    this.#events = this.#events.slice(count);
  }

  #bytesFrom(index: number): number {
    let bytes = 0;
    for (let i = index; i < this.#events.length; i++)
      bytes += Buffer.byteLength((this.#events[i] as StoredEvent).json, 'utf8');
    return bytes;
  }

  /** Index of the first event with seq > afterSeq. */
  #indexAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#events[mid] as StoredEvent).seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
