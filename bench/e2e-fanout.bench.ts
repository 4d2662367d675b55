/**
 * Fan-out delivery: several streams on one log (issue 3).
 *
 *   node --import tsx bench/e2e-fanout.bench.ts [--events 100000] [--streams 8] [--batch 1000]
 *     [--concurrency 2] [--posters 4] [--runs 3] [--cpu-prof DIR]
 *
 * Method: `flowstream serve` starts with --streams `webhook` streams declared INACTIVE (ndjson,
 * batchMaxEvents --batch, batchTimeoutMillis 50, concurrency --concurrency), each to its own path
 * of one counting receiver process (per-path counters). The log is pre-loaded with --events
 * seed-like events through ingest (timed separately: the ingest-only rate). A new stream's cursor
 * starts at the log's first event, so activating all streams (one API call each, back to back)
 * makes every one of them deliver the whole backlog; delivery is timed from the first activation
 * call to the last event counted. Aggregate = streams × events / that time. This isolates the
 * read → encode → POST → acknowledge path from ingest, which the webhook benchmark measures
 * together. Medians of --runs runs. Nothing is asserted.
 */
import { parseArgs } from 'node:util';
import { FastEventFactory } from './lib/events.js';
import { startFlowstream, webhookStream } from './lib/flowstream.js';
import { IngestClient, postAll } from './lib/poster.js';
import { startReceiver } from './lib/receiver.js';
import { RssSampler, readCpuSeconds } from './lib/rss.js';
import { formatFixed, formatInt, machineLine, markdownTable, median, wallMillis } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    streams: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '2' },
    posters: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const STREAMS = Number(values.streams);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const POSTERS = Number(values.posters);
const RUNS = Number(values.runs);
const TIMEOUT_MILLIS = 600_000;

interface FanoutResult {
  readonly ingestEventsPerSecond: number;
  readonly ingestEventsPerCpuSecond: number;
  readonly deliveryMillis: number;
  readonly aggregatePerSecond: number;
  /** Seconds from the first activation until each stream's last event, slowest stream. */
  readonly slowestStreamMillis: number;
  readonly fastestStreamMillis: number;
  readonly deliveriesPerCpuSecond: number;
  readonly peakRssMiB: number;
}

console.log(
  `e2e-fanout: ${formatInt(EVENTS)} events pre-loaded, ${STREAMS} webhook streams, batches of ${BATCH}, concurrency ${CONCURRENCY}`,
);
console.log(`machine: ${await machineLine()}\n`);
const factory = new FastEventFactory();
const bodies: Buffer[] = [];
for (let first = 1; first <= EVENTS; first += BATCH)
  bodies.push(factory.body(first, Math.min(BATCH, EVENTS - first + 1)));

async function run(): Promise<FanoutResult> {
  const receiver = await startReceiver({ mode: 'count' });
  const ids = Array.from({ length: STREAMS }, (_, i) => `s${i + 1}`);
  const service = await startFlowstream({
    streams: ids.map((id) =>
      webhookStream(
        id,
        receiver.url(`/${id}`),
        { batchMaxEvents: BATCH, batchTimeoutMillis: 50, concurrency: CONCURRENCY },
        { status: 'INACTIVE' },
      ),
    ),
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }),
  });
  const client = new IngestClient(service.url, POSTERS);
  const rss = new RssSampler(service.pid);
  try {
    const ingestCpuBefore = readCpuSeconds(service.pid) ?? 0;
    const posted = await postAll(client, bodies, POSTERS);
    if (posted.accepted !== EVENTS) throw new Error(`ingest accepted ${posted.accepted} of ${EVENTS}`);
    const cpuBefore = readCpuSeconds(service.pid) ?? 0;
    const ingestEventsPerCpuSecond = EVENTS / (cpuBefore - ingestCpuBefore);
    const startedAt = wallMillis();
    for (const id of ids) await service.activate(id);
    // Per-stream completion: poll the per-path counters until every stream has everything.
    const doneAt: Record<string, number> = {};
    const deadline = Date.now() + TIMEOUT_MILLIS;
    for (;;) {
      const s = await receiver.stats();
      for (const id of ids)
        if (doneAt[id] === undefined && (s.eventsByPath[`/${id}`] ?? 0) >= EVENTS) doneAt[id] = wallMillis();
      if (s.events >= EVENTS * STREAMS) {
        const end = s.lastAtMillis ?? wallMillis();
        const cpuSeconds = (readCpuSeconds(service.pid) ?? 0) - cpuBefore;
        const times = ids.map((id) => (doneAt[id] ?? end) - startedAt);
        return {
          ingestEventsPerSecond: (EVENTS * 1000) / (posted.finishedAt - posted.startedAt),
          ingestEventsPerCpuSecond,
          deliveryMillis: end - startedAt,
          aggregatePerSecond: (EVENTS * STREAMS * 1000) / (end - startedAt),
          slowestStreamMillis: Math.max(...times),
          fastestStreamMillis: Math.min(...times),
          deliveriesPerCpuSecond: (EVENTS * STREAMS) / cpuSeconds,
          peakRssMiB: rss.stop().hwmMiB,
        };
      }
      if (Date.now() > deadline)
        throw new Error(`only ${s.events} of ${EVENTS * STREAMS} deliveries in time`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    rss.stop();
    await client.close();
    await service.stop();
    await receiver.close();
  }
}

const results: FanoutResult[] = [];
for (let i = 1; i <= RUNS; i++) {
  const r = await run();
  results.push(r);
  console.log(
    `run ${i}: ingest ${formatInt(r.ingestEventsPerSecond)} events/s (${formatInt(r.ingestEventsPerCpuSecond)}/CPU s); delivery ${formatInt(r.aggregatePerSecond)} events/s aggregate` +
      ` (${formatFixed(r.deliveryMillis / 1000, 2)} s; streams done after ${formatFixed(r.fastestStreamMillis / 1000, 2)}–${formatFixed(r.slowestStreamMillis / 1000, 2)} s;` +
      ` ${formatInt(r.deliveriesPerCpuSecond)} deliveries/CPU s; peak RSS ${formatInt(r.peakRssMiB)} MiB)`,
  );
}
console.log(`\nmedians of ${RUNS} run(s):\n`);
console.log(
  markdownTable(
    [
      'streams',
      'deliveries/s aggregate',
      'per stream',
      'deliveries/CPU s',
      'ingest-only events/s',
      'ingest events/CPU s',
      'peak RSS MiB',
    ],
    [
      [
        String(STREAMS),
        formatInt(median(results.map((r) => r.aggregatePerSecond))),
        formatInt(median(results.map((r) => r.aggregatePerSecond / STREAMS))),
        formatInt(median(results.map((r) => r.deliveriesPerCpuSecond))),
        formatInt(median(results.map((r) => r.ingestEventsPerSecond))),
        formatInt(median(results.map((r) => r.ingestEventsPerCpuSecond))),
        formatInt(median(results.map((r) => r.peakRssMiB))),
      ],
    ],
  ),
);
