/**
 * End-to-end latency at a steady rate (issue 3):
 *
 *   node --import tsx bench/e2e-latency.bench.ts [--rate 10000] [--seconds 20] [--batch 100]
 *     [--batch-timeout 20] [--posters 8] [--warmup 3] [--runs 3] [--cpu-prof DIR]
 *
 * Producers POST a batch of --batch events every (--batch / --rate) seconds (100 every 10 ms for
 * 10,000 events/s) over --posters connections (enough that one slow answer does not hold up the
 * next send), each event stamped at send time with `bench_sent_at` (wall-clock milliseconds, an
 * extra field: lenient and strict validation both allow unknown fields). One `webhook` stream
 * (ndjson, batchMaxEvents 1000, **batchTimeoutMillis --batch-timeout (default 20 ms)**,
 * concurrency 1) delivers to a receiver process that records, per event, arrival − bench_sent_at.
 * The latency therefore includes the ingest request, the durable commit, the runner's pick-up,
 * batching (up to batchTimeoutMillis) and the POST. A --warmup phase at the same rate runs first
 * and is not counted. Late sends (a producer behind schedule) are reported, not hidden: the
 * schedule is never skipped. Medians over --runs runs of each percentile. Nothing is asserted.
 */
import { parseArgs } from 'node:util';
import { FastEventFactory } from './lib/events.js';
import { startFlowstream, webhookStream } from './lib/flowstream.js';
import { IngestClient, postPaced } from './lib/poster.js';
import { startReceiver } from './lib/receiver.js';
import { readCpuSeconds } from './lib/rss.js';
import {
  formatFixed,
  formatInt,
  machineLine,
  markdownTable,
  median,
  percentiles,
  wallMillis,
} from './lib/stats.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '100' },
    'batch-timeout': { type: 'string', default: '20' },
    posters: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BATCH = Number(values.batch);
const BATCH_TIMEOUT = Number(values['batch-timeout']);
const POSTERS = Number(values.posters);
const WARMUP = Number(values.warmup);
const RUNS = Number(values.runs);
const INTERVAL_MILLIS = (BATCH * 1000) / RATE;
const PS = [50, 90, 99, 99.9, 100];

console.log(
  `e2e-latency: ${formatInt(RATE)} events/s for ${SECONDS} s (${BATCH} every ${formatFixed(INTERVAL_MILLIS, 1)} ms, ${POSTERS} producers),` +
    ` stream batchTimeoutMillis ${BATCH_TIMEOUT}, warm-up ${WARMUP} s`,
);
console.log(`machine: ${await machineLine()}\n`);

const factory = new FastEventFactory();
let nextSeq = 1;
/** A batch whose events carry the send time as their first field. */
function stampedBody(): string {
  const sentAt = `{"bench_sent_at":${wallMillis().toFixed(2)},`;
  let body = '';
  for (let i = 0; i < BATCH; i++) body += `${sentAt}${factory.line(nextSeq++).slice(1)}\n`;
  return body;
}

interface LatencyResult {
  readonly percentiles: number[];
  readonly ingestP50: number;
  readonly ingestP99: number;
  readonly lateMillisMax: number;
  readonly events: number;
  readonly cpuPercent: number;
}

async function phase(client: IngestClient, seconds: number) {
  const batches = Math.round((seconds * RATE) / BATCH);
  const posted = await postPaced(client, {
    batches,
    intervalMillis: INTERVAL_MILLIS,
    posters: POSTERS,
    eventsPerBatch: BATCH,
    makeBody: stampedBody,
  });
  return { posted, events: batches * BATCH };
}

async function run(): Promise<LatencyResult> {
  nextSeq = 1;
  const receiver = await startReceiver({ mode: 'count', latencyField: 'bench_sent_at' });
  const service = await startFlowstream({
    streams: [
      webhookStream('bench', receiver.url('/ingest'), {
        batchMaxEvents: 1000,
        batchTimeoutMillis: BATCH_TIMEOUT,
        concurrency: 1,
      }),
    ],
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }),
  });
  const client = new IngestClient(service.url, POSTERS);
  try {
    const warm = await phase(client, WARMUP);
    await receiver.waitForEvents(warm.events, 60_000);
    await receiver.latencies(); // forget the warm-up's
    const cpuBefore = readCpuSeconds(service.pid) ?? 0;
    const t0 = wallMillis();
    const measured = await phase(client, SECONDS);
    await receiver.waitForEvents(warm.events + measured.events, 120_000);
    const cpuPercent = (((readCpuSeconds(service.pid) ?? 0) - cpuBefore) * 100_000) / (wallMillis() - t0);
    const latencies = await receiver.latencies();
    const ingest = percentiles(measured.posted.requestMillis, [50, 99]);
    return {
      percentiles: percentiles(latencies, PS),
      ingestP50: ingest[0] ?? Number.NaN,
      ingestP99: ingest[1] ?? Number.NaN,
      lateMillisMax: measured.posted.lateMillisMax,
      events: latencies.length,
      cpuPercent,
    };
  } finally {
    await client.close();
    await service.stop();
    await receiver.close();
  }
}

const results: LatencyResult[] = [];
for (let i = 1; i <= RUNS; i++) {
  const r = await run();
  results.push(r);
  console.log(
    `run ${i}: ${formatInt(r.events)} events; end-to-end ms ${PS.map((p, j) => `p${p === 100 ? 'max' : p} ${formatFixed(r.percentiles[j] ?? Number.NaN, 1)}`).join(', ')};` +
      ` ingest 202 p50 ${formatFixed(r.ingestP50, 1)} p99 ${formatFixed(r.ingestP99, 1)} ms; latest send ${formatFixed(r.lateMillisMax, 1)} ms behind schedule;` +
      ` serve CPU ${formatInt(r.cpuPercent)}%`,
  );
}
console.log(`\nmedians of ${RUNS} run(s), milliseconds:\n`);
console.log(
  markdownTable(
    ['figure', ...PS.map((p) => (p === 100 ? 'max' : `p${p}`))],
    [
      [
        'event post → receiver',
        ...PS.map((_, j) => formatFixed(median(results.map((r) => r.percentiles[j] ?? Number.NaN)), 1)),
      ],
    ],
  ),
);
console.log(
  `\ningest request (POST → 202) p50 ${formatFixed(median(results.map((r) => r.ingestP50)), 1)} ms, p99 ${formatFixed(median(results.map((r) => r.ingestP99)), 1)} ms;` +
    ` serve process CPU ${formatInt(median(results.map((r) => r.cpuPercent)))}% of one core`,
);
