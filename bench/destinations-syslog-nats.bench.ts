/**
 * syslog and nats destination benchmark, against the real Debian daemons:
 * `node --import tsx bench/destinations-syslog-nats.bench.ts [--events N] [--runs N]`.
 *
 * Each case delivers N realistic events (test/helpers/outbound-events.ts) with the destination's
 * own `send()`, in batches of 500 (the runner's default batchMaxEvents), one batch in flight (the
 * runner's default concurrency), into a syslog-ng 3.38 or a nats-server 2.9 started by
 * test/integration/ with their test configurations: syslog-ng parses every message (RFC 5424 and
 * the JSON MSG) and writes it as JSON to a file; nats-server stores into a file-backed JetStream
 * stream. Daemons and sender share the machine.
 *
 * Two rates per syslog case: "acknowledged" is what `send()` reported delivered per second;
 * "written" counts until syslog-ng has written every event to its output file (for UDP: what it
 * wrote, with the loss). For JetStream a PubAck means stored, so the two are the same.
 * Prints medians of N runs. Not a test: nothing is asserted. Figures: bench/figures/syslog-nats.md.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Destination, DestinationContext, OutboundEvent } from '../src/destinations/destination.js';
import { type NatsSettings, natsDestination } from '../src/destinations/nats.js';
import { type SyslogSettings, syslogDestination } from '../src/destinations/syslog.js';
import { eventLine } from '../src/formats/json-framing.js';
import { formatRfc5424 } from '../src/formats/syslog-5424.js';
import { openNetworkPolicy } from '../src/net/network-policy.js';
import { outboundEvents } from '../test/helpers/outbound-events.js';
import { makeTestPki } from '../test/integration/certificates.js';
import { delay } from '../test/integration/daemon.js';
import { NatsServer } from '../test/integration/nats-server.js';
import { SyslogNg } from '../test/integration/syslog-ng.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '20000' }, runs: { type: 'string', default: '3' } },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const BATCH = 500;

const context: DestinationContext = {
  streamId: 'bench',
  streamName: 'bench',
  format: 'okta',
  network: openNetworkPolicy(),
  logger: pino({ level: 'silent' }),
  timeoutMillis: 30_000,
};

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Counts lines appended to a file since the last call, reading only the new bytes. */
class LineCounter {
  private offset = 0;
  lines = 0;
  constructor(private readonly path: string) {}
  async update(): Promise<number> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, 'r');
    } catch {
      return this.lines;
    }
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        for (let i = 0; i < bytesRead; i++) if (buffer[i] === 10) this.lines++;
      }
    } finally {
      await handle.close();
    }
    return this.lines;
  }
}

/** Sends every event in batches; returns seconds until the last batch was acknowledged. */
async function sendAll(destination: Destination, events: readonly OutboundEvent[]): Promise<number> {
  const signal = new AbortController().signal;
  const started = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const result = await destination.send(events.slice(i, i + BATCH), signal);
    if (result.outcome !== 'delivered') throw new Error(`send failed: ${JSON.stringify(result)}`);
  }
  return (performance.now() - started) / 1000;
}

interface Row {
  readonly name: string;
  readonly acknowledged: number;
  readonly written?: number;
  readonly note?: string;
}

let seqBase = 1;
/** Fresh events per run, so that JetStream's de-duplication never drops a run's messages. */
function runEvents(): OutboundEvent[] {
  const events = outboundEvents(EVENTS, seqBase);
  seqBase += EVENTS;
  return events;
}

async function syslogCase(name: string, counter: LineCounter, settings: SyslogSettings): Promise<Row> {
  const acknowledged: number[] = [];
  const written: number[] = [];
  let received = 0;
  for (let run = 0; run < RUNS; run++) {
    const events = runEvents();
    const before = await counter.update();
    const started = performance.now();
    const destination = syslogDestination.create(settings, context);
    const seconds = await sendAll(destination, events);
    acknowledged.push(EVENTS / seconds);
    // Until syslog-ng wrote them all, or (UDP) until its output stops growing for 500 ms.
    let last = before;
    let stillSince = performance.now();
    for (;;) {
      const now = await counter.update();
      if (now - before >= EVENTS) break;
      if (now !== last) {
        last = now;
        stillSince = performance.now();
      } else if (performance.now() - stillSince > 500) break;
      await delay(5);
    }
    const got = counter.lines - before;
    received += got;
    const end = got >= EVENTS ? performance.now() : stillSince;
    written.push(got / ((end - started) / 1000));
    await destination.close();
  }
  const lost = RUNS * EVENTS - received;
  return {
    name,
    acknowledged: median(acknowledged),
    written: median(written),
    ...(lost > 0 ? { note: `${((100 * lost) / (RUNS * EVENTS)).toFixed(1)}% lost` } : {}),
  };
}

async function natsCase(name: string, settings: NatsSettings): Promise<Row> {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const destination = natsDestination.create(settings, context);
    rates.push(EVENTS / (await sendAll(destination, runEvents())));
    await destination.close();
  }
  return { name, acknowledged: median(rates) };
}

function encodingOnly(): Row {
  const events = runEvents();
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    let bytes = 0;
    for (const event of events) {
      bytes += formatRfc5424(
        event,
        { facility: 16, hostname: 'bench', enterpriseId: '32473' },
        eventLine(event, 'okta'),
      ).length;
    }
    if (bytes === 0) throw new Error('nothing encoded');
    rates.push(EVENTS / ((performance.now() - started) / 1000));
  }
  return { name: 'encoding only: RFC 5424 messages (no network)', acknowledged: median(rates) };
}

const dir = await mkdtemp(join(tmpdir(), 'flowstream-bench-syslog-nats-'));
const rows: Row[] = [];
let syslogNg: SyslogNg | undefined;
let nats: NatsServer | undefined;
try {
  const pki = await makeTestPki(dir);
  syslogNg = await SyslogNg.start({
    dir,
    tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, caFile: pki.caCertPath },
  });
  nats = await NatsServer.start({ dir });
  const admin = await connect({ servers: nats.url });
  await (await jetstreamManager(admin)).streams.add({
    name: 'BENCH',
    subjects: ['flowstream.>'],
    duplicate_window: 120_000_000_000,
  });
  await admin.close();

  const counter = new LineCounter(syslogNg.outputPath);
  const host = { host: '127.0.0.1', hostname: 'bench' };
  const tlsPort = syslogNg.ports.tls ?? 0;

  rows.push(encodingOnly());
  rows.push(
    await syslogCase('syslog tcp, octet-counting, confirm: write (defaults)', counter, {
      ...host,
      port: syslogNg.ports.octet,
    }),
  );
  rows.push(
    await syslogCase('syslog tcp, newline framing', counter, {
      ...host,
      port: syslogNg.ports.newline,
      framing: 'newline',
    }),
  );
  rows.push(
    await syslogCase('syslog tcp, confirm: close', counter, {
      ...host,
      port: syslogNg.ports.octet,
      confirm: 'close',
    }),
  );
  rows.push(
    await syslogCase('syslog tls, octet-counting', counter, {
      host: 'localhost',
      hostname: 'bench',
      port: tlsPort,
      transport: 'tls',
      tls: { ca: pki.caCert },
    }),
  );
  rows.push(await syslogCase('syslog udp', counter, { ...host, port: syslogNg.ports.udp, transport: 'udp' }));
  rows.push(await natsCase('nats JetStream (PubAck per event)', { servers: nats.url, jetstream: true }));
  rows.push(await natsCase('nats core (publish + flush)', { servers: nats.url }));
} finally {
  await syslogNg?.stop();
  await nats?.stop();
  await rm(dir, { recursive: true, force: true });
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `syslog/nats: ${EVENTS} events, batches of ${BATCH}, median of ${RUNS} runs; ${cpus().length} × ${cpu}, Node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`,
);
const fmt = (n: number | undefined): string =>
  n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
console.log('| case | acknowledged (events/s) | written by syslog-ng (events/s) | note |');
console.log('| --- | ---: | ---: | --- |');
for (const row of rows)
  console.log(`| ${row.name} | ${fmt(row.acknowledged)} | ${fmt(row.written)} | ${row.note ?? ''} |`);
