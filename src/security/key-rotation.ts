import { existsSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StreamStore } from '../streams/stream-store.js';
import { loadKeyring, MASTER_KEY_ENV, writeKeyringFile } from './master-key.js';
import { generateMasterKey, Keyring, type MasterKey } from './secret-sealer.js';

/**
 * Re-sealing stored secrets with the primary master key, and key rotation (docs/security.md).
 *
 * - `resealStreams` re-seals every stream definition that is plain text (stored before sealing
 *   existed) or sealed with another key; the service runs it at every start, before the stream
 *   manager opens the store, so a changed FLOWSTREAM_MASTER_KEY (with the old one in
 *   FLOWSTREAM_MASTER_KEY_PREVIOUS) takes effect at the next start.
 * - When it re-sealed anything, state.db is vacuumed and its WAL truncated, so the old ciphertext
 *   (or plain text) does not linger in free pages or the WAL.
 * - `rotateKeys` (`flowstream keys rotate`) needs the service stopped: it holds the data
 *   directory's lock (the event log's) while it works, and refuses when the lock is taken.
 */

export interface ResealReport {
  /** Stream definitions stored. */
  readonly streams: number;
  /** Of those, re-sealed with the primary key. */
  readonly resealed: number;
}

export interface RotationReport extends ResealReport {
  readonly source: 'env' | 'file';
  /** The key that seals from now on. */
  readonly primaryKeyId: string;
  /** Keys no longer needed: removed from keyring.json, or (environment) to drop from FLOWSTREAM_MASTER_KEY_PREVIOUS. */
  readonly retiredKeyIds: readonly string[];
}

/** A store error that names the data directory (a key that does not open a definition, mostly). */
export class KeyRotationError extends Error {
  readonly code = 'FS_KEY_ROTATION_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'KeyRotationError';
  }
}

/** Re-seals what is not sealed with the keyring's primary key. Throws when a definition does not open. */
export function resealStreams(directory: string, keyring: Keyring): ResealReport {
  // The store hands each stored text to `open` in listing order: remember which need re-sealing.
  const stale: boolean[] = [];
  const tracking = {
    seal: (plaintext: string) => keyring.seal(plaintext),
    open: (sealed: string) => {
      stale.push(keyring.needsReseal(sealed));
      return keyring.open(sealed);
    },
  };
  const store = StreamStore.open({ directory, sealer: tracking });
  let resealed = 0;
  let streams = 0;
  try {
    const definitions = store.listStreams();
    streams = definitions.length;
    definitions.forEach((definition, i) => {
      if (stale[i] !== true) return;
      store.putStream(definition, store.getState(definition.id)?.cursor ?? 0);
      resealed++;
    });
  } finally {
    store.close();
  }
  if (resealed > 0) scrub(path.join(directory, 'state.db'));
  return { streams, resealed };
}

/** Rewrites state.db without free pages and truncates its WAL: old ciphertext is gone from disk. */
function scrub(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * `flowstream keys rotate`: with keyring.json, a new primary key is added, everything is re-sealed
 * with it and the old keys are removed from the file. With FLOWSTREAM_MASTER_KEY, everything is
 * re-sealed with that key (the old one in FLOWSTREAM_MASTER_KEY_PREVIOUS opens the old blobs) and a
 * keyring.json, no longer needed, is deleted.
 */
export function rotateKeys(options: {
  readonly directory: string;
  readonly env?: NodeJS.ProcessEnv;
}): RotationReport {
  const { directory } = options;
  const env = options.env ?? process.env;
  const release = lockDataDirectory(directory);
  try {
    const loaded = loadKeyring({ directory, env, create: false });
    if (loaded.source === 'env') {
      const report = resealStreams(directory, loaded.keyring);
      if (existsSync(loaded.file)) unlinkSync(loaded.file);
      return {
        ...report,
        source: 'env',
        primaryKeyId: loaded.keyring.primary.id,
        retiredKeyIds: loaded.keyring.keyIds.filter((id) => id !== loaded.keyring.primary.id),
      };
    }
    const old = loaded.keyring;
    const fresh = generateMasterKey();
    const oldKeys = old.keyIds.map((id) => keyOf(old, id));
    // Step 1: the new key becomes primary while the old ones still open what they sealed. A crash
    // after this leaves a keyring that opens everything; running rotate again finishes the job.
    writeKeyringFile(loaded.file, [fresh, ...oldKeys], fresh);
    const report = resealStreams(directory, new Keyring(fresh, oldKeys));
    // Step 2: nothing is sealed with the old keys any more.
    writeKeyringFile(loaded.file, [fresh], fresh);
    return { ...report, source: 'file', primaryKeyId: fresh.id, retiredKeyIds: old.keyIds };
  } catch (err: unknown) {
    if (err instanceof Error && 'code' in err && String(err.code).startsWith('FS_SECRET')) {
      throw new KeyRotationError(`${directory}: ${err.message}`);
    }
    throw err;
  } finally {
    release();
  }
}

function keyOf(keyring: Keyring, id: string): MasterKey {
  const key = keyring.key(id);
  if (key === undefined) throw new Error(`key ${id} vanished from the keyring`);
  return key;
}

/**
 * Takes the data directory's lock: the exclusive lock the running service's event log holds on
 * `events.db` (sqlite-event-log.ts, `locking_mode = EXCLUSIVE`). Refuses when it is taken.
 */
function lockDataDirectory(directory: string): () => void {
  const file = path.join(directory, 'events.db');
  if (!existsSync(path.join(directory, 'state.db')) && !existsSync(file)) {
    throw new KeyRotationError(`${directory} is not a flowstream data directory (no state.db or events.db)`);
  }
  if (!existsSync(file)) return () => {};
  const db = new Database(file, { timeout: 200 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT;');
  } catch (err: unknown) {
    db.close();
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new KeyRotationError(
        `${directory} is in use by a running flowstream; stop the service, then run keys rotate again (${MASTER_KEY_ENV} mode re-seals at start without this command)`,
      );
    }
    throw err;
  }
  return () => db.close();
}
