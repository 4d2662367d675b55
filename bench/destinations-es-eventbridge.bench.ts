/**
 * Elasticsearch and EventBridge destination benchmark:
 * `node --import tsx bench/destinations-es-eventbridge.bench.ts [--events N] [--runs N]`.
 *
 * The peers are the test fakes (test/helpers/fake-elasticsearch.ts, fake-eventbridge.ts), real HTTP
 * servers run in a child process so they do not share the sender's event loop: the Elasticsearch
 * fake parses every NDJSON line and stores every document; the EventBridge fake verifies every
 * SigV4 signature and every entry, and the sender goes through the real AWS SDK. Prints medians of
 * N runs of events/s, each run with fresh peers (so `create` stores rather than conflicts, except
 * in the re-delivery case). Batches are what the runner gives with its default
 * `delivery.batchMaxEvents` (500), capped by the destination's `maxBatchEvents`; one send in
 * flight (the default `delivery.concurrency`). The EventBridge rows are repeated with the fake
 * answering after 20 ms, as a regional endpoint does, where parallel calls pay off. Not a test:
 * nothing is asserted.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import {
  type AwsEventBridgeSettings,
  awsEventBridgeDestination,
} from '../src/destinations/aws-eventbridge.js';
import type { Destination, OutboundEvent, StreamFormat } from '../src/destinations/destination.js';
import {
  bulkBody,
  type ElasticsearchSettings,
  elasticsearchDestination,
} from '../src/destinations/elasticsearch.js';
import { openNetworkPolicy } from '../src/net/network-policy.js';
import { startFakeElasticsearch } from '../test/helpers/fake-elasticsearch.js';
import { startFakeEventBridge } from '../test/helpers/fake-eventbridge.js';
import { outboundEvents } from '../test/helpers/outbound-events.js';

const CREDENTIALS = { accessKeyId: 'AKIAFLOWSTREAMBENCH0', secretAccessKey: 'bench/secret/key' };
const REGION = 'us-east-1';
/** The runner's default `delivery.batchMaxEvents`. */
const RUNNER_BATCH = 500;

type PeerKind = 'es' | 'eb';

// Child mode: run one fake and report its URL; exit when the parent says so.
if (process.argv[2] === '--serve') {
  const kind = process.argv[3] as PeerKind;
  const latencyMillis = Number(process.argv[4] ?? '0');
  const peer =
    kind === 'es'
      ? await startFakeElasticsearch({ record: false })
      : await startFakeEventBridge({
          credentials: CREDENTIALS,
          region: REGION,
          record: false,
          latencyMillis,
        });
  process.send?.({ url: peer.url });
  process.on('message', async () => {
    await peer.close();
    process.exit(0);
  });
} else {
  await main();
}

async function startPeer(
  kind: PeerKind,
  latencyMillis: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, String(latencyMillis)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const [message] = (await once(child, 'message')) as [{ url: string }];
  return {
    url: message.url,
    stop: async () => {
      child.send('stop');
      await once(child, 'exit');
    },
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      events: { type: 'string', default: '20000' },
      runs: { type: 'string', default: '3' },
    },
  });
  const EVENTS = Number(values.events);
  const RUNS = Number(values.runs);
  const events = outboundEvents(EVENTS);
  const network = openNetworkPolicy();
  const context = (format: StreamFormat) => ({
    streamId: 'b',
    streamName: 'b',
    format,
    network,
    logger: pino({ level: 'silent' }),
    timeoutMillis: 60_000,
  });

  /** Sends `slice` in batches of min(RUNNER_BATCH, maxBatchEvents), one at a time; events/s. */
  async function drive(destination: Destination, slice: readonly OutboundEvent[]): Promise<number> {
    const size = Math.min(RUNNER_BATCH, destination.maxBatchEvents);
    const signal = new AbortController().signal;
    const start = performance.now();
    for (let i = 0; i < slice.length; i += size) {
      const result = await destination.send(slice.slice(i, i + size), signal);
      if (result.outcome !== 'delivered')
        throw new Error(`send failed: ${JSON.stringify(result).slice(0, 500)}`);
    }
    return slice.length / ((performance.now() - start) / 1000);
  }

  async function report(
    name: string,
    kind: PeerKind,
    count: number,
    create: (url: string) => Destination,
    options: { readonly redeliver?: boolean; readonly latencyMillis?: number } = {},
  ): Promise<void> {
    const rates: number[] = [];
    let batch = 0;
    for (let r = 0; r < RUNS; r++) {
      const peer = await startPeer(kind, options.latencyMillis ?? 0);
      try {
        const destination = create(peer.url);
        batch = Math.min(RUNNER_BATCH, destination.maxBatchEvents);
        const slice = events.slice(0, count);
        if (options.redeliver === true) await drive(destination, slice);
        rates.push(await drive(destination, slice));
        await destination.close();
      } finally {
        await peer.stop();
      }
    }
    console.log(
      `${name.padEnd(52)} ${Math.round(median(rates)).toString().padStart(8)} events/s  (batches of ${batch}, ${count} events)`,
    );
  }

  const es =
    (settings: Partial<ElasticsearchSettings> = {}, format: StreamFormat = 'okta') =>
    (url: string) =>
      elasticsearchDestination.create({ url, ...settings }, context(format));
  const eb =
    (settings: Partial<AwsEventBridgeSettings> = {}, format: StreamFormat = 'okta') =>
    (url: string) =>
      awsEventBridgeDestination.create(
        { region: REGION, endpoint: url, ...CREDENTIALS, ...settings },
        context(format),
      );

  console.log(
    `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; events of ~${Math.round(
      events.reduce((n, e) => n + e.json.length, 0) / EVENTS,
    )} bytes; median of ${RUNS} runs; peers in a child process`,
  );
  await report('elasticsearch, defaults', 'es', EVENTS, es());
  await report('elasticsearch, gzip', 'es', EVENTS, es({ gzip: true }));
  await report(
    'elasticsearch, timestampField + cloudevents',
    'es',
    EVENTS,
    es({ timestampField: '@timestamp' }, 'cloudevents'),
  );
  await report('elasticsearch, re-delivery (every item 409)', 'es', EVENTS, es(), { redeliver: true });
  const ebEvents = Math.min(EVENTS, 5000);
  await report('aws_eventbridge, defaults (10 calls of 10 in flight)', 'eb', ebEvents, eb());
  await report(
    'aws_eventbridge, maxBatchEvents 10 (1 call per send)',
    'eb',
    ebEvents,
    eb({ maxBatchEvents: 10 }),
  );
  // A real regional endpoint answers in milliseconds, not microseconds: parallel calls matter there.
  const latency = { latencyMillis: 20 };
  const slow = Math.min(ebEvents, 2000);
  await report('aws_eventbridge, defaults, 20 ms service latency', 'eb', slow, eb(), latency);
  await report(
    'aws_eventbridge, maxBatchEvents 10, 20 ms latency',
    'eb',
    slow,
    eb({ maxBatchEvents: 10 }),
    latency,
  );

  const start = performance.now();
  for (let i = 0; i < events.length; i += RUNNER_BATCH) {
    bulkBody(events.slice(i, i + RUNNER_BATCH), { index: 'flowstream-%Y.%m.%d', format: 'okta' });
  }
  console.log(
    `${'elasticsearch bulk body encoding only'.padEnd(52)} ${Math.round(
      events.length / ((performance.now() - start) / 1000),
    )
      .toString()
      .padStart(8)} events/s`,
  );
  await network.dispatcher.close();
}
