/**
 * End-to-end webhook throughput, flowstream beside syslog-ng (issue 3):
 *
 *   node --import tsx bench/e2e-webhook.bench.ts [--events 300000] [--batch 1000] [--posters 4]
 *     [--concurrency 4] [--runs 3] [--only flowstream|syslog-ng] [--cpu-prof DIR]
 *
 * flowstream: `flowstream serve` (bin/flowstream.js, or $FLOWSTREAM_BIN) with one `webhook`
 * stream (ndjson, batchMaxEvents = --batch, batchTimeoutMillis 50, concurrency = --concurrency)
 * to a counting receiver in its own process; --posters producers POST NDJSON bodies of --batch
 * seed-like events (~800 bytes each) to /api/v1/events, each answered 202 after the durable commit.
 *
 * syslog-ng: the same events as newline-framed JSON over --posters TCP connections into
 * bench/syslog-ng/http-ndjson.conf (json-parser, format-json, reliable disk buffer, http() with
 * batch-lines(--batch) and workers(--concurrency)) to the same kind of receiver.
 *
 * Throughput = events / (first event offered → last event counted by the receiver). The two
 * pipelines alternate within each run so that the ratio compares like with like on a shared
 * machine; medians of --runs runs. Peak RSS is the pipeline process's VmHWM. Nothing is asserted.
 */
import { parseArgs } from 'node:util';
import { ndjsonBodies } from './lib/events.js';
import { webhookStream } from './lib/flowstream.js';
import { formatFixed, formatInt, machineLine, markdownTable, median } from './lib/stats.js';
import { syslogNgVersion } from './lib/syslog-ng.js';
import { type JobResult, runFlowstreamJob, runSyslogNgJob } from './lib/throughput-job.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    batch: { type: 'string', default: '1000' },
    posters: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const BATCH = Number(values.batch);
const POSTERS = Number(values.posters);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const TIMEOUT_MILLIS = 300_000;

const version = syslogNgVersion();
const pipelines = (['flowstream', 'syslog-ng'] as const).filter(
  (p) => (values.only === undefined || values.only === p) && (p !== 'syslog-ng' || version !== undefined),
);

console.log(
  `e2e-webhook: ${formatInt(EVENTS)} events, batches of ${BATCH}, ${POSTERS} producers, concurrency ${CONCURRENCY}`,
);
console.log(`machine: ${await machineLine()}; ${version ?? 'syslog-ng not installed (skipped)'}`);
const bodies = ndjsonBodies(EVENTS, BATCH);
console.log(
  `events: ${formatInt(bodies.reduce((n, b) => n + b.length, 0) / EVENTS)} bytes each on average\n`,
);

const results: Record<string, JobResult[]> = { flowstream: [], 'syslog-ng': [] };
const ratios: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const byPipeline: Record<string, JobResult> = {};
  for (const pipeline of pipelines) {
    const result =
      pipeline === 'flowstream'
        ? await runFlowstreamJob({
            bodies,
            events: EVENTS,
            posters: POSTERS,
            receiverMode: 'count',
            stream: (base) =>
              webhookStream('bench', `${base}/ingest`, {
                batchMaxEvents: BATCH,
                batchTimeoutMillis: 50,
                concurrency: CONCURRENCY,
              }),
            timeoutMillis: TIMEOUT_MILLIS,
            ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }),
          })
        : await runSyslogNgJob({
            bodies,
            events: EVENTS,
            connections: POSTERS,
            receiverMode: 'count',
            template: 'http-ndjson.conf',
            vars: (base) => ({ URL: `${base}/ingest`, WORKERS: String(CONCURRENCY) }),
            timeoutMillis: TIMEOUT_MILLIS,
          });
    byPipeline[pipeline] = result;
    results[pipeline]?.push(result);
    console.log(
      `run ${run} ${pipeline.padEnd(10)} ${formatInt(result.eventsPerSecond).padStart(9)} events/s end to end` +
        ` (${formatFixed(result.endToEndMillis / 1000, 2)} s; input done after ${formatFixed(result.inputMillis / 1000, 2)} s;` +
        ` ${result.requests} requests; ${formatFixed(result.cpuSeconds, 1)} CPU s = ${formatInt(result.eventsPerCpuSecond)} events/CPU s;` +
        ` peak RSS ${formatInt(result.peakRssMiB)} MiB)`,
    );
  }
  const f = byPipeline.flowstream;
  const s = byPipeline['syslog-ng'];
  if (f !== undefined && s !== undefined) ratios.push(f.eventsPerSecond / s.eventsPerSecond);
}

const rows = pipelines.map((p) => {
  const r = results[p] ?? [];
  return [
    p,
    formatInt(median(r.map((x) => x.eventsPerSecond))),
    formatFixed(median(r.map((x) => x.endToEndMillis)) / 1000, 2),
    formatInt(median(r.map((x) => (EVENTS * 1000) / x.inputMillis))),
    formatInt(median(r.map((x) => x.eventsPerCpuSecond))),
    formatInt(median(r.map((x) => x.peakRssMiB))),
  ];
});
console.log(`\nmedians of ${RUNS} run(s):\n`);
console.log(
  markdownTable(
    ['pipeline', 'events/s end to end', 'seconds', 'input events/s', 'events/CPU s', 'peak RSS MiB'],
    rows,
  ),
);
if (ratios.length > 0) {
  console.log(
    `\nflowstream / syslog-ng, per run: ${ratios.map((r) => formatFixed(r, 2)).join(', ')}; median ${formatFixed(median(ratios), 2)}×`,
  );
}
