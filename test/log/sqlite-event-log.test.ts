import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type NewEvent, StorageFullError } from '../../src/log/event-log.js';
import { isEventLogError } from '../../src/log/event-log-error.js';
import { keyTag } from '../../src/log/key-index.js';
import {
  MAX_GROUP_EVENTS,
  openSqliteEventLog,
  type SqliteEventLog,
  type SqliteEventLogOptions,
} from '../../src/log/sqlite-event-log.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/log/sqlite-schema.js';
import { byteLength, event, events, manualClock, tempDirectory } from './helpers.js';

/** Opens a log in a fresh temp directory; the returned cleanup closes it and removes the directory. */
function fresh(options: Partial<SqliteEventLogOptions> = {}): {
  log: SqliteEventLog;
  directory: string;
  reopen(more?: Partial<SqliteEventLogOptions>): Promise<SqliteEventLog>;
  cleanup(): Promise<void>;
} {
  const dir = tempDirectory();
  const state = {
    log: openSqliteEventLog({ ...options, directory: dir.path }),
    directory: dir.path,
    async reopen(more: Partial<SqliteEventLogOptions> = {}) {
      await state.log.close();
      state.log = openSqliteEventLog({ ...options, ...more, directory: dir.path });
      return state.log;
    },
    async cleanup() {
      await state.log.close();
      dir.remove();
    },
  };
  return state;
}

function code(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

describe('open', () => {
  test('creates the directory with its parents and an identified, versioned WAL database', async () => {
    const dir = tempDirectory();
    try {
      const directory = join(dir.path, 'a', 'b');
      const log = openSqliteEventLog({ directory });
      assert.equal(log.databasePath, join(directory, 'events.db'));
      assert.ok(existsSync(log.databasePath));
      await log.close();
      const db = new Database(join(directory, 'events.db'), { readonly: true });
      try {
        assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
        assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(db.pragma('page_size', { simple: true }), 16_384);
      } finally {
        db.close();
      }
    } finally {
      dir.remove();
    }
  });

  test('an empty log: lastSeq 0, firstSeq 1, nothing to read', async () => {
    const t = fresh();
    try {
      assert.equal(t.log.lastSeq(), 0);
      assert.equal(t.log.firstSeq(), 1);
      assert.deepEqual(await t.log.readAfter(0, 10), []);
      assert.equal(t.log.seqAtOrAfter(0), 1);
      assert.deepEqual(t.log.stats(), {
        events: 0,
        bytes: 0,
        firstSeq: 1,
        lastSeq: 0,
        appendCalls: 0,
        groupCommits: 0,
        retentionDeleted: 0,
        keyIndexBytes: 8192,
      });
      assert.deepEqual(t.log.retentionPolicy, {
        maxAgeMillis: 7 * 24 * 3600 * 1000,
        maxBytes: 10 * 1024 ** 3,
      });
      assert.equal(t.log.maxBytes, 20 * 1024 ** 3);
    } finally {
      await t.cleanup();
    }
  });

  test('bad options are refused with FS_LOG_INVALID_ARGUMENT naming the option', () => {
    const dir = tempDirectory();
    try {
      const bad: [Partial<SqliteEventLogOptions>, RegExp][] = [
        [{ directory: '' }, /directory/],
        [{ maxBytes: 0 }, /maxBytes must be a positive number/],
        [{ maxBytes: Number.NaN }, /maxBytes/],
        [{ retention: { maxAgeMillis: -1 } }, /retention.maxAgeMillis/],
        [{ retention: { maxBytes: 0 } }, /retention.maxBytes/],
        [{ retentionChunkRows: 1.5 }, /retentionChunkRows must be a positive integer, got 1.5/],
        [{ retentionIntervalMillis: -5 }, /retentionIntervalMillis/],
        [{ busyTimeoutMillis: -1 }, /busyTimeoutMillis/],
      ];
      for (const [options, message] of bad) {
        assert.throws(
          () => openSqliteEventLog({ directory: dir.path, ...options }),
          (error: unknown) =>
            isEventLogError(error, 'FS_LOG_INVALID_ARGUMENT') && message.test(error.message),
          JSON.stringify(options),
        );
      }
    } finally {
      dir.remove();
    }
  });
});

describe('append', () => {
  test('assigns seqs from 1 in order and stores every field and the JSON text exactly', async () => {
    const clock = manualClock();
    const t = fresh({ now: clock.now });
    try {
      const unicode: NewEvent = { ...event('u'), json: '{"user_email":"zoë@例え.jp","emoji":"😀"}' };
      const result = await t.log.append([event('a'), event('b'), unicode]);
      assert.deepEqual(result, { accepted: 3, duplicates: 0, seqs: [1, 2, 3] });
      const stored = await t.log.readAfter(0, 10);
      assert.deepEqual(stored, [
        { seq: 1, ingestedAtMillis: clock.now(), ...event('a') },
        { seq: 2, ingestedAtMillis: clock.now(), ...event('b') },
        { seq: 3, ingestedAtMillis: clock.now(), ...unicode },
      ]);
      const bytes = byteLength(event('a').json) + byteLength(event('b').json) + byteLength(unicode.json);
      assert.equal(t.log.stats().bytes, bytes);
      assert.notEqual(bytes, event('a').json.length + event('b').json.length + unicode.json.length);
      assert.equal(t.log.lastSeq(), 3);
    } finally {
      await t.cleanup();
    }
  });

  test('a key repeated within one append is stored once', async () => {
    const t = fresh();
    try {
      const result = await t.log.append([event('a'), event('b'), event('a'), event('a')]);
      assert.deepEqual(result, { accepted: 2, duplicates: 2, seqs: [1, 2, null, null] });
      assert.equal(t.log.stats().events, 2);
    } finally {
      await t.cleanup();
    }
  });

  test('a key already stored is a duplicate, also after reopening', async () => {
    const t = fresh();
    try {
      await t.log.append([event('a'), event('b')]);
      assert.deepEqual(await t.log.append([event('b'), event('c')]), {
        accepted: 1,
        duplicates: 1,
        seqs: [null, 3],
      });
      const log = await t.reopen();
      assert.deepEqual(await log.append([event('a'), event('d')]), {
        accepted: 1,
        duplicates: 1,
        seqs: [null, 4],
      });
      assert.deepEqual(
        (await log.readAfter(0, 10)).map((e) => e.idempotencyKey),
        ['a', 'b', 'c', 'd'],
      );
    } finally {
      await t.cleanup();
    }
  });

  test('two different keys with the same key tag are both stored, and both recognised as duplicates', async () => {
    const t = fresh();
    try {
      await t.log.close();
      const db = new Database(join(t.directory, 'events.db'), { readonly: true });
      const seed = db.prepare('SELECT key_seed FROM log_state').pluck().get() as number;
      db.close();
      // Birthday search for two keys whose 32-bit tags collide under this log's seed.
      const byTag = new Map<number, string>();
      let pair: [string, string] | undefined;
      for (let i = 0; pair === undefined; i++) {
        const key = `collide-${i}`;
        const other = byTag.get(keyTag(key, seed));
        if (other !== undefined) pair = [other, key];
        byTag.set(keyTag(key, seed), key);
      }
      const [first, second] = pair;
      let log = await t.reopen();
      assert.deepEqual((await log.append([event(first)])).seqs, [1]);
      assert.deepEqual(await log.append([event(second), event(first), event(second)]), {
        accepted: 1,
        duplicates: 2,
        seqs: [2, null, null],
      });
      log = await t.reopen();
      assert.deepEqual(await log.append([event(first), event(second)]), {
        accepted: 0,
        duplicates: 2,
        seqs: [null, null],
      });
      assert.deepEqual(log.verifyIntegrity(), { ok: true, problems: [] });
    } finally {
      await t.cleanup();
    }
  });

  test('an all-duplicate append resolves without advancing lastSeq or notifying', async () => {
    const t = fresh();
    try {
      await t.log.append([event('a')]);
      const seen: number[] = [];
      t.log.onAppend((seq) => seen.push(seq));
      assert.deepEqual(await t.log.append([event('a')]), { accepted: 0, duplicates: 1, seqs: [null] });
      assert.equal(t.log.lastSeq(), 1);
      assert.deepEqual(seen, []);
    } finally {
      await t.cleanup();
    }
  });

  test('an empty append resolves at once without a commit', async () => {
    const t = fresh();
    try {
      assert.deepEqual(await t.log.append([]), { accepted: 0, duplicates: 0, seqs: [] });
      assert.equal(t.log.stats().groupCommits, 0);
    } finally {
      await t.cleanup();
    }
  });

  test('invalid events reject with FS_LOG_INVALID_EVENT and store nothing', async () => {
    const t = fresh();
    try {
      const cases: unknown[] = [
        [{ ...event('a'), json: 7 }],
        [{ ...event('a'), idempotencyKey: '' }],
        [{ ...event('a'), json: '' }],
        [event('a'), null],
        [{ ...event('a'), orgId: undefined }],
        'not an array',
      ];
      for (const input of cases) {
        await assert.rejects(t.log.append(input as NewEvent[]), (error: unknown) =>
          isEventLogError(error, 'FS_LOG_INVALID_EVENT'),
        );
      }
      assert.equal(t.log.lastSeq(), 0);
      assert.equal(t.log.stats().events, 0);
    } finally {
      await t.cleanup();
    }
  });

  test('the caller may reuse its array after append returns', async () => {
    const t = fresh();
    try {
      const batch = [event('a'), event('b')];
      const pending = t.log.append(batch);
      batch.length = 0;
      batch.push(event('z'));
      assert.deepEqual(await pending, { accepted: 2, duplicates: 0, seqs: [1, 2] });
    } finally {
      await t.cleanup();
    }
  });
});

describe('group commit', () => {
  test('appends made in the same tick share one transaction, served in call order', async () => {
    const t = fresh();
    try {
      const results = await Promise.all([
        t.log.append(events('a', 3)),
        t.log.append(events('b', 2)),
        t.log.append(events('c', 4)),
        t.log.append(events('d', 1)),
        t.log.append(events('e', 5)),
      ]);
      assert.deepEqual(
        results.map((r) => r.seqs),
        [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10], [11, 12, 13, 14, 15]],
      );
      const stats = t.log.stats();
      assert.equal(stats.groupCommits, 1);
      assert.equal(stats.appendCalls, 5);
    } finally {
      await t.cleanup();
    }
  });

  test('appends awaited one after the other commit one by one', async () => {
    const t = fresh();
    try {
      for (let i = 0; i < 3; i++) await t.log.append([event(`k${i}`)]);
      assert.equal(t.log.stats().groupCommits, 3);
    } finally {
      await t.cleanup();
    }
  });

  test('appends from separate microtasks of one burst are merged too', async () => {
    const t = fresh();
    try {
      const first = t.log.append([event('a')]);
      const second = Promise.resolve().then(() => t.log.append([event('b')]));
      const third = queueMicrotaskAppend(t.log, event('c'));
      await Promise.all([first, second, third]);
      assert.equal(t.log.stats().groupCommits, 1);
    } finally {
      await t.cleanup();
    }
  });

  test('when two callers in one group send the same key, the first stores it and the second sees a duplicate', async () => {
    const t = fresh();
    try {
      const [first, second] = await Promise.all([
        t.log.append([event('x'), event('shared')]),
        t.log.append([event('shared'), event('y')]),
      ]);
      assert.deepEqual(first, { accepted: 2, duplicates: 0, seqs: [1, 2] });
      assert.deepEqual(second, { accepted: 1, duplicates: 1, seqs: [null, 3] });
      const stored = await t.log.readAfter(0, 10);
      assert.equal(stored.filter((e) => e.idempotencyKey === 'shared').length, 1);
      assert.equal(t.log.stats().groupCommits, 1);
    } finally {
      await t.cleanup();
    }
  });

  test("one caller's failure does not touch the others in its group", async () => {
    const limit = byteLength(event('k-0').json) * 4;
    const t = fresh({ maxBytes: limit });
    try {
      const results = await Promise.allSettled([
        t.log.append(events('k', 2)),
        t.log.append([{ ...event('bad'), json: 1 } as unknown as NewEvent]),
        t.log.append([event('big', 'x'.repeat(limit))]),
        t.log.append([event('k2'), event('k3')]),
      ]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      assert.equal(code(results[1].status === 'rejected' ? results[1].reason : null), 'FS_LOG_INVALID_EVENT');
      assert.equal(results[2].status, 'rejected');
      assert.ok(results[2].status === 'rejected' && results[2].reason instanceof StorageFullError);
      assert.deepEqual(results[3].status === 'fulfilled' ? results[3].value.seqs : null, [3, 4]);
      assert.deepEqual(
        (await t.log.readAfter(0, 10)).map((e) => e.idempotencyKey),
        ['k-0', 'k-1', 'k2', 'k3'],
      );
      assert.equal(t.log.stats().groupCommits, 1);
    } finally {
      await t.cleanup();
    }
  });

  test(`a group takes at most ${MAX_GROUP_EVENTS} events; the rest commit in the next one`, async () => {
    const t = fresh();
    const size = Math.ceil(MAX_GROUP_EVENTS * 0.4);
    try {
      const results = await Promise.all([
        t.log.append(events('a', size)),
        t.log.append(events('b', size)),
        t.log.append(events('c', size)),
      ]);
      assert.equal(t.log.stats().groupCommits, 2);
      assert.equal(results[2]?.seqs[0], 2 * size + 1);
      assert.equal(t.log.lastSeq(), 3 * size);
    } finally {
      await t.cleanup();
    }
  });
});

function queueMicrotaskAppend(log: SqliteEventLog, e: NewEvent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    queueMicrotask(() => {
      log.append([e]).then(resolve, reject);
    });
  });
}

describe('storage limit', () => {
  test('an append that would go over maxBytes is refused whole with StorageFullError', async () => {
    const one = byteLength(event('k-0').json);
    const t = fresh({ maxBytes: one * 3 });
    try {
      await t.log.append(events('k', 2));
      await assert.rejects(t.log.append([event('k-2'), event('k-3')]), (error: unknown) => {
        assert.ok(error instanceof StorageFullError);
        assert.equal(code(error), 'FS_STORAGE_FULL');
        return true;
      });
      assert.equal(t.log.stats().events, 2);
      // Exactly at the limit is allowed; duplicates take no space.
      assert.deepEqual(await t.log.append([event('k-0'), event('k-2')]), {
        accepted: 1,
        duplicates: 1,
        seqs: [null, 3],
      });
      assert.equal(t.log.stats().bytes, one * 3);
      await assert.rejects(t.log.append([event('k-3')]), StorageFullError);
      // Retention makes room again.
      const log = await t.reopen({ retention: { maxBytes: one } });
      log.enforceRetention();
      assert.deepEqual((await log.append([event('k-3')])).seqs, [4]);
    } finally {
      await t.cleanup();
    }
  });
});

describe('readAfter', () => {
  test('returns events after the given seq, ascending, at most limit', async () => {
    const t = fresh();
    try {
      await t.log.append(events('k', 10));
      const keysAfter = async (after: number, limit: number) =>
        (await t.log.readAfter(after, limit)).map((e) => e.seq);
      assert.deepEqual(await keysAfter(0, 3), [1, 2, 3]);
      assert.deepEqual(await keysAfter(7, 100), [8, 9, 10]);
      assert.deepEqual(await keysAfter(10, 5), []);
      assert.deepEqual(await keysAfter(99, 5), []);
      assert.deepEqual(await keysAfter(-5, 2), [1, 2]);
      assert.deepEqual(await keysAfter(2.5, 2), [3, 4]);
      assert.deepEqual(await keysAfter(3, 0), []);
    } finally {
      await t.cleanup();
    }
  });

  test('bad arguments reject with FS_LOG_INVALID_ARGUMENT', async () => {
    const t = fresh();
    try {
      for (const [after, limit] of [
        [Number.NaN, 1],
        [0, -1],
        [0, 1.5],
        ['1', 1],
      ] as const) {
        await assert.rejects(t.log.readAfter(after as number, limit), (error: unknown) =>
          isEventLogError(error, 'FS_LOG_INVALID_ARGUMENT'),
        );
      }
    } finally {
      await t.cleanup();
    }
  });

  test('after retention, reads start at the oldest stored event', async () => {
    const t = fresh({ retention: { maxBytes: byteLength(event('k-0').json) * 3 } });
    try {
      await t.log.append(events('k', 6));
      t.log.enforceRetention();
      assert.deepEqual(
        (await t.log.readAfter(0, 10)).map((e) => e.seq),
        [4, 5, 6],
      );
    } finally {
      await t.cleanup();
    }
  });
});

describe('onAppend', () => {
  test('listeners run after the commit with the new lastSeq, and the events are readable then', async () => {
    const t = fresh();
    try {
      const seen: { lastSeq: number; readable: number }[] = [];
      const reads: Promise<void>[] = [];
      t.log.onAppend((lastSeq) => {
        reads.push(
          t.log.readAfter(0, 100).then((rows) => {
            seen.push({ lastSeq, readable: rows.length });
          }),
        );
      });
      await Promise.all([t.log.append(events('a', 2)), t.log.append(events('b', 3))]);
      await t.log.append([event('c')]);
      await Promise.all(reads);
      assert.deepEqual(seen, [
        { lastSeq: 5, readable: 5 },
        { lastSeq: 6, readable: 6 },
      ]);
    } finally {
      await t.cleanup();
    }
  });

  test('unsubscribe stops notifications; the same function subscribed twice is two subscriptions', async () => {
    const t = fresh();
    try {
      const seen: number[] = [];
      const listener = (seq: number) => seen.push(seq);
      const off1 = t.log.onAppend(listener);
      const off2 = t.log.onAppend(listener);
      await t.log.append([event('a')]);
      off1();
      await t.log.append([event('b')]);
      off2();
      off2();
      await t.log.append([event('c')]);
      assert.deepEqual(seen, [1, 1, 2]);
    } finally {
      await t.cleanup();
    }
  });

  test('a listener that throws goes to onError; the append and other listeners are unaffected', async () => {
    const errors: [unknown, string][] = [];
    const t = fresh({ onError: (error, source) => errors.push([error, source]) });
    try {
      const seen: number[] = [];
      t.log.onAppend(() => {
        throw new Error('listener bug');
      });
      t.log.onAppend((seq) => seen.push(seq));
      assert.deepEqual((await t.log.append([event('a')])).seqs, [1]);
      assert.deepEqual(seen, [1]);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.[1], 'listener');
      assert.match(String((errors[0]?.[0] as Error | undefined)?.message), /listener bug/);
    } finally {
      await t.cleanup();
    }
  });
});

describe('time: ingestedAtMillis and seqAtOrAfter', () => {
  test('seqAtOrAfter finds the first event stored at or after a time', async () => {
    const clock = manualClock(10_000);
    const t = fresh({ now: clock.now });
    try {
      await t.log.append(events('a', 2)); // seqs 1-2 at 10000
      clock.set(20_000);
      await t.log.append(events('b', 2)); // seqs 3-4 at 20000
      clock.set(30_000);
      await t.log.append(events('c', 1)); // seq 5 at 30000
      assert.equal(t.log.seqAtOrAfter(0), 1);
      assert.equal(t.log.seqAtOrAfter(10_000), 1);
      assert.equal(t.log.seqAtOrAfter(10_001), 3);
      assert.equal(t.log.seqAtOrAfter(20_000), 3);
      assert.equal(t.log.seqAtOrAfter(29_999.5), 5);
      assert.equal(t.log.seqAtOrAfter(30_001), 6);
      assert.throws(
        () => t.log.seqAtOrAfter(Number.NaN),
        (error: unknown) => isEventLogError(error, 'FS_LOG_INVALID_ARGUMENT'),
      );
    } finally {
      await t.cleanup();
    }
  });

  test('a clock that returns NaN fails the whole group with FS_LOG_INVALID_ARGUMENT and leaves no trace', async () => {
    const clock = manualClock(5000);
    const t = fresh({ now: clock.now });
    try {
      await t.log.append([event('a')]);
      clock.set(Number.NaN);
      const results = await Promise.allSettled([t.log.append([event('b')]), t.log.append([event('c')])]);
      for (const result of results) {
        assert.ok(result.status === 'rejected' && isEventLogError(result.reason, 'FS_LOG_INVALID_ARGUMENT'));
      }
      clock.set(6000);
      // The failed group's keys were not kept: they store now, with the next seqs.
      assert.deepEqual((await t.log.append([event('b'), event('c')])).seqs, [2, 3]);
      assert.deepEqual(t.log.verifyIntegrity(), { ok: true, problems: [] });
    } finally {
      await t.cleanup();
    }
  });

  test('a clock that goes back never makes ingestedAtMillis decrease, also across reopen', async () => {
    const clock = manualClock(50_000);
    const t = fresh({ now: clock.now });
    try {
      await t.log.append([event('a')]);
      clock.set(40_000);
      await t.log.append([event('b')]);
      const log = await t.reopen();
      clock.set(30_000);
      await log.append([event('c')]);
      clock.set(60_000.7);
      await log.append([event('d')]);
      assert.deepEqual(
        (await log.readAfter(0, 10)).map((e) => e.ingestedAtMillis),
        [50_000, 50_000, 50_000, 60_000],
      );
      assert.equal(log.seqAtOrAfter(40_000), 1);
    } finally {
      await t.cleanup();
    }
  });
});

describe('retention', () => {
  test('deletes events older than maxAgeMillis, keeping those exactly that old', async () => {
    const clock = manualClock(100_000);
    const t = fresh({ now: clock.now, retention: { maxAgeMillis: 1000 } });
    try {
      await t.log.append(events('old', 3));
      clock.advance(500);
      await t.log.append(events('mid', 2));
      clock.advance(1000); // old: 1500 ms old, mid: exactly 1000 ms old
      assert.deepEqual(t.log.enforceRetention(), { deleted: 3, firstSeq: 4 });
      assert.deepEqual(t.log.enforceRetention(), { deleted: 0, firstSeq: 4 });
      clock.advance(1);
      assert.deepEqual(t.log.enforceRetention(), { deleted: 2, firstSeq: 6 });
      assert.deepEqual(t.log.stats(), {
        events: 0,
        bytes: 0,
        firstSeq: 6,
        lastSeq: 5,
        appendCalls: 2,
        groupCommits: 2,
        retentionDeleted: 5,
        keyIndexBytes: 8192,
      });
    } finally {
      await t.cleanup();
    }
  });

  test('deletes the oldest events while the stored bytes exceed maxBytes', async () => {
    const t = fresh({ retention: { maxBytes: 100 } });
    try {
      const sized = (key: string, bytes: number): NewEvent => {
        const base = event(key);
        return { ...base, json: `${'x'.repeat(bytes - 2)}{}` };
      };
      await t.log.append([sized('a', 40), sized('b', 30), sized('c', 50), sized('d', 20)]); // 140 bytes
      assert.deepEqual(t.log.enforceRetention(), { deleted: 1, firstSeq: 2 }); // 100 left: not over
      assert.equal(t.log.stats().bytes, 100);
      await t.log.append([sized('e', 2)]);
      assert.deepEqual(t.log.enforceRetention(), { deleted: 1, firstSeq: 3 });
      assert.equal(t.log.stats().bytes, 72);
    } finally {
      await t.cleanup();
    }
  });

  test('works in chunks of retentionChunkRows and deletes everything due', async () => {
    const clock = manualClock();
    const t = fresh({ now: clock.now, retention: { maxAgeMillis: 10 }, retentionChunkRows: 7 });
    try {
      await t.log.append(events('k', 50));
      clock.advance(11);
      await t.log.append(events('new', 3));
      assert.deepEqual(t.log.enforceRetention(), { deleted: 50, firstSeq: 51 });
      assert.deepEqual(t.log.verifyIntegrity(), { ok: true, problems: [] });
    } finally {
      await t.cleanup();
    }
  });

  test('runRetention yields between chunks: an append commits while a long run is under way', async () => {
    const clock = manualClock();
    const t = fresh({ now: clock.now, retention: { maxAgeMillis: 10 }, retentionChunkRows: 5 });
    try {
      await t.log.append(events('k', 100));
      clock.advance(11);
      const order: string[] = [];
      const run = t.log.runRetention().then((result) => {
        order.push('retention');
        return result;
      });
      assert.equal(t.log.runRetention(), t.log.runRetention(), 'concurrent calls share one run');
      const appended = t.log.append([event('during')]).then(() => order.push('append'));
      const [result] = await Promise.all([run, appended]);
      assert.deepEqual(order, ['append', 'retention']);
      assert.equal(result.deleted, 100);
      assert.equal(result.firstSeq, 101);
      assert.deepEqual(
        (await t.log.readAfter(0, 10)).map((e) => e.idempotencyKey),
        ['during'],
      );
    } finally {
      await t.cleanup();
    }
  });

  test('seqs are never reused after retention empties the log, also across reopen', async () => {
    const clock = manualClock();
    const t = fresh({ now: clock.now, retention: { maxAgeMillis: 10 } });
    try {
      await t.log.append(events('k', 5));
      clock.advance(11);
      assert.deepEqual(t.log.enforceRetention(), { deleted: 5, firstSeq: 6 });
      assert.equal(t.log.lastSeq(), 5);
      const log = await t.reopen();
      assert.equal(log.lastSeq(), 5);
      assert.equal(log.firstSeq(), 6);
      assert.equal(log.seqAtOrAfter(0), 6);
      // A key whose event retention removed may be stored again, with a new seq.
      assert.deepEqual(await log.append([event('k-0'), event('fresh')]), {
        accepted: 2,
        duplicates: 0,
        seqs: [6, 7],
      });
    } finally {
      await t.cleanup();
    }
  });

  test('the retention timer runs retention in the background', async () => {
    const clock = manualClock();
    const t = fresh({ now: clock.now, retention: { maxAgeMillis: 10 }, retentionIntervalMillis: 5 });
    try {
      await t.log.append(events('k', 3));
      clock.advance(11);
      for (let waited = 0; t.log.stats().events > 0 && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(t.log.stats().events, 0);
      assert.equal(t.log.stats().retentionDeleted, 3);
    } finally {
      await t.cleanup();
    }
  });
});

describe('close', () => {
  test('commits appends still pending, is idempotent, and refuses later use', async () => {
    const t = fresh();
    try {
      const pending = t.log.append(events('k', 3));
      const closing = t.log.close();
      assert.equal(t.log.close(), closing);
      await closing;
      assert.deepEqual((await pending).seqs, [1, 2, 3]);
      await assert.rejects(t.log.append([event('late')]), (error: unknown) =>
        isEventLogError(error, 'FS_LOG_CLOSED'),
      );
      await assert.rejects(t.log.readAfter(0, 1), (error: unknown) =>
        isEventLogError(error, 'FS_LOG_CLOSED'),
      );
      assert.throws(
        () => t.log.seqAtOrAfter(0),
        (error: unknown) => isEventLogError(error, 'FS_LOG_CLOSED'),
      );
      assert.throws(
        () => t.log.enforceRetention(),
        (error: unknown) => isEventLogError(error, 'FS_LOG_CLOSED'),
      );
      await assert.rejects(t.log.runRetention(), (error: unknown) => isEventLogError(error, 'FS_LOG_CLOSED'));
      // The last known counters stay readable (shutdown metrics).
      assert.equal(t.log.lastSeq(), 3);
      assert.equal(t.log.stats().events, 3);
      const log = await t.reopen();
      assert.equal(log.lastSeq(), 3);
      assert.equal((await log.readAfter(0, 10)).length, 3);
    } finally {
      await t.cleanup();
    }
  });

  test('waits for a running retention to stop at a chunk boundary', async () => {
    const clock = manualClock();
    const t = fresh({ now: clock.now, retention: { maxAgeMillis: 10 }, retentionChunkRows: 2 });
    try {
      await t.log.append(events('k', 40));
      clock.advance(11);
      const run = t.log.runRetention();
      await t.log.close();
      const result = await run;
      assert.ok(result.deleted > 0 && result.deleted < 40, `deleted ${result.deleted}`);
      const log = await t.reopen();
      assert.equal(log.stats().events, 40 - result.deleted);
      assert.deepEqual(log.verifyIntegrity(), { ok: true, problems: [] });
    } finally {
      await t.cleanup();
    }
  });
});

describe('verifyIntegrity', () => {
  test('reports counters that disagree with the rows', async () => {
    const t = fresh();
    try {
      await t.log.append(events('k', 3));
      assert.deepEqual(t.log.verifyIntegrity(), { ok: true, problems: [] });
      await t.log.close();
      const db = new Database(join(t.directory, 'events.db'));
      db.prepare('UPDATE log_state SET bytes = bytes + 1 WHERE id = 1').run();
      db.close();
      const log = await t.reopen();
      const bytes = log.stats().bytes;
      assert.deepEqual(log.verifyIntegrity(), {
        ok: false,
        problems: [`log_state.bytes is ${bytes} but the rows hold ${bytes - 1}`],
      });
    } finally {
      await t.cleanup();
    }
  });

  test('reports a stored key missing from key_blocks', async () => {
    const t = fresh();
    try {
      await t.log.append(events('k', 3));
      await t.log.close();
      const db = new Database(join(t.directory, 'events.db'));
      db.prepare("UPDATE events SET idempotency_key = 'changed' WHERE seq = 2").run();
      db.close();
      const log = await t.reopen();
      assert.deepEqual(log.verifyIntegrity(), {
        ok: false,
        problems: [
          '1 events have no or a wrong key tag in key_blocks',
          '1 stored keys are missing from the in-memory key index',
        ],
      });
    } finally {
      await t.cleanup();
    }
  });

  test('a log_state that disagrees with key_blocks makes opening fail with FS_LOG_CORRUPT', async () => {
    const t = fresh();
    try {
      await t.log.append(events('k', 3));
      await t.log.close();
      const db = new Database(join(t.directory, 'events.db'));
      db.prepare('UPDATE log_state SET events = 7 WHERE id = 1').run();
      db.close();
      assert.throws(
        () => openSqliteEventLog({ directory: t.directory }),
        (error: unknown) =>
          isEventLogError(error, 'FS_LOG_CORRUPT') && /key_blocks cover 3 of the 7/.test(error.message),
      );
    } finally {
      await t.cleanup();
    }
  });
});
