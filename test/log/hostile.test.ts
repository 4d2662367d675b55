import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StorageFullError } from '../../src/log/event-log.js';
import { type EventLogErrorCode, isEventLogError } from '../../src/log/event-log-error.js';
import { openSqliteEventLog } from '../../src/log/sqlite-event-log.js';
import { events, tempDirectory } from './helpers.js';

/**
 * What the log does with a data directory it cannot use: every case ends in an EventLogError with
 * a stable code, never a bare SQLite error, a hang, or a silently half-working log.
 */

const OPEN_CHILD = fileURLToPath(new URL('./fixtures/open-child.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Permissions do not bind root: as root, the read-only cases run in a child as `nobody`. */
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

function expectOpenError(directory: string, code: EventLogErrorCode, message?: RegExp): void {
  assert.throws(
    () => openSqliteEventLog({ directory, busyTimeoutMillis: 50 }),
    (error: unknown) => {
      assert.ok(isEventLogError(error), `expected an EventLogError, got ${String(error)}`);
      assert.equal(error.code, code, error.message);
      if (message !== undefined) assert.match(error.message, message);
      return true;
    },
  );
}

/** Runs open-child.ts (unprivileged when we are root) and returns its JSON report. */
function openInChild(directory: string): { ok: boolean; code?: string; lastSeq?: number } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', OPEN_CHILD, directory], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    ...(AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `child said: ${result.stdout} ${result.stderr}`);
  return JSON.parse(line) as { ok: boolean; code?: string; lastSeq?: number };
}

/** A directory the child's user owns and can reach (a mkdtemp directory is 0700, root's). */
function childOwned(path: string): void {
  chmodSync(path, 0o755);
  if (AS_ROOT) spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path]);
}

describe('unusable data directories', () => {
  test('a file where the directory should be: FS_LOG_OPEN_FAILED', () => {
    const dir = tempDirectory();
    try {
      const file = join(dir.path, 'data');
      writeFileSync(file, 'not a directory');
      expectOpenError(file, 'FS_LOG_OPEN_FAILED', /not a directory|cannot create/);
      expectOpenError(join(file, 'sub'), 'FS_LOG_OPEN_FAILED', /cannot create/);
    } finally {
      dir.remove();
    }
  });

  test('a directory where events.db should be: FS_LOG_OPEN_FAILED', () => {
    const dir = tempDirectory();
    try {
      spawnSync('mkdir', [join(dir.path, 'events.db')]);
      expectOpenError(dir.path, 'FS_LOG_OPEN_FAILED');
    } finally {
      dir.remove();
    }
  });

  test('sanity: the unprivileged child can open a writable directory', () => {
    const dir = tempDirectory();
    try {
      childOwned(dir.path);
      assert.deepEqual(openInChild(dir.path), { ok: true, lastSeq: 1 });
    } finally {
      dir.remove();
    }
  });

  test('a read-only empty directory: FS_LOG_READ_ONLY', () => {
    const dir = tempDirectory();
    try {
      childOwned(dir.path);
      chmodSync(dir.path, 0o555);
      assert.equal(openInChild(dir.path).code, 'FS_LOG_READ_ONLY');
    } finally {
      chmodSync(dir.path, 0o755);
      dir.remove();
    }
  });

  test('a read-only directory holding a log: FS_LOG_READ_ONLY, and the log is intact afterwards', async () => {
    const dir = tempDirectory();
    try {
      const log = openSqliteEventLog({ directory: dir.path });
      await log.append(events('k', 5));
      await log.close();
      childOwned(dir.path);
      chmodSync(dir.path, 0o555);
      assert.equal(openInChild(dir.path).code, 'FS_LOG_READ_ONLY');
      chmodSync(dir.path, 0o755);
      const reopened = openSqliteEventLog({ directory: dir.path });
      assert.equal(reopened.lastSeq(), 5);
      await reopened.close();
    } finally {
      chmodSync(dir.path, 0o755);
      dir.remove();
    }
  });

  test('a read-only events.db in a writable directory: FS_LOG_READ_ONLY', async () => {
    const dir = tempDirectory();
    try {
      const log = openSqliteEventLog({ directory: dir.path });
      await log.append(events('k', 5));
      await log.close();
      childOwned(dir.path);
      chmodSync(join(dir.path, 'events.db'), 0o444);
      assert.equal(openInChild(dir.path).code, 'FS_LOG_READ_ONLY');
    } finally {
      dir.remove();
    }
  });
});

describe('files that are not a healthy event log', () => {
  test('garbage in events.db: FS_LOG_CORRUPT', () => {
    const dir = tempDirectory();
    try {
      writeFileSync(join(dir.path, 'events.db'), Buffer.alloc(16_384, 0x42));
      expectOpenError(dir.path, 'FS_LOG_CORRUPT');
    } finally {
      dir.remove();
    }
  });

  test('a truncated events.db: FS_LOG_CORRUPT', async () => {
    const dir = tempDirectory();
    try {
      const log = openSqliteEventLog({ directory: dir.path });
      await log.append(events('k', 3000));
      await log.close();
      truncateSync(log.databasePath, Math.floor(statSync(log.databasePath).size / 2));
      expectOpenError(dir.path, 'FS_LOG_CORRUPT');
    } finally {
      dir.remove();
    }
  });

  test('pages overwritten in the middle: reads fail with FS_LOG_CORRUPT and verifyIntegrity says so', async () => {
    const dir = tempDirectory();
    try {
      let log = openSqliteEventLog({ directory: dir.path });
      await log.append(events('k', 3000));
      await log.close();
      const pageBytes = 16_384;
      const middle = pageBytes * Math.floor(statSync(log.databasePath).size / pageBytes / 2);
      const fd = openSync(log.databasePath, 'r+');
      writeSync(fd, Buffer.alloc(pageBytes * 3, 0x5a), 0, pageBytes * 3, middle);
      closeSync(fd);
      // Opening does not read every page (that would be O(size)); the damage shows on access.
      log = openSqliteEventLog({ directory: dir.path });
      try {
        await assert.rejects(log.readAfter(0, 5000), (error: unknown) =>
          isEventLogError(error, 'FS_LOG_CORRUPT'),
        );
        const report = log.verifyIntegrity();
        assert.equal(report.ok, false);
        assert.ok(report.problems.length > 0);
      } finally {
        await log.close();
      }
    } finally {
      dir.remove();
    }
  });

  test('another SQLite database: FS_LOG_NOT_EVENT_LOG, and the file is left alone', () => {
    const dir = tempDirectory();
    try {
      const path = join(dir.path, 'events.db');
      const other = new Database(path);
      other.exec(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x')",
      );
      other.close();
      expectOpenError(dir.path, 'FS_LOG_NOT_EVENT_LOG');
      const check = new Database(path, { readonly: true });
      assert.equal(check.prepare('SELECT count(*) FROM accounts').pluck().get(), 1);
      assert.equal(check.pragma('application_id', { simple: true }), 0);
      check.close();
    } finally {
      dir.remove();
    }
  });

  test('a log written by a newer schema version: FS_LOG_SCHEMA_TOO_NEW, never downgraded', async () => {
    const dir = tempDirectory();
    try {
      const log = openSqliteEventLog({ directory: dir.path });
      await log.close();
      const db = new Database(log.databasePath);
      db.pragma('user_version = 99');
      db.close();
      expectOpenError(dir.path, 'FS_LOG_SCHEMA_TOO_NEW', /version 99/);
      const check = new Database(log.databasePath, { readonly: true });
      assert.equal(check.pragma('user_version', { simple: true }), 99);
      check.close();
    } finally {
      dir.remove();
    }
  });
});

describe('one owner per data directory', () => {
  test('a second open in the same process: FS_LOG_LOCKED; free again after close', async () => {
    const dir = tempDirectory();
    try {
      const first = openSqliteEventLog({ directory: dir.path });
      expectOpenError(dir.path, 'FS_LOG_LOCKED');
      await first.append(events('k', 2));
      await first.close();
      const second = openSqliteEventLog({ directory: dir.path });
      assert.equal(second.lastSeq(), 2);
      await second.close();
    } finally {
      dir.remove();
    }
  });

  test('a log held by another process: FS_LOG_LOCKED until that process dies', async () => {
    const dir = tempDirectory();
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', OPEN_CHILD, dir.path, 'hold'], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const stdout = child.stdout;
      assert.ok(stdout);
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: stdout }).once('line', resolve);
        child?.once('exit', () => reject(new Error('the holding child exited early')));
      });
      assert.deepEqual(JSON.parse(first), { ok: true, holding: true });
      expectOpenError(dir.path, 'FS_LOG_LOCKED');
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const log = openSqliteEventLog({ directory: dir.path });
      assert.equal(log.lastSeq(), 0);
      await log.close();
    } finally {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      dir.remove();
    }
  });
});

describe('a full disk', () => {
  /** A 1 MiB tmpfs, when this process may mount one (root in a VM or privileged container). */
  function smallDisk(): { path: string; release(): void } | undefined {
    const dir = tempDirectory('fs-log-full-');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir.path]);
    if (mounted.status !== 0) {
      dir.remove();
      return undefined;
    }
    return {
      path: dir.path,
      release: () => {
        spawnSync('umount', [dir.path]);
        dir.remove();
      },
    };
  }
  const probe = smallDisk();
  probe?.release();

  test('SQLITE_FULL is a StorageFullError; what was acknowledged stays intact and readable', {
    skip: probe === undefined ? 'cannot mount a small tmpfs here (needs root)' : false,
  }, async () => {
    const disk = smallDisk();
    assert.ok(disk);
    try {
      const log = openSqliteEventLog({ directory: disk.path });
      let acknowledged = 0;
      let failure: unknown;
      for (let batch = 0; failure === undefined && batch < 1000; batch++) {
        const padded = events(`b${batch}`, 100).map((e) => ({ ...e, json: `${e.json}${' '.repeat(300)}` }));
        await log.append(padded).then(
          () => {
            acknowledged += 100;
          },
          (error: unknown) => {
            failure = error;
          },
        );
      }
      assert.ok(failure instanceof StorageFullError, `expected StorageFullError, got ${String(failure)}`);
      assert.match(failure.message, /disk .* is full/);
      assert.ok(acknowledged > 0);
      assert.equal(log.lastSeq(), acknowledged);
      assert.equal((await log.readAfter(0, acknowledged + 10)).length, acknowledged);
      assert.deepEqual(log.verifyIntegrity(), { ok: true, problems: [] });
      await log.close();
      const reopened = openSqliteEventLog({ directory: disk.path });
      assert.equal(reopened.stats().events, acknowledged);
      await reopened.close();
    } finally {
      disk.release();
    }
  });
});
