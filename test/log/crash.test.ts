import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqliteEventLog } from '../../src/log/sqlite-event-log.js';
import { crashEvent, tempDirectory } from './helpers.js';

/**
 * Durability under SIGKILL: a child process appends batches (several group commits in flight,
 * and in odd rounds retention deleting concurrently) and prints each acknowledged seq range; we
 * kill it at a random moment, reopen, and check that every acknowledged event that retention did
 * not legitimately remove is there with its exact JSON, that seqs were never reused across
 * rounds, and that the file passes `PRAGMA integrity_check` and the log's own invariants.
 * (A process kill, not a power cut: the OS page cache survives. Power-loss durability rests on
 * synchronous=FULL, which this test cannot observe.)
 */

const CHILD = fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 6;
const BATCH = 200;

interface Ack {
  readonly round: number;
  readonly worker: number;
  readonly batch: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** Runs one child until it acknowledged something, lets it run a random while more, SIGKILLs it. */
async function runAndKill(directory: string, round: number, extraMillis: number): Promise<Ack[]> {
  const mode = round % 2 === 1 ? 'retention' : 'append';
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, directory, String(round), mode], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let killTimer: NodeJS.Timeout | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (killTimer === undefined && stdout.includes('ACK ')) {
      killTimer = setTimeout(() => child.kill('SIGKILL'), extraMillis);
    }
  });
  // Never wait forever: a child that acknowledges nothing within 20 s fails the test.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const { signal } = await closed;
  clearTimeout(watchdog);
  if (killTimer !== undefined) clearTimeout(killTimer);
  assert.equal(signal, 'SIGKILL', `child ended on its own: ${stderr}`);
  assert.ok(!stdout.includes('BAD '), stdout);
  // Only whole lines count: the kill may cut the last one.
  const lines = stdout.split('\n').slice(0, -1);
  const acks = lines.map((line) => {
    const [tag, r, w, b, first, last] = line.split(' ');
    assert.equal(tag, 'ACK', line);
    return {
      round: Number(r),
      worker: Number(w),
      batch: Number(b),
      firstSeq: Number(first),
      lastSeq: Number(last),
    };
  });
  assert.ok(acks.length > 0, `no acknowledgement before the watchdog: ${stderr}`);
  return acks;
}

test('every acknowledged append survives SIGKILL; the file stays consistent', {
  timeout: 60_000,
}, async () => {
  const dir = tempDirectory('fs-log-crash-');
  const all: Ack[] = [];
  let lastSeqBefore = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const acks = await runAndKill(dir.path, round, 30 + Math.floor(Math.random() * 400));
      for (const ack of acks) {
        assert.equal(ack.lastSeq - ack.firstSeq + 1, BATCH, 'one append gets consecutive seqs');
        assert.ok(
          ack.firstSeq > lastSeqBefore,
          `round ${round} reused seq ${ack.firstSeq} (<= ${lastSeqBefore})`,
        );
      }
      all.push(...acks);

      const log = openSqliteEventLog({ directory: dir.path });
      try {
        assert.deepEqual(log.verifyIntegrity(), { ok: true, problems: [] }, `after round ${round}`);
        const maxAcked = Math.max(...acks.map((a) => a.lastSeq));
        assert.ok(log.lastSeq() >= maxAcked, `lastSeq ${log.lastSeq()} < acknowledged ${maxAcked}`);
        const firstSeq = log.firstSeq();
        let checked = 0;
        for (const ack of all) {
          if (ack.lastSeq < firstSeq) continue; // removed by retention (a prefix), legitimately
          const from = Math.max(ack.firstSeq, firstSeq);
          const stored = await log.readAfter(from - 1, ack.lastSeq - from + 1);
          assert.equal(
            stored.length,
            ack.lastSeq - from + 1,
            `acknowledged seqs ${from}..${ack.lastSeq} missing`,
          );
          for (const event of stored) {
            const key = `r${ack.round}-w${ack.worker}-b${ack.batch}-i${event.seq - ack.firstSeq}`;
            assert.equal(event.idempotencyKey, key);
            assert.equal(event.json, crashEvent(key).json);
            checked++;
          }
        }
        assert.ok(checked > 0 || round % 2 === 1, `round ${round}: nothing left to check`);
        lastSeqBefore = log.lastSeq();
      } finally {
        await log.close();
      }
    }
  } finally {
    dir.remove();
  }
});
