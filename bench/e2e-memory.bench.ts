/**
 * Memory of the serve process (issue 3), two parts:
 *
 *   node --import tsx bench/e2e-memory.bench.ts [--backlog 5000000] [--sample-every 500000]
 *     [--receiver stall|down] [--posters 4] [--batch 1000] [--runs 3] [--events 300000]
 *     [--skip-throughput] [--skip-backlog] [--max-minutes 90]
 *
 * 1. Peak RSS (VmHWM of /proc/PID/status) of `flowstream serve` during the job of
 *    bench/e2e-webhook.bench.ts: --events seed-like events posted by --posters producers in
 *    batches of --batch, delivered by one ndjson webhook stream (concurrency 4) to a counting
 *    receiver. Median of --runs runs.
 * 2. A stalled stream's backlog: one webhook stream whose receiver accepts connections and reads
 *    requests but never answers (`stall`), or whose port refuses connections (`down`), while the
 *    producers ingest --backlog events. Every --sample-every accepted events it prints VmRSS,
 *    VmHWM, the stream's health (status, lagEvents) and the ingest rate so far. Flat RSS means
 *    the backlog lives in the event log on disk, not in memory. Bounded by --max-minutes.
 *    Nothing is asserted.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { FastEventFactory, ndjsonBodies } from './lib/events.js';
import { startFlowstream, webhookStream } from './lib/flowstream.js';
import { IngestClient } from './lib/poster.js';
import { startReceiver } from './lib/receiver.js';
import { readRss } from './lib/rss.js';
import { formatFixed, formatInt, machineLine, markdownTable, median, wallMillis } from './lib/stats.js';
import { runFlowstreamJob } from './lib/throughput-job.js';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '5000000' },
    'sample-every': { type: 'string', default: '500000' },
    receiver: { type: 'string', default: 'stall' },
    posters: { type: 'string', default: '4' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    events: { type: 'string', default: '300000' },
    'skip-throughput': { type: 'boolean', default: false },
    'skip-backlog': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '90' },
  },
});
const BACKLOG = Number(values.backlog);
const SAMPLE_EVERY = Number(values['sample-every']);
const POSTERS = Number(values.posters);
const BATCH = Number(values.batch);
const RUNS = Number(values.runs);
const EVENTS = Number(values.events);
const MAX_MILLIS = Number(values['max-minutes']) * 60_000;
if (values.receiver !== 'stall' && values.receiver !== 'down') throw new Error('--receiver is stall or down');

console.log(`e2e-memory; machine: ${await machineLine()}\n`);

if (!values['skip-throughput']) {
  console.log(
    `1. peak RSS during the e2e-webhook job (${formatInt(EVENTS)} events, batches of ${BATCH}, ${POSTERS} producers)`,
  );
  const bodies = ndjsonBodies(EVENTS, BATCH);
  const peaks: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const r = await runFlowstreamJob({
      bodies,
      events: EVENTS,
      posters: POSTERS,
      receiverMode: 'count',
      stream: (base) =>
        webhookStream('bench', `${base}/ingest`, {
          batchMaxEvents: BATCH,
          batchTimeoutMillis: 50,
          concurrency: 4,
        }),
      timeoutMillis: 600_000,
    });
    peaks.push(r.peakRssMiB);
    console.log(
      `   run ${run}: peak RSS ${formatInt(r.peakRssMiB)} MiB (${formatInt(r.eventsPerSecond)} events/s end to end)`,
    );
  }
  console.log(`   median peak RSS: ${formatInt(median(peaks))} MiB\n`);
  bodies.length = 0;
}

/** A loopback port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

if (!values['skip-backlog']) {
  console.log(
    `2. RSS while a ${values.receiver === 'stall' ? 'stalled (never answering)' : 'down (connection refused)'} stream's backlog grows to ${formatInt(BACKLOG)} events`,
  );
  const receiver = values.receiver === 'stall' ? await startReceiver({ mode: 'stall' }) : undefined;
  const url = receiver?.url('/ingest') ?? `http://127.0.0.1:${await closedPort()}/ingest`;
  const service = await startFlowstream({
    streams: [
      // pauseAfterMillis 0: never PAUSE during the run, so the runner keeps its buffers and retries.
      webhookStream('stalled', url, {
        batchMaxEvents: BATCH,
        batchTimeoutMillis: 50,
        concurrency: 4,
        pauseAfterMillis: 0,
      }),
    ],
  });
  const client = new IngestClient(service.url, POSTERS);
  const factory = new FastEventFactory();
  const rows: string[][] = [];
  const started = wallMillis();
  let accepted = 0;
  let nextSample = SAMPLE_EVERY;
  let nextBatch = 0;
  let stoppedEarly = false;
  const totalBatches = Math.ceil(BACKLOG / BATCH);
  const sample = async (): Promise<void> => {
    const rss = readRss(service.pid);
    const health = await service.health('stalled');
    const seconds = (wallMillis() - started) / 1000;
    const row = [
      formatInt(accepted),
      formatFixed(seconds, 0),
      formatInt(accepted / seconds),
      formatInt(rss?.rssMiB ?? Number.NaN),
      formatInt(rss?.hwmMiB ?? Number.NaN),
      health.status,
      formatInt(health.lagEvents),
      formatInt(health.deliveredTotal),
    ];
    rows.push(row);
    console.log(`   ${row.join('  ')}`);
  };
  try {
    console.log('   accepted  seconds  events/s  VmRSS MiB  VmHWM MiB  status  lagEvents  delivered');
    const worker = async (): Promise<void> => {
      for (let b = nextBatch++; b < totalBatches; b = nextBatch++) {
        if (wallMillis() - started > MAX_MILLIS) {
          stoppedEarly = true;
          return;
        }
        const first = b * BATCH + 1;
        const count = Math.min(BATCH, BACKLOG - b * BATCH);
        await client.post(factory.body(first, count), count);
        accepted += count;
        if (accepted >= nextSample) {
          nextSample += SAMPLE_EVERY;
          await sample();
        }
      }
    };
    await Promise.all(Array.from({ length: POSTERS }, worker));
    if (stoppedEarly) console.log(`   stopped after --max-minutes ${values['max-minutes']}`);
    const rss = rows.map((r) => Number((r[3] ?? '').replace(/,/g, '')));
    console.log(
      `\n   VmRSS from the first sample to the last: ${formatInt(rss[0] ?? Number.NaN)} → ${formatInt(rss.at(-1) ?? Number.NaN)} MiB;` +
        ` highest ${formatInt(Math.max(...rss))} MiB\n`,
    );
    console.log(
      markdownTable(
        ['accepted', 'seconds', 'events/s', 'VmRSS MiB', 'VmHWM MiB', 'status', 'lagEvents', 'delivered'],
        rows,
      ),
    );
  } finally {
    await client.close();
    await service.stop(60_000);
    await receiver?.close();
  }
}
