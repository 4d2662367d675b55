/**
 * End-to-end Splunk HEC throughput, flowstream beside syslog-ng (issue 4):
 *
 *   node --import tsx bench/e2e-splunk.bench.ts [--events 300000] [--batch 1000] [--posters 4]
 *     [--concurrency 4] [--runs 3] [--only flowstream|flowstream-nogzip|syslog-ng] [--cpu-prof DIR]
 *
 * The job of bench/e2e-webhook.bench.ts with a Splunk HTTP Event Collector as the destination: a
 * fake HEC in its own process (bench/lib/receiver-process.ts, mode `hec`: inflates gzip bodies,
 * counts newline-separated envelopes, answers `{"text":"Success","code":0}`).
 *
 * - flowstream: a `splunk_hec` stream (settings `{url, token}`, so gzip on, the destination's
 *   default; batchMaxEvents --batch, batchTimeoutMillis 50, concurrency --concurrency).
 * - flowstream-nogzip: the same with `gzip: false`, the like-for-like line against syslog-ng.
 * - syslog-ng: bench/syslog-ng/http-hec.conf, http() to /services/collector/event with
 *   `Authorization: Splunk <token>`, one `{"time":…,"source":…,"sourcetype":…,"event":{…}}` line
 *   per event built with format-json, batch-lines(--batch), workers(--concurrency); syslog-ng 3.38's
 *   http() cannot compress.
 *
 * The pipelines alternate within each run; medians of --runs runs. Nothing is asserted.
 */
import { parseArgs } from 'node:util';
import { ndjsonBodies } from './lib/events.js';
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
const HEC_TOKEN = '00000000-0000-4000-8000-000000000001';

const version = syslogNgVersion();
const ALL = ['flowstream', 'flowstream-nogzip', 'syslog-ng'] as const;
type Pipeline = (typeof ALL)[number];
const pipelines = ALL.filter(
  (p) => (values.only === undefined || values.only === p) && (p !== 'syslog-ng' || version !== undefined),
);

console.log(
  `e2e-splunk: ${formatInt(EVENTS)} events, batches of ${BATCH}, ${POSTERS} producers, concurrency ${CONCURRENCY}`,
);
console.log(`machine: ${await machineLine()}; ${version ?? 'syslog-ng not installed (skipped)'}\n`);
const bodies = ndjsonBodies(EVENTS, BATCH);

function job(pipeline: Pipeline): Promise<JobResult> {
  if (pipeline === 'syslog-ng') {
    return runSyslogNgJob({
      bodies,
      events: EVENTS,
      connections: POSTERS,
      receiverMode: 'hec',
      template: 'http-hec.conf',
      vars: (base) => ({
        URL: `${base}/services/collector/event`,
        TOKEN: HEC_TOKEN,
        WORKERS: String(CONCURRENCY),
      }),
      timeoutMillis: TIMEOUT_MILLIS,
    });
  }
  return runFlowstreamJob({
    bodies,
    events: EVENTS,
    posters: POSTERS,
    receiverMode: 'hec',
    stream: (base) => ({
      id: 'splunk',
      name: 'splunk',
      type: 'splunk_hec',
      org: '*',
      settings: { url: base, token: HEC_TOKEN, ...(pipeline === 'flowstream-nogzip' ? { gzip: false } : {}) },
      delivery: { batchMaxEvents: BATCH, batchTimeoutMillis: 50, concurrency: CONCURRENCY },
    }),
    timeoutMillis: TIMEOUT_MILLIS,
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }),
  });
}

const results = new Map<Pipeline, JobResult[]>(pipelines.map((p) => [p, []]));
const ratios: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const byPipeline = new Map<Pipeline, JobResult>();
  for (const pipeline of pipelines) {
    const result = await job(pipeline);
    byPipeline.set(pipeline, result);
    results.get(pipeline)?.push(result);
    console.log(
      `run ${run} ${pipeline.padEnd(17)} ${formatInt(result.eventsPerSecond).padStart(9)} events/s end to end` +
        ` (${formatFixed(result.endToEndMillis / 1000, 2)} s; ${result.requests} requests;` +
        ` ${formatInt(result.eventsPerCpuSecond)} events/CPU s; peak RSS ${formatInt(result.peakRssMiB)} MiB)`,
    );
  }
  const f = byPipeline.get('flowstream');
  const s = byPipeline.get('syslog-ng');
  if (f !== undefined && s !== undefined) ratios.push(f.eventsPerSecond / s.eventsPerSecond);
}

console.log(`\nmedians of ${RUNS} run(s):\n`);
console.log(
  markdownTable(
    ['pipeline', 'events/s end to end', 'seconds', 'events/CPU s', 'peak RSS MiB'],
    pipelines.map((p) => {
      const r = results.get(p) ?? [];
      return [
        p,
        formatInt(median(r.map((x) => x.eventsPerSecond))),
        formatFixed(median(r.map((x) => x.endToEndMillis)) / 1000, 2),
        formatInt(median(r.map((x) => x.eventsPerCpuSecond))),
        formatInt(median(r.map((x) => x.peakRssMiB))),
      ];
    }),
  ),
);
if (ratios.length > 0) {
  console.log(
    `\nflowstream (gzip) / syslog-ng, per run: ${ratios.map((r) => formatFixed(r, 2)).join(', ')}; median ${formatFixed(median(ratios), 2)}×`,
  );
}
