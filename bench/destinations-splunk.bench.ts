/**
 * splunk_hec and datadog destination benchmark:
 * `node --import tsx bench/destinations-splunk.bench.ts [--events N] [--runs N]`.
 *
 * Each destination's `send()` delivers N realistic events (test/helpers/outbound-events.ts) in
 * batches of 500 (the runner's default batchMaxEvents, under both destinations' maxBatchEvents) to
 * the local fakes of test/helpers: the fake HEC parses and checks every envelope and, with indexer
 * acknowledgement, answers the ack polls; the fake Datadog intake gunzips and parses every body.
 * The fakes share the machine (and its cores) with the sender, so the figures are a floor for what
 * a real collector would allow. Prints medians of N runs. Not a test: nothing is asserted.
 * Figures: bench/figures/splunk-datadog.md.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { DatadogSettings } from '../src/destinations/datadog.js';
import { DatadogDestination } from '../src/destinations/datadog.js';
import type { Destination, DestinationContext, OutboundEvent } from '../src/destinations/destination.js';
import type { SplunkHecSettings } from '../src/destinations/splunk-hec.js';
import { SplunkHecDestination } from '../src/destinations/splunk-hec.js';
import { HecEnvelopeEncoder } from '../src/destinations/splunk-hec-envelope.js';
import { openNetworkPolicy } from '../src/net/network-policy.js';
import { startFakeDatadog } from '../test/helpers/fake-datadog.js';
import { startFakeSplunkHec } from '../test/helpers/fake-splunk-hec.js';
import { outboundEvents } from '../test/helpers/outbound-events.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '20000' }, runs: { type: 'string', default: '3' } },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const BATCH = 500;

const events = outboundEvents(EVENTS);
const network = openNetworkPolicy();
const context: DestinationContext = {
  streamId: 'bench',
  streamName: 'bench',
  format: 'okta',
  network,
  logger: pino({ level: 'silent' }),
  timeoutMillis: 30_000,
};

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

interface Peer {
  readonly url: string;
  readonly requests: readonly { readonly rawBody: Buffer }[];
  close(): Promise<void>;
}

/** One run against a fresh fake (they keep every request, so each run starts empty). */
async function run(
  startPeer: () => Promise<Peer>,
  create: (peer: Peer) => Destination,
  inFlight: number,
): Promise<[number, number]> {
  const peer = await startPeer();
  const destination = create(peer);
  const size = Math.min(BATCH, destination.maxBatchEvents);
  const batches: OutboundEvent[][] = [];
  for (let i = 0; i < events.length; i += size) batches.push(events.slice(i, i + size));
  const signal = new AbortController().signal;
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as OutboundEvent[];
      const result = await destination.send(batch, signal);
      if (result.outcome !== 'delivered') throw new Error(`send failed: ${JSON.stringify(result)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  const wire = peer.requests.reduce((sum, r) => sum + r.rawBody.byteLength, 0);
  await destination.close();
  await peer.close();
  return [events.length / seconds, wire / seconds / 1e6];
}

async function report(
  name: string,
  startPeer: () => Promise<Peer>,
  create: (peer: Peer) => Destination,
  inFlight: number,
) {
  const rates: number[] = [];
  const mbs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const [rate, mb] = await run(startPeer, create, inFlight);
    rates.push(rate);
    mbs.push(mb);
  }
  console.log(
    `${name.padEnd(48)} ${Math.round(median(rates)).toString().padStart(9)} events/s ${median(mbs).toFixed(1).padStart(7)} MB/s on the wire`,
  );
}

const HEC_TOKEN = '00000000-0000-4000-8000-000000000000';
const DD_KEY = '0123456789abcdef0123456789abcdef';
const fakeHec = () => startFakeSplunkHec({ token: HEC_TOKEN });
const fakeHecAcks = () => startFakeSplunkHec({ token: HEC_TOKEN, indexerAcknowledgement: true });
const fakeDatadog = () => startFakeDatadog({ apiKey: DD_KEY });
const splunk =
  (extra: Partial<SplunkHecSettings> = {}) =>
  (peer: Peer) =>
    new SplunkHecDestination({ url: peer.url, token: HEC_TOKEN, index: 'main', ...extra }, context);
const datadog =
  (extra: Partial<DatadogSettings> = {}) =>
  (peer: Peer) =>
    new DatadogDestination({ url: peer.url, apiKey: DD_KEY, ddtags: 'env:bench', ...extra }, context);

console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${EVENTS} events of ~${Math.round(events.reduce((n, e) => n + e.json.length, 0) / EVENTS)} bytes, batches of ${BATCH}, median of ${RUNS}`,
);
await report('splunk_hec, defaults (gzip)', fakeHec, splunk(), 1);
await report('splunk_hec, gzip: false', fakeHec, splunk({ gzip: false }), 1);
await report('splunk_hec, defaults, 4 in flight', fakeHec, splunk(), 4);
await report(
  'splunk_hec, indexer ack, 1 in flight',
  fakeHecAcks,
  splunk({ indexerAcknowledgement: true }),
  1,
);
await report(
  'splunk_hec, indexer ack, 4 in flight',
  fakeHecAcks,
  splunk({ indexerAcknowledgement: true }),
  4,
);
await report('datadog, defaults (gzip)', fakeDatadog, datadog(), 1);
await report('datadog, gzip: false', fakeDatadog, datadog({ gzip: false }), 1);
await report('datadog, defaults, 4 in flight', fakeDatadog, datadog(), 4);

// Encoding alone, no network: how much of the above is the destination's own work.
{
  const encoder = new HecEnvelopeEncoder({
    source: 'flowstream',
    sourcetype: 'okta:workflows:execution',
    index: 'main',
  });
  const start = performance.now();
  let bytes = 0;
  for (const event of events) bytes += encoder.envelope(event.json, event.timestamp).length + 1;
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${'encode HEC envelopes only'.padEnd(48)} ${Math.round(events.length / seconds)
      .toString()
      .padStart(9)} events/s ${(bytes / seconds / 1e6).toFixed(1).padStart(7)} MB/s`,
  );
}
{
  const destination = new DatadogDestination({ apiKey: 'k', ddtags: 'env:bench' }, context);
  const start = performance.now();
  let bytes = 0;
  for (const event of events) bytes += destination.entry(event).length + 1;
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${'encode Datadog entries only'.padEnd(48)} ${Math.round(events.length / seconds)
      .toString()
      .padStart(9)} events/s ${(bytes / seconds / 1e6).toFixed(1).padStart(7)} MB/s`,
  );
}

await network.dispatcher.close();
