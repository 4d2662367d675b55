import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DeliveryError, OutboundEvent } from '../destinations/destination.js';
import type { StreamDefinition } from './stream.js';

/**
 * The durable state of log streams, in `<dataDir>/state.db` (SQLite, WAL, synchronous=FULL: a
 * committed write survives a machine crash).
 *
 * Tables (schema version in `PRAGMA user_version`; `MIGRATIONS[i]` takes version i to i+1, run in
 * order inside one transaction at open):
 * - `streams(id, definition)`: the stream definition as JSON, sealed by the optional `SecretSealer`
 *   (settings hold secrets; the security work supplies the sealer).
 * - `stream_state(stream_id, cursor, …)`: one row per stream. `cursor` is the highest seq below
 *   which every event passing the filter was acknowledged by the destination or dead-lettered; it
 *   only moves forward except by replay. The counters (`delivered_total`, `dead_lettered_total`,
 *   `expired_total`) survive restarts; the failure streak (`consecutive_failures`, `failing_since`,
 *   `last_error`) and `paused_at` do too, so a restart neither hides a failing stream nor resumes a
 *   paused one.
 * - `dead_letters`: events a destination refused for good, with its answer. One row per (stream,
 *   seq): dead-lettering the same event again (after a replay or a crash) updates the row.
 * - `meta(key, value)`: small settings of the state itself, free for other modules (a key prefix
 *   per module). Tokens and audit records live in the security module's own store, not here.
 *
 * Invariant: dead letters are written in the same transaction as the cursor that passes them, so
 * the cursor never passes an event that is neither acknowledged nor in `dead_letters`.
 * All methods are synchronous and short (one small transaction), so callers on the event loop are
 * held for one fsync at most.
 */

/** Seals and opens stored definition text (encryption at rest of secret settings). */
export interface SecretSealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export interface StreamStoreOptions {
  /** The data directory; created when missing. The store file is `<directory>/state.db`. */
  readonly directory: string;
  readonly sealer?: SecretSealer;
}

export interface LastError {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  /** Epoch milliseconds. */
  readonly atMillis: number;
}

export interface StreamState {
  readonly cursor: number;
  readonly deliveredTotal: number;
  readonly deadLetteredTotal: number;
  readonly expiredTotal: number;
  readonly lastDeliveredAtMillis: number | null;
  readonly consecutiveFailures: number;
  /** Start of the current failure streak (epoch ms), null when the last send succeeded. */
  readonly failingSinceMillis: number | null;
  readonly lastError: LastError | null;
  /** Set by the failure policy; cleared by activating the stream again. */
  readonly pausedAtMillis: number | null;
}

export interface NewDeadLetter {
  readonly event: Omit<OutboundEvent, 'event'>;
  readonly error: DeliveryError;
  /** How many times the event was sent (0 when it was refused before sending, e.g. too large). */
  readonly attempts: number;
  readonly failedAtMillis: number;
}

export interface DeadLetter {
  /** Increasing per store; the paging key. */
  readonly id: number;
  readonly streamId: string;
  readonly seq: number;
  readonly eventType: string;
  readonly orgId: string;
  readonly flowId: string;
  readonly executionId: string;
  readonly idempotencyKey: string;
  readonly timestamp: string;
  /** The event JSON as it was sent (after the stream's transforms). */
  readonly json: string;
  readonly error: DeliveryError;
  readonly attempts: number;
  readonly firstFailedAtMillis: number;
  readonly lastFailedAtMillis: number;
}

export interface DeadLetterPage {
  readonly items: readonly DeadLetter[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly nextAfter: number | null;
}

/** What one runner flush writes, in one transaction. Counters are increments; the rest replaces. */
export interface ProgressUpdate {
  /** The new cursor; omitted when it did not move. */
  readonly cursor?: number;
  readonly delivered: number;
  readonly expired: number;
  readonly deadLetters: readonly NewDeadLetter[];
  readonly lastDeliveredAtMillis?: number;
  readonly failure?: {
    readonly consecutiveFailures: number;
    readonly failingSinceMillis: number | null;
    readonly lastError: LastError | null;
  };
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE streams (
     id TEXT PRIMARY KEY,
     definition TEXT NOT NULL
   );
   CREATE TABLE stream_state (
     stream_id TEXT PRIMARY KEY,
     cursor INTEGER NOT NULL,
     delivered_total INTEGER NOT NULL DEFAULT 0,
     dead_lettered_total INTEGER NOT NULL DEFAULT 0,
     expired_total INTEGER NOT NULL DEFAULT 0,
     last_delivered_at INTEGER,
     consecutive_failures INTEGER NOT NULL DEFAULT 0,
     failing_since INTEGER,
     last_error TEXT,
     paused_at INTEGER
   );
   CREATE TABLE dead_letters (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     stream_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     event_type TEXT NOT NULL,
     org_id TEXT NOT NULL,
     flow_id TEXT NOT NULL,
     execution_id TEXT NOT NULL,
     idempotency_key TEXT NOT NULL,
     timestamp TEXT NOT NULL,
     json TEXT NOT NULL,
     error_code TEXT NOT NULL,
     error_message TEXT NOT NULL,
     error_status INTEGER,
     error_response TEXT,
     attempts INTEGER NOT NULL,
     first_failed_at INTEGER NOT NULL,
     last_failed_at INTEGER NOT NULL,
     UNIQUE (stream_id, seq)
   );
   CREATE TABLE meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
];

interface StateRow {
  cursor: number;
  delivered_total: number;
  dead_lettered_total: number;
  expired_total: number;
  last_delivered_at: number | null;
  consecutive_failures: number;
  failing_since: number | null;
  last_error: string | null;
  paused_at: number | null;
}

interface DeadLetterRow {
  id: number;
  stream_id: string;
  seq: number;
  event_type: string;
  org_id: string;
  flow_id: string;
  execution_id: string;
  idempotency_key: string;
  timestamp: string;
  json: string;
  error_code: string;
  error_message: string;
  error_status: number | null;
  error_response: string | null;
  attempts: number;
  first_failed_at: number;
  last_failed_at: number;
}

export class StreamStore {
  readonly #db: Database.Database;
  readonly #sealer: SecretSealer | undefined;
  readonly #stmts: ReturnType<typeof prepare>;
  #closed = false;

  private constructor(db: Database.Database, sealer: SecretSealer | undefined) {
    this.#db = db;
    this.#sealer = sealer;
    this.#stmts = prepare(db);
  }

  static open(options: StreamStoreOptions): StreamStore {
    mkdirSync(options.directory, { recursive: true });
    const db = new Database(path.join(options.directory, 'state.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db);
    } catch (err: unknown) {
      db.close();
      throw err;
    }
    return new StreamStore(db, options.sealer);
  }

  // ---- definitions ----

  listStreams(): StreamDefinition[] {
    const rows = this.#stmts.listStreams.all() as { definition: string }[];
    return rows.map((row) => this.#decode(row.definition));
  }

  getStream(id: string): StreamDefinition | undefined {
    const row = this.#stmts.getStream.get(id) as { definition: string } | undefined;
    return row === undefined ? undefined : this.#decode(row.definition);
  }

  /** Inserts or replaces a definition; a new stream's state starts at `initialCursor`. */
  putStream(definition: StreamDefinition, initialCursor: number): void {
    const text = JSON.stringify(definition);
    const stored = this.#sealer === undefined ? text : this.#sealer.seal(text);
    this.#db.transaction(() => {
      this.#stmts.putStream.run(definition.id, stored);
      this.#stmts.insertState.run(definition.id, initialCursor);
    })();
  }

  /** Removes the definition, its state and its dead letters. */
  deleteStream(id: string): void {
    this.#db.transaction(() => {
      this.#stmts.deleteStream.run(id);
      this.#stmts.deleteState.run(id);
      this.#stmts.deleteDeadLettersOf.run(id);
    })();
  }

  // ---- state ----

  getState(id: string): StreamState | undefined {
    const row = this.#stmts.getState.get(id) as StateRow | undefined;
    if (row === undefined) return undefined;
    return {
      cursor: row.cursor,
      deliveredTotal: row.delivered_total,
      deadLetteredTotal: row.dead_lettered_total,
      expiredTotal: row.expired_total,
      lastDeliveredAtMillis: row.last_delivered_at,
      consecutiveFailures: row.consecutive_failures,
      failingSinceMillis: row.failing_since,
      lastError: row.last_error === null ? null : (JSON.parse(row.last_error) as LastError),
      pausedAtMillis: row.paused_at,
    };
  }

  /** One runner flush: cursor, counters, dead letters and the failure streak, all or nothing. */
  saveProgress(id: string, update: ProgressUpdate): void {
    const s = this.#stmts;
    this.#db.transaction(() => {
      for (const letter of update.deadLetters) {
        const e = letter.event;
        s.upsertDeadLetter.run({
          stream_id: id,
          seq: e.seq,
          event_type: e.eventType,
          org_id: e.orgId,
          flow_id: e.flowId,
          execution_id: e.executionId,
          idempotency_key: e.idempotencyKey,
          timestamp: e.timestamp,
          json: e.json,
          error_code: letter.error.code,
          error_message: letter.error.message,
          error_status: letter.error.status ?? null,
          error_response: letter.error.response ?? null,
          attempts: letter.attempts,
          failed_at: letter.failedAtMillis,
        });
      }
      s.addCounters.run(update.delivered, update.deadLetters.length, update.expired, id);
      if (update.cursor !== undefined) s.setCursor.run(update.cursor, id);
      if (update.lastDeliveredAtMillis !== undefined)
        s.setLastDelivered.run(update.lastDeliveredAtMillis, id);
      if (update.failure !== undefined) {
        const f = update.failure;
        s.setFailure.run(
          f.consecutiveFailures,
          f.failingSinceMillis,
          f.lastError === null ? null : JSON.stringify(f.lastError),
          id,
        );
      }
    })();
  }

  /** Moves the cursor to any position (replay). The runner must be stopped. */
  setCursor(id: string, cursor: number): void {
    this.#stmts.setCursor.run(cursor, id);
  }

  setPaused(id: string, pausedAtMillis: number | null): void {
    this.#stmts.setPaused.run(pausedAtMillis, id);
  }

  /** Clears the failure streak (activating a paused stream starts a fresh pause clock). */
  clearFailures(id: string): void {
    this.#stmts.setFailure.run(0, null, null, id);
  }

  // ---- dead letters ----

  listDeadLetters(streamId: string, options: { limit: number; after?: number }): DeadLetterPage {
    const limit = Math.max(1, Math.floor(options.limit));
    const rows = this.#stmts.pageDeadLetters.all(streamId, options.after ?? 0, limit + 1) as DeadLetterRow[];
    const items = rows.slice(0, limit).map(toDeadLetter);
    const last = items.at(-1);
    return { items, nextAfter: rows.length > limit && last !== undefined ? last.id : null };
  }

  /** The stream's dead letters with these ids (all of them when omitted), by ascending id. */
  getDeadLetters(streamId: string, ids?: readonly number[]): DeadLetter[] {
    if (ids === undefined)
      return (this.#stmts.allDeadLetters.all(streamId) as DeadLetterRow[]).map(toDeadLetter);
    const found: DeadLetter[] = [];
    for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
      const row = this.#stmts.getDeadLetter.get(streamId, id) as DeadLetterRow | undefined;
      if (row !== undefined) found.push(toDeadLetter(row));
    }
    return found;
  }

  countDeadLetters(streamId: string): number {
    return (this.#stmts.countDeadLetters.get(streamId) as { n: number }).n;
  }

  /** A redelivered dead letter: removed, and counted as delivered. */
  deadLetterDelivered(streamId: string, id: number, atMillis: number): void {
    this.#db.transaction(() => {
      const changes = this.#stmts.deleteDeadLetter.run(streamId, id).changes;
      if (changes > 0) {
        this.#stmts.addCounters.run(1, 0, 0, streamId);
        this.#stmts.setLastDelivered.run(atMillis, streamId);
      }
    })();
  }

  /** A failed redelivery: the dead letter stays, with the new answer and one more attempt. */
  deadLetterFailedAgain(streamId: string, id: number, error: DeliveryError, atMillis: number): void {
    this.#stmts.failDeadLetter.run(
      error.code,
      error.message,
      error.status ?? null,
      error.response ?? null,
      atMillis,
      streamId,
      id,
    );
  }

  // ---- meta ----

  getMeta(key: string): string | undefined {
    const row = this.#stmts.getMeta.get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.#stmts.setMeta.run(key, value);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #decode(stored: string): StreamDefinition {
    const text = this.#sealer === undefined ? stored : this.#sealer.open(stored);
    return JSON.parse(text) as StreamDefinition;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `state.db has schema version ${version}, newer than this flowstream (${MIGRATIONS.length})`,
    );
  }
  if (version === MIGRATIONS.length) return;
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] ?? '');
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

function prepare(db: Database.Database) {
  return {
    listStreams: db.prepare('SELECT definition FROM streams ORDER BY id'),
    getStream: db.prepare('SELECT definition FROM streams WHERE id = ?'),
    putStream: db.prepare(
      'INSERT INTO streams (id, definition) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET definition = excluded.definition',
    ),
    insertState: db.prepare('INSERT OR IGNORE INTO stream_state (stream_id, cursor) VALUES (?, ?)'),
    deleteStream: db.prepare('DELETE FROM streams WHERE id = ?'),
    deleteState: db.prepare('DELETE FROM stream_state WHERE stream_id = ?'),
    deleteDeadLettersOf: db.prepare('DELETE FROM dead_letters WHERE stream_id = ?'),
    getState: db.prepare('SELECT * FROM stream_state WHERE stream_id = ?'),
    addCounters: db.prepare(
      `UPDATE stream_state SET delivered_total = delivered_total + ?, dead_lettered_total = dead_lettered_total + ?,
       expired_total = expired_total + ? WHERE stream_id = ?`,
    ),
    setCursor: db.prepare('UPDATE stream_state SET cursor = ? WHERE stream_id = ?'),
    setLastDelivered: db.prepare('UPDATE stream_state SET last_delivered_at = ? WHERE stream_id = ?'),
    setFailure: db.prepare(
      'UPDATE stream_state SET consecutive_failures = ?, failing_since = ?, last_error = ? WHERE stream_id = ?',
    ),
    setPaused: db.prepare('UPDATE stream_state SET paused_at = ? WHERE stream_id = ?'),
    upsertDeadLetter: db.prepare(
      `INSERT INTO dead_letters (stream_id, seq, event_type, org_id, flow_id, execution_id, idempotency_key, timestamp,
         json, error_code, error_message, error_status, error_response, attempts, first_failed_at, last_failed_at)
       VALUES (@stream_id, @seq, @event_type, @org_id, @flow_id, @execution_id, @idempotency_key, @timestamp,
         @json, @error_code, @error_message, @error_status, @error_response, @attempts, @failed_at, @failed_at)
       ON CONFLICT (stream_id, seq) DO UPDATE SET json = excluded.json, error_code = excluded.error_code,
         error_message = excluded.error_message, error_status = excluded.error_status,
         error_response = excluded.error_response, attempts = attempts + excluded.attempts,
         last_failed_at = excluded.last_failed_at`,
    ),
    pageDeadLetters: db.prepare(
      'SELECT * FROM dead_letters WHERE stream_id = ? AND id > ? ORDER BY id LIMIT ?',
    ),
    allDeadLetters: db.prepare('SELECT * FROM dead_letters WHERE stream_id = ? ORDER BY id'),
    getDeadLetter: db.prepare('SELECT * FROM dead_letters WHERE stream_id = ? AND id = ?'),
    countDeadLetters: db.prepare('SELECT count(*) AS n FROM dead_letters WHERE stream_id = ?'),
    deleteDeadLetter: db.prepare('DELETE FROM dead_letters WHERE stream_id = ? AND id = ?'),
    failDeadLetter: db.prepare(
      `UPDATE dead_letters SET error_code = ?, error_message = ?, error_status = ?, error_response = ?,
       attempts = attempts + 1, last_failed_at = ? WHERE stream_id = ? AND id = ?`,
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  const error: DeliveryError = {
    code: row.error_code,
    message: row.error_message,
    ...(row.error_status === null ? {} : { status: row.error_status }),
    ...(row.error_response === null ? {} : { response: row.error_response }),
  };
  return {
    id: row.id,
    streamId: row.stream_id,
    seq: row.seq,
    eventType: row.event_type,
    orgId: row.org_id,
    flowId: row.flow_id,
    executionId: row.execution_id,
    idempotencyKey: row.idempotency_key,
    timestamp: row.timestamp,
    json: row.json,
    error,
    attempts: row.attempts,
    firstFailedAtMillis: row.first_failed_at,
    lastFailedAtMillis: row.last_failed_at,
  };
}
