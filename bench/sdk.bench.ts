// SDK figures: `node --import tsx bench/sdk.bench.ts` (figures in bench/figures/sdk.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { resolveConfig } from '../src/config/load-config.js';
import type { EventSink, FlowRef } from '../src/sdk/index.js';
import { ExecutionLog, HttpSink, MemorySink } from '../src/sdk/index.js';
import { startService } from '../src/server/service.js';

const ORG = { id: '01J29TH3XHECT79M257GG2QTKJ', name: 'logstream-01', hostname: 'atko.okta.com' };
const USER = { id: '01J29TRZDZKSY6V70GATDAHN2N', email: 'jessie.doe@example.corp' };
const FLOW: FlowRef = {
  id: '01J29TGKQERR78AD3VN0P9DPSW',
  name: 'PDV Log Streaming',
  folder: {
    id: '01J2CT9EN0Q26F3BX8YMWE1EDX',
    idPath: ['01J2CT7B5P5DFHKFDE85FW6BTV', '01J2CT9EN0Q26F3BX8YMWE1EDX'],
    names: ['a', 'b'],
  },
};

/** Runs `executions` start+3 steps+complete (2 events each); returns events/s. */
function runs(log: ExecutionLog, executions: number): number {
  const t = performance.now();
  for (let i = 0; i < executions; i++) {
    const run = log.start(FLOW, { user: USER, address: 'root:kernel:string:0.0.1:compose' });
    run.step(3);
    run.complete({ address: 'root:kernel:control:0.0.1:return' });
  }
  return (2 * executions) / ((performance.now() - t) / 1000);
}

class NullSink implements EventSink {
  n = 0;
  emit(): void {
    this.n++;
  }
  async flush() {}
  async shutdown() {}
  stats() {
    return new MemorySink().stats();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

for (const validation of ['strict', 'off'] as const) {
  const log = new ExecutionLog({ org: ORG, sink: new NullSink(), validation });
  runs(log, 20_000);
  console.log(`ExecutionLog → null sink, validation ${validation}: ${fmt(runs(log, 100_000))} events/s`);
}
{
  const log = new ExecutionLog({ org: ORG, sink: new NullSink(), hashUserEmail: { key: 'k' } });
  runs(log, 20_000);
  console.log(`ExecutionLog → null sink, strict + hashUserEmail: ${fmt(runs(log, 100_000))} events/s`);
}

// HttpSink.emit alone: queue big enough that nothing is sent during the measurement.
{
  const sink = new HttpSink({
    url: 'http://127.0.0.1:9',
    token: 't',
    maxQueueSize: 1_000_000,
    maxBatchSize: 1_000_000,
    scheduledDelayMillis: 600_000,
  });
  const events: unknown[] = [];
  new ExecutionLog({
    org: ORG,
    sink: {
      emit: (e) => events.push(e),
      flush: async () => {},
      shutdown: async () => {},
      stats: () => sink.stats(),
    },
  })
    .start(FLOW, { user: USER, address: 'a:b' })
    .complete({ address: 'c:d' });
  const e = events[1] as never;
  const n = 500_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) sink.emit(e);
  const ns = ((performance.now() - t) * 1e6) / n;
  console.log(
    `HttpSink.emit (serialize + enqueue, ${JSON.stringify(e).length}-byte event): ${ns.toFixed(0)} ns/event`,
  );
  // Full queue: the drop path.
  const full = new HttpSink({
    url: 'http://127.0.0.1:9',
    token: 't',
    maxQueueSize: 1,
    maxBatchSize: 2,
    scheduledDelayMillis: 600_000,
  });
  full.emit(e);
  const t2 = performance.now();
  for (let i = 0; i < n; i++) full.emit(e);
  console.log(
    `HttpSink.emit when the queue is full (drop + count): ${(((performance.now() - t2) * 1e6) / n).toFixed(0)} ns/event`,
  );
  await sink.shutdown().catch(() => {});
  await full.shutdown();
}

async function endToEnd(
  label: string,
  url: string,
  token: string,
  executions: number,
  gzip = false,
): Promise<void> {
  // The queue holds every event, so this measures draining (one request in flight, 500-event
  // batches), not dropping: emit everything, then time flush().
  const sink = new HttpSink({ url, token, gzip, maxQueueSize: 2 * executions });
  const log = new ExecutionLog({ org: ORG, sink });
  const t0 = performance.now();
  for (let i = 0; i < executions; i++) {
    const run = log.start(FLOW, { user: USER, address: 'root:kernel:string:0.0.1:compose' });
    run.step(3);
    run.complete({ address: 'root:kernel:control:0.0.1:return' });
  }
  const t1 = performance.now();
  await log.flush();
  const t2 = performance.now();
  await log.shutdown();
  const s = sink.stats();
  console.log(
    `${label}${gzip ? ' (gzip)' : ''}: produce ${fmt(s.emittedTotal / ((t1 - t0) / 1000))} events/s; drain ${fmt(s.acceptedTotal / ((t2 - t1) / 1000))} events/s accepted (${s.acceptedTotal} events, ${s.requestsTotal} requests, dropped ${s.droppedTotal})`,
  );
}

// A receiver that answers 202 without storing: the SDK's own ceiling.
const nullServer = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const n = (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length;
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accepted: n, duplicates: 0, rejected: [] }));
  });
});
nullServer.listen(0, '127.0.0.1');
await new Promise((r) => nullServer.once('listening', r));
await endToEnd(
  'ExecutionLog → HttpSink → node:http 202 (no storage)',
  `http://127.0.0.1:${(nullServer.address() as AddressInfo).port}`,
  't',
  50_000,
);
nullServer.close();

const dir = mkdtempSync(path.join(tmpdir(), 'fs-sdk-bench-'));
const config = resolveConfig({
  server: { host: '127.0.0.1', port: 0 },
  storage: { path: dir },
  auth: {
    tokens: [{ name: 'w', token: 'bench-writer-token-0123456789', org: ORG.id, scopes: ['events:write'] }],
  },
});
const service = await startService({ config, logger: pino({ level: 'silent' }) });
await endToEnd(
  'ExecutionLog → HttpSink → flowstream ingest (SQLite)',
  service.url,
  'bench-writer-token-0123456789',
  50_000,
);
await endToEnd(
  'ExecutionLog → HttpSink → flowstream ingest (SQLite)',
  service.url,
  'bench-writer-token-0123456789',
  50_000,
  true,
);
await service.close();
rmSync(dir, { recursive: true, force: true });
