import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
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
} from './event-log.js';
import { EventLogError } from './event-log-error.js';
import { KeyIndex, keyTag } from './key-index.js';
import { migrate } from './sqlite-schema.js';

/**
 * The embedded event log: one SQLite database (`<directory>/events.db`) in WAL mode, written by one
 * connection that holds an exclusive lock for as long as the log is open.
 *
 * Durability: `synchronous=FULL`, so every commit fsyncs the WAL before `append` resolves; an
 * acknowledged append survives a kill of the process and a power loss of the machine (as far as
 * the disk honours fsync).
 *
 * Group commit: better-sqlite3 is synchronous, so a commit blocks the event loop; `append` therefore
 * only queues its events and schedules one flush with `setImmediate`. Every append made before the
 * flush runs (same tick, same microtask burst, or other I/O callbacks of the same loop turn) is
 * written in that one transaction with one fsync, each caller inside its own SAVEPOINT: a caller
 * whose events fail (storage full, a write error) is rolled back alone, the others commit. Callers
 * are served in call order, so when two of them send the same `idempotencyKey` the first stores it
 * and the second sees a duplicate. A flush takes at most MAX_GROUP_EVENTS events (but always at
 * least one caller); the rest go into the next flush, so one loop turn blocks for a bounded time.
 *
 * Duplicates: an `idempotencyKey` is looked up in the in-memory KeyIndex (key-index.ts explains
 * why not a SQLite UNIQUE index), each candidate confirmed against the stored key, before the
 * event is inserted; the index is updated inside the transaction and undone with it.
 *
 * Retention deletes the oldest events (a prefix of the log, never holes: `ingestedAtMillis` never
 * decreases with seq) in transactions of at most `retentionChunkRows` rows. `enforceRetention()`
 * runs all chunks synchronously; `runRetention()` and the optional timer yield to the event loop
 * between chunks, so appends and reads interleave with a long retention run.
 *
 * docs/storage.md describes the file format, invariants and limits.
 */

export const EVENT_LOG_FILE_NAME = 'events.db';
/** Default hard limit on stored JSON bytes: 20 GiB (twice the default retention size). */
export const DEFAULT_MAX_BYTES = 20 * 1024 ** 3;
/** Default most rows per retention transaction. */
export const DEFAULT_RETENTION_CHUNK_ROWS = 10_000;
/** Most events one group commit takes (a single larger append still goes alone, whole). */
export const MAX_GROUP_EVENTS = 10_000;

const DEFAULT_BUSY_TIMEOUT_MILLIS = 2000;
const DEFAULT_CACHE_SIZE_MIB = 64;
/**
 * Page size of a new database (an existing file keeps its own). 16 KiB rather than SQLite's 4 KiB:
 * SQLite writes the WAL one page per system call, and the log's commits are large (a group of
 * batches), so bigger pages cut the system time of an append by about a third on the bench machine.
 */
const PAGE_SIZE_BYTES = 16_384;
/** WAL pages after which a commit checkpoints the WAL into the database: 1024 × 16 KiB = 16 MiB. */
const WAL_AUTOCHECKPOINT_PAGES = 1024;
/** A WAL that grew during a burst is truncated back to this after a checkpoint: 64 MiB. */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface SqliteEventLogOptions {
  /** The data directory; created with its parents when missing. The database is `events.db` in it. */
  readonly directory: string;
  /** Missing fields take DEFAULT_RETENTION_POLICY's (7 days, 10 GiB). `Infinity` disables a rule. */
  readonly retention?: Partial<RetentionPolicy>;
  /**
   * Hard limit on the stored events' JSON bytes: an append that would take the log over it throws
   * StorageFullError and stores nothing. Default 20 GiB. Keep it above `retention.maxBytes`, so the
   * gap absorbs what arrives between two retention runs.
   */
  readonly maxBytes?: number;
  /** The clock for `ingestedAtMillis` and retention age (epoch milliseconds). Default `Date.now`. */
  readonly now?: () => number;
  /** Runs `runRetention()` every this many milliseconds on an unref'd timer. Default 0: no timer. */
  readonly retentionIntervalMillis?: number;
  /** Most rows deleted per retention transaction (one fsync each). Default 10,000. */
  readonly retentionChunkRows?: number;
  /** How long opening waits for a lock held by another connection before FS_LOG_LOCKED. Default 2000 ms. */
  readonly busyTimeoutMillis?: number;
  /** SQLite page cache size in MiB. Default 64. */
  readonly cacheSizeMiB?: number;
  /**
   * Receives errors that have no caller to go to: a failed background retention run, an `onAppend`
   * listener that threw. Default: `process.emitWarning`.
   */
  readonly onError?: (error: unknown, source: 'retention' | 'listener') => void;
}

export interface SqliteEventLogStats extends EventLogStats {
  /** `append` calls settled since open (resolved or rejected after reaching a group commit). */
  readonly appendCalls: number;
  /** Write transactions that carried appends since open: one per group commit, one fsync each. */
  readonly groupCommits: number;
  /** Events deleted by retention since open. */
  readonly retentionDeleted: number;
  /** Memory held by the in-memory idempotency key index, in bytes. */
  readonly keyIndexBytes: number;
}

export interface IntegrityReport {
  readonly ok: boolean;
  /** Empty when ok; otherwise one sentence per problem found. */
  readonly problems: readonly string[];
}

export interface SqliteEventLog extends EventLog {
  /** Absolute path of `events.db`. */
  readonly databasePath: string;
  readonly retentionPolicy: RetentionPolicy;
  /** The hard limit on stored JSON bytes (see SqliteEventLogOptions.maxBytes). */
  readonly maxBytes: number;
  /** `lastSeq`, `firstSeq` and `stats` keep answering (the last known values) after `close()`. */
  stats(): SqliteEventLogStats;
  /**
   * `enforceRetention()` that yields to the event loop between chunks. Calls made while a run is
   * under way share it. Stops early (with what it deleted so far) when the log is closed.
   */
  runRetention(): Promise<RetentionResult>;
  /**
   * SQLite's `PRAGMA integrity_check` plus the log's own invariants (counters match the rows,
   * `ingested_at` never decreases, byte counts match the JSON). Reads the whole file: O(size).
   */
  verifyIntegrity(): IntegrityReport;
}

/** Opens (creating when missing) the event log in `options.directory`. Throws EventLogError. */
export function openSqliteEventLog(options: SqliteEventLogOptions): SqliteEventLog {
  return SqliteEventLogImpl.open(options);
}

interface LogState {
  lastSeq: number;
  events: number;
  bytes: number;
  lastIngestedAt: number;
  /** Seq of the oldest stored event; meaningless while `events` is 0. */
  firstStoredSeq: number;
}

/** The keys a group commit added to the KeyIndex, in seq order: undone if the commit fails. */
interface AddedKeys {
  readonly firstSeq: number;
  readonly tags: number[];
}

interface PendingAppend {
  readonly events: readonly NewEvent[];
  readonly byteLengths: readonly number[];
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly result: AppendResult }
  | { readonly ok: false; readonly error: unknown };

type Statement = Database.Statement<unknown[], unknown>;

/** A raw `readAfter` row: seq, ingested_at, org_id, event_type, flow_id, execution_id, idempotency_key, json. */
type StoredRow = [number, number, string, string, string, string, string, string];
/** A raw retention candidate: seq, ingested_at, bytes, idempotency_key. */
type RetentionRow = [number, number, number, string];

interface Statements {
  readonly begin: Statement;
  readonly commit: Statement;
  readonly rollback: Statement;
  readonly savepoint: Statement;
  readonly release: Statement;
  readonly rollbackTo: Statement;
  readonly insert: Statement;
  readonly keyAt: Statement;
  readonly insertBlock: Statement;
  readonly updateState: Statement;
  readonly updateCounts: Statement;
  readonly readAfter: Statement;
  readonly seqAtOrAfter: Statement;
  readonly retentionCandidates: Statement;
  readonly deleteThrough: Statement;
  readonly blockStartAtOrBefore: Statement;
  readonly deleteBlocksBefore: Statement;
  readonly deleteAllBlocks: Statement;
  readonly minSeq: Statement;
}

class SqliteEventLogImpl implements SqliteEventLog {
  readonly databasePath: string;
  readonly retentionPolicy: RetentionPolicy;
  readonly maxBytes: number;

  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly clock: () => number;
  private readonly retentionChunkRows: number;
  private readonly onError: (error: unknown, source: 'retention' | 'listener') => void;
  private readonly listeners = new Set<(lastSeq: number) => void>();
  private state: LogState;
  private readonly keySeed: number;
  private keys: KeyIndex;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private retentionRun: Promise<RetentionResult> | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private appendCalls = 0;
  private groupCommits = 0;
  private retentionDeleted = 0;

  static open(options: SqliteEventLogOptions): SqliteEventLogImpl {
    const settings = checkOptions(options);
    const directory = resolve(settings.directory);
    prepareDirectory(directory);
    const databasePath = join(directory, EVENT_LOG_FILE_NAME);
    checkWritableFiles(databasePath);
    let db: Database.Database;
    try {
      db = new Database(databasePath, { timeout: settings.busyTimeoutMillis });
    } catch (error) {
      throw mapOpenError(error, databasePath);
    }
    try {
      // EXCLUSIVE before the first access: the lock is held until close (one writer per data
      // directory, no shared-memory WAL index), and WAL mode needs no -shm file.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma(`page_size = ${PAGE_SIZE_BYTES}`);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        throw new EventLogError(
          'FS_LOG_OPEN_FAILED',
          `${databasePath} could not be switched to WAL mode (${String(mode)})`,
          {
            path: databasePath,
          },
        );
      }
      db.pragma('synchronous = FULL');
      db.pragma(`cache_size = ${-Math.round(settings.cacheSizeMiB * 1024)}`);
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      db.pragma('temp_store = MEMORY');
      db.exec('BEGIN IMMEDIATE');
      try {
        migrate(db, databasePath);
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
      return new SqliteEventLogImpl(db, databasePath, settings);
    } catch (error) {
      db.close();
      throw mapOpenError(error, databasePath);
    }
  }

  private constructor(db: Database.Database, databasePath: string, settings: Settings) {
    this.db = db;
    this.databasePath = databasePath;
    this.retentionPolicy = settings.retention;
    this.maxBytes = settings.maxBytes;
    this.clock = settings.now;
    this.retentionChunkRows = settings.retentionChunkRows;
    this.onError = settings.onError;
    this.stmts = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT append_caller'),
      release: db.prepare('RELEASE append_caller'),
      rollbackTo: db.prepare('ROLLBACK TO append_caller'),
      insert: db.prepare(
        `INSERT INTO events (seq, ingested_at, org_id, event_type, flow_id, execution_id, idempotency_key, bytes, json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      keyAt: db.prepare('SELECT idempotency_key FROM events WHERE seq = ?').pluck(),
      insertBlock: db.prepare('INSERT INTO key_blocks (first_seq, tags) VALUES (?, ?)'),
      updateState: db.prepare(
        'UPDATE log_state SET last_seq = ?, events = ?, bytes = ?, last_ingested_at = ? WHERE id = 1',
      ),
      updateCounts: db.prepare('UPDATE log_state SET events = ?, bytes = ? WHERE id = 1'),
      // Raw rows, turned into objects of one literal shape in JS: faster than better-sqlite3's
      // per-column object building (see bench/figures/event-log.md).
      readAfter: db
        .prepare(
          `SELECT seq, ingested_at, org_id, event_type, flow_id, execution_id, idempotency_key, json
           FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
        )
        .raw(),
      seqAtOrAfter: db
        .prepare('SELECT seq FROM events WHERE ingested_at >= ? ORDER BY ingested_at, seq LIMIT 1')
        .pluck(),
      retentionCandidates: db
        .prepare('SELECT seq, ingested_at, bytes, idempotency_key FROM events ORDER BY seq LIMIT ?')
        .raw(),
      deleteThrough: db.prepare('DELETE FROM events WHERE seq <= ?'),
      blockStartAtOrBefore: db.prepare('SELECT max(first_seq) FROM key_blocks WHERE first_seq <= ?').pluck(),
      deleteBlocksBefore: db.prepare('DELETE FROM key_blocks WHERE first_seq < ?'),
      deleteAllBlocks: db.prepare('DELETE FROM key_blocks'),
      minSeq: db.prepare('SELECT min(seq) FROM events').pluck(),
    };
    this.state = this.loadState();
    this.keySeed = db.prepare('SELECT key_seed FROM log_state WHERE id = 1').pluck().get() as number;
    this.keys = this.loadKeys();
    if (settings.retentionIntervalMillis > 0) {
      this.retentionTimer = setInterval(() => this.backgroundRetention(), settings.retentionIntervalMillis);
      this.retentionTimer.unref();
    }
  }

  append(events: readonly NewEvent[]): Promise<AppendResult> {
    if (this.closing) return Promise.reject(closedError(this.databasePath));
    let byteLengths: number[];
    try {
      byteLengths = checkEvents(events);
    } catch (error) {
      return Promise.reject(error);
    }
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, seqs: [] });
    return new Promise<AppendResult>((resolvePromise, rejectPromise) => {
      // A copy of the array: the caller may reuse its own before the flush runs.
      this.pending.push({
        events: events.slice(),
        byteLengths,
        resolve: resolvePromise,
        reject: rejectPromise,
      });
      this.scheduleFlush();
    });
  }

  readAfter(afterSeq: number, limit: number): Promise<readonly StoredEvent[]> {
    if (this.closing) return Promise.reject(closedError(this.databasePath));
    if (typeof afterSeq !== 'number' || Number.isNaN(afterSeq)) {
      return Promise.reject(invalidArgument(`afterSeq must be a number, got ${String(afterSeq)}`));
    }
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return Promise.reject(invalidArgument(`limit must be a non-negative integer, got ${String(limit)}`));
    }
    if (limit === 0 || afterSeq >= this.state.lastSeq) return Promise.resolve([]);
    try {
      const rows = this.stmts.readAfter.all(afterSeq, limit) as StoredRow[];
      const events = new Array<StoredEvent>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as StoredRow;
        events[i] = {
          seq: row[0],
          ingestedAtMillis: row[1],
          orgId: row[2],
          eventType: row[3],
          flowId: row[4],
          executionId: row[5],
          idempotencyKey: row[6],
          json: row[7],
        };
      }
      return Promise.resolve(events);
    } catch (error) {
      return Promise.reject(mapRuntimeError(error, this.databasePath));
    }
  }

  lastSeq(): number {
    return this.state.lastSeq;
  }

  firstSeq(): number {
    return this.state.events === 0 ? this.state.lastSeq + 1 : this.state.firstStoredSeq;
  }

  seqAtOrAfter(timeMillis: number): number {
    this.assertOpen();
    if (typeof timeMillis !== 'number' || Number.isNaN(timeMillis)) {
      throw invalidArgument(`timeMillis must be a number, got ${String(timeMillis)}`);
    }
    if (this.state.events === 0) return this.state.lastSeq + 1;
    try {
      const seq = this.stmts.seqAtOrAfter.get(timeMillis) as number | undefined;
      return seq ?? this.state.lastSeq + 1;
    } catch (error) {
      throw mapRuntimeError(error, this.databasePath);
    }
  }

  enforceRetention(): RetentionResult {
    this.assertOpen();
    let deleted = 0;
    for (;;) {
      const step = this.retentionStep();
      deleted += step.deleted;
      if (step.done) break;
    }
    return { deleted, firstSeq: this.firstSeq() };
  }

  runRetention(): Promise<RetentionResult> {
    if (this.closing) return Promise.reject(closedError(this.databasePath));
    if (this.retentionRun === undefined) {
      const run = this.retentionLoop();
      this.retentionRun = run;
      const clear = () => {
        if (this.retentionRun === run) this.retentionRun = undefined;
      };
      run.then(clear, clear);
    }
    return this.retentionRun;
  }

  stats(): SqliteEventLogStats {
    return {
      events: this.state.events,
      bytes: this.state.bytes,
      firstSeq: this.firstSeq(),
      lastSeq: this.state.lastSeq,
      appendCalls: this.appendCalls,
      groupCommits: this.groupCommits,
      retentionDeleted: this.retentionDeleted,
      keyIndexBytes: this.keys.memoryBytes,
    };
  }

  onAppend(listener: (lastSeq: number) => void): () => void {
    // A wrapper per subscription, so subscribing the same function twice gives two independent ones.
    const entry = (lastSeq: number) => listener(lastSeq);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  verifyIntegrity(): IntegrityReport {
    this.assertOpen();
    const problems: string[] = [];
    try {
      const check = this.db.pragma('integrity_check') as { integrity_check: string }[];
      for (const row of check)
        if (row.integrity_check !== 'ok') problems.push(`SQLite: ${row.integrity_check}`);
      const actual = this.db
        .prepare(
          'SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, min(seq) AS lo, max(seq) AS hi FROM events',
        )
        .get() as { n: number; b: number; lo: number | null; hi: number | null };
      const stored = this.readStoredState();
      if (actual.n !== stored.events)
        problems.push(`log_state.events is ${stored.events} but ${actual.n} rows are stored`);
      if (actual.b !== stored.bytes)
        problems.push(`log_state.bytes is ${stored.bytes} but the rows hold ${actual.b}`);
      if (actual.hi !== null && actual.hi > stored.lastSeq) {
        problems.push(`log_state.last_seq is ${stored.lastSeq} but seq ${actual.hi} is stored`);
      }
      const s = this.state;
      if (s.events !== stored.events || s.bytes !== stored.bytes || s.lastSeq !== stored.lastSeq) {
        problems.push('the in-memory counters differ from log_state');
      }
      if (actual.lo !== null && actual.lo !== s.firstStoredSeq) {
        problems.push(`the in-memory first seq is ${s.firstStoredSeq} but the oldest stored is ${actual.lo}`);
      }
      const wrongBytes = this.db
        .prepare('SELECT count(*) FROM events WHERE bytes != length(CAST(json AS BLOB))')
        .pluck()
        .get() as number;
      if (wrongBytes > 0) problems.push(`${wrongBytes} rows have a byte count that differs from their JSON`);
      const backwards = this.db
        .prepare(
          `SELECT count(*) FROM (SELECT ingested_at, lag(ingested_at) OVER (ORDER BY seq) AS previous FROM events)
           WHERE ingested_at < previous`,
        )
        .pluck()
        .get() as number;
      if (backwards > 0)
        problems.push(`${backwards} rows have an ingested_at older than the row before them`);
      if (actual.lo !== null && actual.hi !== null && actual.n !== actual.hi - actual.lo + 1) {
        problems.push(`the stored seqs ${actual.lo}..${actual.hi} have holes (${actual.n} rows)`);
      }
      const duplicateKeys = this.db
        .prepare('SELECT count(*) FROM (SELECT 1 FROM events GROUP BY idempotency_key HAVING count(*) > 1)')
        .pluck()
        .get() as number;
      if (duplicateKeys > 0) problems.push(`${duplicateKeys} idempotency keys are stored more than once`);
      problems.push(...this.checkKeyTags(actual.lo, actual.hi));
    } catch (error) {
      problems.push(`reading the database failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { ok: problems.length === 0, problems };
  }

  /** Every stored event's key: its tag in key_blocks matches, and the KeyIndex finds it at its seq. */
  private checkKeyTags(lo: number | null, hi: number | null): string[] {
    if (lo === null || hi === null) {
      return this.keys.size === 0 ? [] : [`the key index holds ${this.keys.size} keys of an empty log`];
    }
    const problems: string[] = [];
    const tags = new Uint32Array(hi - lo + 1);
    const blocks = this.db.prepare('SELECT first_seq, tags FROM key_blocks ORDER BY first_seq').raw();
    for (const [blockFirst, blob] of blocks.iterate() as Iterable<[number, Buffer]>) {
      for (let i = 0; i < blob.length / 4; i++) {
        const seq = blockFirst + i;
        if (seq >= lo && seq <= hi) tags[seq - lo] = blob.readUInt32LE(i * 4);
      }
    }
    let wrongTags = 0;
    let unindexed = 0;
    const rows = this.db.prepare('SELECT seq, idempotency_key FROM events ORDER BY seq').raw();
    for (const [seq, key] of rows.iterate() as Iterable<[number, string]>) {
      const tag = keyTag(key, this.keySeed);
      if (tags[seq - lo] !== tag) wrongTags++;
      if (this.keys.find(tag, lo, (candidate) => candidate === seq) === undefined) unindexed++;
    }
    if (wrongTags > 0) problems.push(`${wrongTags} events have no or a wrong key tag in key_blocks`);
    if (unindexed > 0) problems.push(`${unindexed} stored keys are missing from the in-memory key index`);
    if (this.keys.size !== hi - lo + 1) {
      problems.push(`the key index holds ${this.keys.size} keys for ${hi - lo + 1} events`);
    }
    return problems;
  }

  close(): Promise<void> {
    if (this.closePromise !== undefined) return this.closePromise;
    this.closing = true;
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.closePromise = (async () => {
      // Appends queued before close() were accepted: commit them before the connection goes.
      while (this.pending.length > 0) this.flush();
      // A background retention run stops at its next chunk boundary once `closing` is set.
      if (this.retentionRun !== undefined) await this.retentionRun.catch(() => undefined);
      this.listeners.clear();
      this.db.close();
    })();
    return this.closePromise;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Not unref'd: a queued append must commit even if nothing else keeps the process alive.
    setImmediate(() => this.flush());
  }

  /** One group commit: the oldest pending callers, up to MAX_GROUP_EVENTS events, one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    let take = 0;
    let eventCount = 0;
    for (const item of this.pending) {
      if (take > 0 && eventCount + item.events.length > MAX_GROUP_EVENTS) break;
      eventCount += item.events.length;
      take++;
    }
    const group = this.pending.splice(0, take);
    if (this.pending.length > 0) this.scheduleFlush();

    const working: LogState = { ...this.state };
    const outcomes: Outcome[] = [];
    const added: AddedKeys = { firstSeq: working.lastSeq + 1, tags: [] };
    const { stmts } = this;
    try {
      const ingestedAt = Math.max(this.nowMillis(), working.lastIngestedAt);
      stmts.begin.run();
      for (const item of group) {
        const before: LogState = { ...working };
        const addedBefore = added.tags.length;
        stmts.savepoint.run();
        try {
          outcomes.push({ ok: true, result: this.insertCaller(item, ingestedAt, working, added) });
          stmts.release.run();
        } catch (error) {
          // An error that ended the whole transaction (SQLite rolls back on some I/O errors)
          // fails the whole group below; otherwise only this caller's savepoint is undone.
          if (!this.db.inTransaction) throw error;
          stmts.rollbackTo.run();
          stmts.release.run();
          this.forgetKeys(added, addedBefore);
          Object.assign(working, before);
          outcomes.push({ ok: false, error: mapRuntimeError(error, this.databasePath) });
        }
      }
      if (added.tags.length > 0) {
        const block = Buffer.allocUnsafe(added.tags.length * 4);
        for (let i = 0; i < added.tags.length; i++) block.writeUInt32LE(added.tags[i] as number, i * 4);
        stmts.insertBlock.run(added.firstSeq, block);
        working.lastIngestedAt = ingestedAt;
        stmts.updateState.run(working.lastSeq, working.events, working.bytes, working.lastIngestedAt);
      }
      stmts.commit.run();
    } catch (error) {
      this.forgetKeys(added, 0);
      this.failGroup(group, error);
      return;
    }
    const advanced = working.lastSeq !== this.state.lastSeq;
    this.state = working;
    this.groupCommits++;
    this.appendCalls += group.length;
    if (advanced) this.notify(working.lastSeq);
    for (let i = 0; i < group.length; i++) {
      const outcome = outcomes[i];
      const item = group[i];
      if (outcome === undefined || item === undefined) continue;
      if (outcome.ok) item.resolve(outcome.result);
      else item.reject(outcome.error);
    }
  }

  /** Removes from the KeyIndex the keys added from position `from` on (an undone caller or group). */
  private forgetKeys(added: AddedKeys, from: number): void {
    for (let i = added.tags.length - 1; i >= from; i--) {
      this.keys.delete(added.tags[i] as number, added.firstSeq + i);
    }
    added.tags.length = from;
  }

  /**
   * Inserts one caller's events into the open transaction, advancing `working` and adding each
   * stored key to the KeyIndex (and to `added`) at once, so a later repeat in the group is a
   * duplicate.
   */
  private insertCaller(
    item: PendingAppend,
    ingestedAt: number,
    working: LogState,
    added: AddedKeys,
  ): AppendResult {
    const { events, byteLengths } = item;
    const { insert, keyAt } = this.stmts;
    const keys = this.keys;
    const seed = this.keySeed;
    // Every seq in the KeyIndex is at or above the committed firstSeq (see KeyIndex.find).
    const baseSeq = this.firstSeq();
    const seqs: (number | null)[] = new Array(events.length);
    let accepted = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as NewEvent;
      const key = event.idempotencyKey;
      const tag = keyTag(key, seed);
      if (keys.find(tag, baseSeq, (candidate) => keyAt.get(candidate) === key) !== undefined) {
        seqs[i] = null;
        continue;
      }
      const bytes = byteLengths[i] as number;
      const seq = working.lastSeq + 1;
      insert.run(
        seq,
        ingestedAt,
        event.orgId,
        event.eventType,
        event.flowId,
        event.executionId,
        key,
        bytes,
        event.json,
      );
      keys.add(tag, seq);
      added.tags.push(tag);
      if (working.events === 0) working.firstStoredSeq = seq;
      working.lastSeq = seq;
      working.events++;
      working.bytes += bytes;
      seqs[i] = seq;
      accepted++;
    }
    if (working.bytes > this.maxBytes) {
      throw new StorageFullError(
        `the event log is over its size limit: storing ${accepted} events would take it to ${working.bytes} bytes (limit ${this.maxBytes})`,
      );
    }
    return { accepted, duplicates: events.length - accepted, seqs };
  }

  private failGroup(group: readonly PendingAppend[], error: unknown): void {
    try {
      if (this.db.inTransaction) this.stmts.rollback.run();
    } catch {
      // The transaction is gone either way; the state is re-read below.
    }
    const mapped = mapRuntimeError(error, this.databasePath);
    this.resync();
    this.appendCalls += group.length;
    for (const item of group) item.reject(mapped);
  }

  /**
   * After a failed transaction: a failed COMMIT may or may not have reached the WAL, so the
   * counters and the key index are rebuilt from the database, which is the truth. If even that
   * fails, the old ones stay; the next operation finds out whether the file is usable.
   */
  private resync(): void {
    try {
      const state = this.loadState();
      const previous = this.state;
      this.state = state;
      try {
        this.keys = this.loadKeys();
      } catch (error) {
        this.state = previous;
        throw error;
      }
    } catch {
      // Nothing better to do than keep what we had.
    }
  }

  private notify(lastSeq: number): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(lastSeq);
      } catch (error) {
        this.onError(error, 'listener');
      }
    }
  }

  /** Deletes one chunk of the oldest events that the policy no longer keeps, in one transaction. */
  private retentionStep(): { deleted: number; done: boolean } {
    if (this.state.events === 0) return { deleted: 0, done: true };
    const { maxAgeMillis, maxBytes } = this.retentionPolicy;
    const cutoff = this.nowMillis() - maxAgeMillis;
    const { stmts } = this;
    try {
      const candidates = stmts.retentionCandidates.all(this.retentionChunkRows) as RetentionRow[];
      let bytes = this.state.bytes;
      let count = 0;
      let throughSeq = 0;
      for (const [seq, ingestedAt, rowBytes] of candidates) {
        if (ingestedAt >= cutoff && bytes <= maxBytes) break;
        bytes -= rowBytes;
        count++;
        throughSeq = seq;
      }
      if (count === 0) return { deleted: 0, done: true };
      const events = this.state.events - count;
      let firstStoredSeq = this.state.lastSeq + 1;
      stmts.begin.run();
      try {
        const { changes } = stmts.deleteThrough.run(throughSeq);
        if (changes !== count)
          throw new Error(`retention expected to delete ${count} rows but deleted ${changes}`);
        if (events === 0) {
          stmts.deleteAllBlocks.run();
        } else {
          // Contiguous seqs: the oldest left is the one after the last deleted.
          firstStoredSeq = throughSeq + 1;
          const blockStart = stmts.blockStartAtOrBefore.get(firstStoredSeq) as number | null;
          if (blockStart !== null) stmts.deleteBlocksBefore.run(blockStart);
        }
        stmts.updateCounts.run(events, bytes);
        stmts.commit.run();
      } catch (error) {
        if (this.db.inTransaction) stmts.rollback.run();
        this.resync();
        throw error;
      }
      for (let i = 0; i < count; i++) {
        const [seq, , , key] = candidates[i] as RetentionRow;
        this.keys.delete(keyTag(key, this.keySeed), seq);
      }
      this.state = { ...this.state, events, bytes, firstStoredSeq };
      this.retentionDeleted += count;
      const more = count === candidates.length && candidates.length === this.retentionChunkRows;
      return { deleted: count, done: !more };
    } catch (error) {
      throw mapRuntimeError(error, this.databasePath);
    }
  }

  private async retentionLoop(): Promise<RetentionResult> {
    let deleted = 0;
    while (!this.closing) {
      const step = this.retentionStep();
      deleted += step.deleted;
      if (step.done) break;
      await yieldToEventLoop();
    }
    return { deleted, firstSeq: this.firstSeq() };
  }

  private backgroundRetention(): void {
    if (this.closing || this.retentionRun !== undefined) return;
    this.runRetention().catch((error: unknown) => this.onError(error, 'retention'));
  }

  private loadState(): LogState {
    const stored = this.readStoredState();
    const firstStoredSeq = (this.stmts.minSeq.get() as number | null) ?? stored.lastSeq + 1;
    return { ...stored, firstStoredSeq };
  }

  /** Rebuilds the KeyIndex from `key_blocks` (4 bytes per stored event; the events are not read). */
  private loadKeys(): KeyIndex {
    const { events, firstStoredSeq, lastSeq } = this.state;
    const keys = new KeyIndex(events);
    if (events === 0) return keys;
    const blocks = this.db.prepare('SELECT first_seq, tags FROM key_blocks ORDER BY first_seq').raw();
    for (const row of blocks.iterate() as Iterable<[number, Buffer]>) {
      const [blockFirst, tags] = row;
      const count = tags.length / 4;
      for (let i = Math.max(0, firstStoredSeq - blockFirst); i < count && blockFirst + i <= lastSeq; i++) {
        keys.add(tags.readUInt32LE(i * 4), blockFirst + i);
      }
    }
    if (keys.size !== events) {
      throw new EventLogError(
        'FS_LOG_CORRUPT',
        `${this.databasePath} is inconsistent: key_blocks cover ${keys.size} of the ${events} stored events`,
        { path: this.databasePath },
      );
    }
    return keys;
  }

  private readStoredState(): Omit<LogState, 'firstStoredSeq'> {
    const row = this.db
      .prepare(
        'SELECT last_seq AS lastSeq, events, bytes, last_ingested_at AS lastIngestedAt FROM log_state WHERE id = 1',
      )
      .get() as Omit<LogState, 'firstStoredSeq'> | undefined;
    if (row === undefined) {
      throw new EventLogError('FS_LOG_CORRUPT', `${this.databasePath} has no log_state row`, {
        path: this.databasePath,
      });
    }
    return row;
  }

  private nowMillis(): number {
    const now = this.clock();
    if (!Number.isFinite(now))
      throw invalidArgument(`the clock returned ${String(now)}, not a finite number`);
    return Math.floor(now);
  }

  private assertOpen(): void {
    if (this.closing) throw closedError(this.databasePath);
  }
}

interface Settings {
  readonly directory: string;
  readonly retention: RetentionPolicy;
  readonly maxBytes: number;
  readonly now: () => number;
  readonly retentionIntervalMillis: number;
  readonly retentionChunkRows: number;
  readonly busyTimeoutMillis: number;
  readonly cacheSizeMiB: number;
  readonly onError: (error: unknown, source: 'retention' | 'listener') => void;
}

function checkOptions(options: SqliteEventLogOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options must be an object');
  const { directory } = options;
  if (typeof directory !== 'string' || directory === '') {
    throw invalidArgument(`directory must be a non-empty string, got ${String(directory)}`);
  }
  const retention: RetentionPolicy = Object.freeze({
    maxAgeMillis: positive(
      'retention.maxAgeMillis',
      options.retention?.maxAgeMillis,
      DEFAULT_RETENTION_POLICY.maxAgeMillis,
    ),
    maxBytes: positive('retention.maxBytes', options.retention?.maxBytes, DEFAULT_RETENTION_POLICY.maxBytes),
  });
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw invalidArgument('now must be a function');
  const onError = options.onError ?? defaultOnError;
  if (typeof onError !== 'function') throw invalidArgument('onError must be a function');
  return {
    directory,
    retention,
    maxBytes: positive('maxBytes', options.maxBytes, DEFAULT_MAX_BYTES),
    now,
    retentionIntervalMillis: nonNegativeInteger(
      'retentionIntervalMillis',
      options.retentionIntervalMillis,
      0,
    ),
    retentionChunkRows: positiveInteger(
      'retentionChunkRows',
      options.retentionChunkRows,
      DEFAULT_RETENTION_CHUNK_ROWS,
    ),
    busyTimeoutMillis: nonNegativeInteger(
      'busyTimeoutMillis',
      options.busyTimeoutMillis,
      DEFAULT_BUSY_TIMEOUT_MILLIS,
    ),
    cacheSizeMiB: positive('cacheSizeMiB', options.cacheSizeMiB, DEFAULT_CACHE_SIZE_MIB),
    onError,
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw invalidArgument(`${name} must be a positive number (or Infinity), got ${String(value)}`);
  }
  return value;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalidArgument(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function defaultOnError(error: unknown, source: 'retention' | 'listener'): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`event log ${source} error: ${message}`, { code: 'FS_LOG_BACKGROUND_ERROR' });
}

const STRING_FIELDS = ['orgId', 'eventType', 'flowId', 'executionId', 'idempotencyKey', 'json'] as const;

/**
 * Checks every event before anything is queued (so one caller's bad input never reaches the group
 * transaction) and returns the UTF-8 byte length of each `json`.
 */
function checkEvents(events: readonly NewEvent[]): number[] {
  if (!Array.isArray(events))
    throw new EventLogError('FS_LOG_INVALID_EVENT', 'append expects an array of events');
  const byteLengths = new Array<number>(events.length);
  for (let i = 0; i < events.length; i++) {
    const event: unknown = events[i];
    if (typeof event !== 'object' || event === null) {
      throw new EventLogError('FS_LOG_INVALID_EVENT', `event ${i} is not an object`);
    }
    const record = event as Record<string, unknown>;
    for (const field of STRING_FIELDS) {
      if (typeof record[field] !== 'string') {
        throw new EventLogError('FS_LOG_INVALID_EVENT', `event ${i}: ${field} must be a string`);
      }
    }
    const typed = event as NewEvent;
    if (typed.idempotencyKey === '') {
      throw new EventLogError('FS_LOG_INVALID_EVENT', `event ${i}: idempotencyKey must not be empty`);
    }
    if (typed.json === '')
      throw new EventLogError('FS_LOG_INVALID_EVENT', `event ${i}: json must not be empty`);
    byteLengths[i] = Buffer.byteLength(typed.json, 'utf8');
  }
  return byteLengths;
}

function prepareDirectory(directory: string): void {
  try {
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw new EventLogError(
      'FS_LOG_OPEN_FAILED',
      `cannot create the data directory ${directory}: ${describe(error)}`,
      {
        path: directory,
        cause: error,
      },
    );
  }
  if (!statSync(directory).isDirectory()) {
    throw new EventLogError('FS_LOG_OPEN_FAILED', `${directory} is not a directory`, { path: directory });
  }
  try {
    accessSync(directory, constants.W_OK);
  } catch (error) {
    throw new EventLogError('FS_LOG_READ_ONLY', `the data directory ${directory} is not writable`, {
      path: directory,
      cause: error,
    });
  }
}

/**
 * SQLite opens a write-protected file read-only without a word and then fails on the first write
 * with a vague I/O error; checking first gives the clear FS_LOG_READ_ONLY.
 */
function checkWritableFiles(databasePath: string): void {
  for (const path of [databasePath, `${databasePath}-wal`]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new EventLogError('FS_LOG_READ_ONLY', `${path} is not writable`, { path, cause: error });
    }
  }
}

function sqliteCode(error: unknown): string | undefined {
  return error instanceof Database.SqliteError ? error.code : undefined;
}

function mapOpenError(error: unknown, path: string): Error {
  if (error instanceof EventLogError) return error;
  const code = sqliteCode(error) ?? '';
  const reason = describe(error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new EventLogError(
      'FS_LOG_LOCKED',
      `${path} is held by another open event log (one process, one open log per data directory): ${reason}`,
      { path, cause: error },
    );
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new EventLogError('FS_LOG_CORRUPT', `${path} is not a readable event log database: ${reason}`, {
      path,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) {
    return new EventLogError('FS_LOG_READ_ONLY', `${path} cannot be written: ${reason}`, {
      path,
      cause: error,
    });
  }
  return new EventLogError('FS_LOG_OPEN_FAILED', `cannot open ${path}: ${reason}`, { path, cause: error });
}

function mapRuntimeError(error: unknown, path: string): Error {
  if (error instanceof EventLogError || error instanceof StorageFullError) return error;
  const code = sqliteCode(error) ?? '';
  if (code.startsWith('SQLITE_FULL')) {
    return new StorageFullError(`the disk holding ${path} is full`);
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new EventLogError('FS_LOG_CORRUPT', `${path} is corrupt: ${describe(error)}`, {
      path,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new EventLogError('FS_LOG_READ_ONLY', `${path} cannot be written: ${describe(error)}`, {
      path,
      cause: error,
    });
  }
  return new EventLogError('FS_LOG_IO', `the event log at ${path} failed: ${describe(error)}`, {
    path,
    cause: error,
  });
}

function closedError(path: string): EventLogError {
  return new EventLogError('FS_LOG_CLOSED', 'the event log is closed', { path });
}

function invalidArgument(message: string): EventLogError {
  return new EventLogError('FS_LOG_INVALID_ARGUMENT', message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
