import { randomInt } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { EventLogError } from './event-log-error.js';

/**
 * The on-disk schema of the embedded event log (docs/storage.md describes it for people).
 *
 * Identification: `PRAGMA application_id` is APPLICATION_ID ('FSLG'), so a flowstream event log is
 * told apart from any other SQLite file. Versioning: `PRAGMA user_version` is the schema version;
 * MIGRATIONS[v] upgrades version v to v + 1 inside the opening transaction, so a crash mid-upgrade
 * leaves the old version intact. A file with a version newer than SCHEMA_VERSION is refused, never
 * downgraded.
 *
 * Invariants the tables keep (all writes go through one connection, in transactions that update
 * `log_state` together with `events` and `key_blocks`):
 * - `log_state.last_seq` >= every `events.seq` ever stored; seqs are assigned as last_seq + 1.
 * - The stored seqs are contiguous: exactly firstSeq..lastSeq (appends take the next seqs,
 *   retention deletes a prefix).
 * - `log_state.events` = count(events); `log_state.bytes` = sum(events.bytes), where `bytes` is the
 *   UTF-8 length of `json`.
 * - `ingested_at` never decreases with seq (the append clock is clamped to the last value), so the
 *   events older than a time are always a prefix of the log, and retention never leaves holes.
 * - `idempotency_key` is unique among stored events. SQLite does not enforce it (see key-index.ts
 *   for why): the log checks every key against its in-memory KeyIndex before inserting.
 * - `key_blocks` holds, for every stored seq, the 32-bit tag of its key (keyTag with
 *   `log_state.key_seed`): one row per group commit, `tags` = little-endian uint32 for the seqs
 *   first_seq, first_seq + 1, …. Blocks wholly below firstSeq are deleted by retention; the part of a
 *   block below firstSeq is ignored. Opening reads it to rebuild the KeyIndex without reading events.
 */

/** 'FSLG' as a big-endian 32-bit integer. */
export const APPLICATION_ID = 0x46534c47;
export const SCHEMA_VERSION = 1;

/** Each entry upgrades the schema from its index to index + 1, inside the opening transaction. */
const MIGRATIONS: readonly ((db: BetterSqlite3.Database) => void)[] = [
  // 0 → 1: the initial schema.
  (db) => {
    db.exec(`
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        ingested_at INTEGER NOT NULL,
        org_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX events_ingested_at ON events (ingested_at);
      CREATE TABLE key_blocks (
        first_seq INTEGER PRIMARY KEY,
        tags BLOB NOT NULL
      );
      CREATE TABLE log_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq INTEGER NOT NULL,
        events INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        last_ingested_at INTEGER NOT NULL,
        key_seed INTEGER NOT NULL
      );
    `);
    db.prepare(
      'INSERT INTO log_state (id, last_seq, events, bytes, last_ingested_at, key_seed) VALUES (1, 0, 0, 0, 0, ?)',
    ).run(randomInt(0, 2 ** 32));
  },
];

/**
 * Brings the database to SCHEMA_VERSION. Must run inside a write transaction (the caller's
 * `BEGIN IMMEDIATE`), so that a new file is either fully initialised or untouched.
 */
export function migrate(db: BetterSqlite3.Database, path: string): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (applicationId !== APPLICATION_ID) {
    const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
    if (applicationId !== 0 || version !== 0 || objects > 0) {
      throw new EventLogError(
        'FS_LOG_NOT_EVENT_LOG',
        `${path} is a SQLite database but not a flowstream event log (application_id ${applicationId})`,
        { path },
      );
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }
  if (version > SCHEMA_VERSION) {
    throw new EventLogError(
      'FS_LOG_SCHEMA_TOO_NEW',
      `${path} has event log schema version ${version}; this flowstream reads up to version ${SCHEMA_VERSION}`,
      { path },
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (step === undefined) throw new Error(`no migration from schema version ${v}`);
    step(db);
  }
  if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
