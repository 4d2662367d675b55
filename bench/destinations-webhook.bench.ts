/**
 * Webhook destination benchmark: `node --import tsx bench/destinations-webhook.bench.ts [--events N] [--runs N]`.
 *
 * A real `node:http` receiver on 127.0.0.1 reads each body and answers 200. Prints medians of N runs
 * of events/s and request-body MB/s for:
 * - `format: object` (one request per event) with 1 and 16 requests in flight;
 * - `array` and `ndjson` in batches of 500, with the okta and cloudevents formats, with and without gzip;
 * - encoding alone (no network): ndjson and cloudevents framing of 500-event batches.
 * The receiver shares the machine (and its cores) with the sender. Not a test: nothing is asserted.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { OutboundEvent, StreamFormat } from '../src/destinations/destination.js';
import { type WebhookSettings, webhookDestination } from '../src/destinations/webhook.js';
import { encodeJsonBatch } from '../src/formats/json-framing.js';
import { openNetworkPolicy } from '../src/net/network-policy.js';
import { outboundEvents } from '../test/helpers/outbound-events.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '20000' }, runs: { type: 'string', default: '3' } },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const BATCH = 500;

const events = outboundEvents(EVENTS);
const network = openNetworkPolicy();
let receivedBytes = 0;
const server = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => {
    receivedBytes += chunk.byteLength;
  });
  req.on('end', () => res.end());
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function run(
  settings: Partial<WebhookSettings>,
  format: StreamFormat,
  inFlight: number,
): Promise<[number, number]> {
  const destination = webhookDestination.create(
    { url, ...settings },
    {
      streamId: 'b',
      streamName: 'b',
      format,
      network,
      logger: pino({ level: 'silent' }),
      timeoutMillis: 30_000,
    },
  );
  const size = destination.maxBatchEvents === 1 ? 1 : BATCH;
  const batches: OutboundEvent[][] = [];
  for (let i = 0; i < events.length; i += size) batches.push(events.slice(i, i + size));
  const signal = new AbortController().signal;
  receivedBytes = 0;
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
  await destination.close();
  return [events.length / seconds, receivedBytes / seconds / 1e6];
}

async function report(
  name: string,
  settings: Partial<WebhookSettings>,
  format: StreamFormat,
  inFlight: number,
) {
  const rates: number[] = [];
  const mbs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const [rate, mb] = await run(settings, format, inFlight);
    rates.push(rate);
    mbs.push(mb);
  }
  console.log(
    `${name.padEnd(44)} ${Math.round(median(rates)).toString().padStart(9)} events/s ${median(mbs).toFixed(1).padStart(7)} MB/s on the wire`,
  );
}

console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${EVENTS} events of ~${Math.round(events.reduce((n, e) => n + e.json.length, 0) / EVENTS)} bytes, median of ${RUNS}`,
);
await report('object, 1 in flight', {}, 'okta', 1);
await report('object, 16 in flight', {}, 'okta', 16);
await report('array, batches of 500', { format: 'array' }, 'okta', 1);
await report('ndjson, batches of 500', { format: 'ndjson' }, 'okta', 1);
await report('ndjson, batches of 500, gzip', { format: 'ndjson', gzip: true }, 'okta', 1);
await report('ndjson, batches of 500, cloudevents', { format: 'ndjson' }, 'cloudevents', 1);
await report('array, batches of 500, signed', { format: 'array', signingSecret: 'x'.repeat(32) }, 'okta', 1);

for (const format of ['okta', 'cloudevents'] as const) {
  const start = performance.now();
  let bytes = 0;
  for (let i = 0; i < events.length; i += BATCH)
    bytes += encodeJsonBatch(events.slice(i, i + BATCH), 'ndjson', format).body.length;
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${`encode ndjson only, ${format}`.padEnd(44)} ${Math.round(events.length / seconds)
      .toString()
      .padStart(9)} events/s ${(bytes / seconds / 1e6).toFixed(1).padStart(7)} MB/s`,
  );
}

server.close();
server.closeAllConnections();
await network.dispatcher.close();
