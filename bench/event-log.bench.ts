/**
 * Event log benchmark: `node --import tsx bench/event-log.bench.ts [--runs N] [--events N]`.
 *
 * Prints medians (of N runs, each in a fresh directory) for the figures below, in events per second
 * of wall time and, for appends and reads, per second of this process's CPU time (which stays
 * meaningful on a shared, loaded machine, where wall time mostly measures the neighbours):
 * - append, batches of 1000 seed-like events (~700 bytes of JSON each): one appender awaiting each
 *   batch, and 4 appenders at once (group commit merges their batches into one fsync);
 * - append, single events: one at a time (one fsync per event) and 64 in flight (group commit);
 * - readAfter in pages of 1000 over a warm log;
 * - retention deleting the whole log in 10,000-row chunks (runRetention);
 * - bytes on disk per event after close (WAL checkpointed), against JSON bytes per event;
 * - the longest event-loop stall seen during the 4-appender run and during retention (the cost of
 *   a synchronous SQLite transaction on the loop);
 * - with `--stored N` (default 1,000,000; 0 skips): appends with N events already stored, the time
 *   to open such a log (the key index is rebuilt) and the key index's memory per event;
 * - `--sections append,read,scale,baseline` picks sections (default append,read,scale);
 * - with `--baseline`: the same appends on a plain table with a SQLite UNIQUE index on the key,
 *   empty and with N stored, the design the in-memory key index replaced.
 * Figures recorded with the machine in bench/figures/event-log.md. Not a test: nothing is asserted.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { NewEvent } from '../src/log/event-log.js';
import { openSqliteEventLog, type SqliteEventLog } from '../src/log/sqlite-event-log.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    events: { type: 'string', default: '100000' },
    stored: { type: 'string', default: '1000000' },
    baseline: { type: 'boolean', default: false },
    sections: { type: 'string', default: 'append,read,scale' },
  },
});
const SECTIONS = new Set([...values.sections.split(','), ...(values.baseline ? ['baseline'] : [])]);
const RUNS = Number(values.runs);
const EVENTS = Number(values.events);
/** Events already in the log for the at-scale figures (0 skips them). */
const STORED = Number(values.stored);
const BATCH = 1000;

/**
 * A FLOW_COMPLETE event of a top-level flow (no parent/root fields) with the seed's base fields,
 * as a producer would send it: about 700 bytes of JSON.
 */
function seedLikeEvent(): NewEvent {
  const executionId = randomUUID();
  const idempotencyKey = randomUUID();
  const body = {
    event_type: 'FLOW_COMPLETE',
    execution_id: executionId,
    timestamp: new Date().toISOString(),
    flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
    flow_name: 'Log Stream Example',
    org_id: '01J29TH3XHECT79M257GG2QTKJ',
    org_name: 'logstream-01',
    org_hostname: 'atko.okta.com',
    user_id: '01J29TRZDZKSY6V70GATDAHN2N',
    user_email: 'jessie.doe@example.corp',
    folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
    folder_id: '01J29T9NX4WVFNNSDG2FMQBYR8',
    folder_name: ['My parent folder', 'My child folder'],
    engine_mode: 'realtime',
    idempotency_key: idempotencyKey,
    throttled: false,
    duration: 1827,
    step_count: 12,
    address: 'root:kernel:string:0.0.1:compose',
  };
  return {
    orgId: body.org_id,
    eventType: body.event_type,
    flowId: body.flow_id,
    executionId,
    idempotencyKey,
    json: JSON.stringify(body),
  };
}

function batches(count: number, size: number): NewEvent[][] {
  return Array.from({ length: Math.ceil(count / size) }, () => Array.from({ length: size }, seedLikeEvent));
}

/** CPU time (user + system, all threads) used since `start`, in milliseconds. */
function cpuMillisSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function withLog<T>(fn: (log: SqliteEventLog, directory: string) => Promise<T>): Promise<T> {
  const directory = mkdtempSync(join(tmpdir(), 'fs-log-bench-'));
  const log = openSqliteEventLog({ directory, retention: { maxAgeMillis: Number.POSITIVE_INFINITY } });
  try {
    return await fn(log, directory);
  } finally {
    await log.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** `appenders` loops, each awaiting its own appends, sharing the prepared batches. */
async function appendAll(log: SqliteEventLog, work: NewEvent[][], appenders: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      for (let batch = work[next++]; batch !== undefined; batch = work[next++]) await log.append(batch);
    }),
  );
  return performance.now() - started;
}

interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

async function appendFigures(
  label: string,
  eventCount: number,
  batchSize: number,
  appenders: number,
): Promise<Figure[]> {
  const rates: number[] = [];
  const cpuRates: number[] = [];
  const perCommit: number[] = [];
  const stalls: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const work = batches(eventCount, batchSize);
    await withLog(async (log) => {
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const cpu = process.cpuUsage();
      const millis = await appendAll(log, work, appenders);
      const cpuMillis = cpuMillisSince(cpu);
      delay.disable();
      const stats = log.stats();
      rates.push((stats.events / millis) * 1000);
      cpuRates.push((stats.events / cpuMillis) * 1000);
      perCommit.push(stats.events / stats.groupCommits);
      stalls.push(delay.max / 1e6);
    });
  }
  return [
    { name: `append ${label}`, value: median(rates), unit: 'events/s' },
    { name: `append ${label}, per CPU second`, value: median(cpuRates), unit: 'events/CPU-s' },
    { name: `append ${label}: events per group commit`, value: median(perCommit), unit: 'events' },
    { name: `append ${label}: longest event-loop stall`, value: median(stalls), unit: 'ms' },
  ];
}

async function readAndRetentionFigures(): Promise<Figure[]> {
  const readRates: number[] = [];
  const readCpuRates: number[] = [];
  const deleteRates: number[] = [];
  const retentionStalls: number[] = [];
  const diskPerEvent: number[] = [];
  const jsonPerEvent: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const work = batches(EVENTS, BATCH);
    const directory = mkdtempSync(join(tmpdir(), 'fs-log-bench-'));
    try {
      let log = openSqliteEventLog({ directory });
      await appendAll(log, work, 1);
      const { events, bytes } = log.stats();
      await log.close();
      diskPerEvent.push(statSync(join(directory, 'events.db')).size / events);
      jsonPerEvent.push(bytes / events);

      log = openSqliteEventLog({ directory, retention: { maxBytes: 1 } });
      await log.readAfter(0, BATCH); // open the file's pages once
      const cpu = process.cpuUsage();
      const started = performance.now();
      let read = 0;
      for (let after = 0; ; ) {
        const page = await log.readAfter(after, BATCH);
        const last = page[page.length - 1];
        if (last === undefined) break;
        read += page.length;
        after = last.seq;
      }
      readRates.push((read / (performance.now() - started)) * 1000);
      readCpuRates.push((read / cpuMillisSince(cpu)) * 1000);

      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const retentionStarted = performance.now();
      const { deleted } = await log.runRetention();
      deleteRates.push((deleted / (performance.now() - retentionStarted)) * 1000);
      delay.disable();
      retentionStalls.push(delay.max / 1e6);
      await log.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return [
    { name: 'readAfter, pages of 1000', value: median(readRates), unit: 'events/s' },
    { name: 'readAfter, pages of 1000, per CPU second', value: median(readCpuRates), unit: 'events/CPU-s' },
    {
      name: 'retention (runRetention, 10,000-row chunks)',
      value: median(deleteRates),
      unit: 'events deleted/s',
    },
    { name: 'retention: longest event-loop stall', value: median(retentionStalls), unit: 'ms' },
    { name: 'bytes on disk per event (events.db after close)', value: median(diskPerEvent), unit: 'bytes' },
    { name: 'JSON bytes per event', value: median(jsonPerEvent), unit: 'bytes' },
  ];
}

/** Fills a log with `count` events in appends of 10,000 (not measured). */
async function fill(log: SqliteEventLog, count: number): Promise<void> {
  for (let done = 0; done < count; done += 10_000) {
    await log.append(Array.from({ length: Math.min(10_000, count - done) }, seedLikeEvent));
  }
}

/** Appends, open time and key index memory with STORED events already in the log (one run). */
async function atScaleFigures(): Promise<Figure[]> {
  const directory = mkdtempSync(join(tmpdir(), 'fs-log-bench-'));
  try {
    let log = openSqliteEventLog({ directory });
    await fill(log, STORED);
    await log.close();
    const opened = performance.now();
    log = openSqliteEventLog({ directory });
    const openMillis = performance.now() - opened;
    const keyBytes = log.stats().keyIndexBytes / log.stats().events;
    const work = batches(50_000, BATCH);
    const cpu = process.cpuUsage();
    const millis = await appendAll(log, work, 1);
    const cpuMillis = cpuMillisSince(cpu);
    await log.close();
    const stored = STORED.toLocaleString('en-US');
    return [
      {
        name: `append batches of 1000, 1 appender, ${stored} events stored`,
        value: (50_000 / millis) * 1000,
        unit: 'events/s',
      },
      {
        name: `append batches of 1000, 1 appender, ${stored} events stored, per CPU second`,
        value: (50_000 / cpuMillis) * 1000,
        unit: 'events/CPU-s',
      },
      { name: `open a log of ${stored} events (rebuilds the key index)`, value: openMillis, unit: 'ms' },
      { name: `key index memory per stored event (${stored} events)`, value: keyBytes, unit: 'bytes' },
    ];
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * The design the key index replaced, for comparison: the same table with a SQLite UNIQUE index on
 * idempotency_key (INSERT … ON CONFLICT DO NOTHING), same pragmas, same events, same batches.
 */
async function uniqueIndexBaseline(): Promise<Figure[]> {
  const { default: Database } = await import('better-sqlite3');
  const figures: Figure[] = [];
  for (const stored of [0, STORED]) {
    const directory = mkdtempSync(join(tmpdir(), 'fs-log-bench-'));
    const db = new Database(join(directory, 'events.db'));
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('page_size = 16384');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('cache_size = -65536');
      db.pragma('wal_autocheckpoint = 1024');
      db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, ingested_at INTEGER NOT NULL, org_id TEXT NOT NULL,
        event_type TEXT NOT NULL, flow_id TEXT NOT NULL, execution_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE INDEX events_ingested_at ON events (ingested_at);`);
      const insert = db.prepare(
        'INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING',
      );
      let seq = 0;
      const write = (batch: readonly NewEvent[]) => {
        db.exec('BEGIN IMMEDIATE');
        const now = Date.now();
        for (const e of batch) {
          insert.run(
            ++seq,
            now,
            e.orgId,
            e.eventType,
            e.flowId,
            e.executionId,
            e.idempotencyKey,
            Buffer.byteLength(e.json),
            e.json,
          );
        }
        db.exec('COMMIT');
      };
      for (let done = 0; done < stored; done += 10_000) write(Array.from({ length: 10_000 }, seedLikeEvent));
      const work = batches(50_000, BATCH);
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (const batch of work) {
        write(batch);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const label = `baseline (SQLite UNIQUE index on the key), batches of 1000, ${stored.toLocaleString('en-US')} events stored`;
      figures.push(
        { name: label, value: (50_000 / (performance.now() - started)) * 1000, unit: 'events/s' },
        {
          name: `${label}, per CPU second`,
          value: (50_000 / cpuMillisSince(cpu)) * 1000,
          unit: 'events/CPU-s',
        },
      );
    } finally {
      db.close();
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return figures;
}

const loadBefore = loadavg()[0] ?? 0;
const figures: Figure[] = [];
if (SECTIONS.has('append')) {
  figures.push(
    ...(await appendFigures('batches of 1000, 1 appender', EVENTS, BATCH, 1)),
    ...(await appendFigures('batches of 1000, 4 appenders', EVENTS, BATCH, 4)),
    ...(await appendFigures('single events, 1 appender', 2000, 1, 1)),
    ...(await appendFigures('single events, 64 appenders', 20_000, 1, 64)),
  );
}
if (SECTIONS.has('read')) figures.push(...(await readAndRetentionFigures()));
if (SECTIONS.has('scale') && STORED > 0) figures.push(...(await atScaleFigures()));
if (SECTIONS.has('baseline')) figures.push(...(await uniqueIndexBaseline()));

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `machine: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, node ${process.version}; ` +
    `load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after; ${RUNS} runs, ${EVENTS} events`,
);
console.log('| figure | median | unit |\n|---|---:|---|');
for (const { name, value, unit } of figures) {
  const shown = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
  console.log(`| ${name} | ${shown} | ${unit} |`);
}
