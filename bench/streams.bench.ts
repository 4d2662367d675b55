/**
 * Log stream delivery benchmark: `node --import tsx bench/streams.bench.ts [--runs N] [--events N]`.
 *
 * Prints medians (of N runs, each in a fresh data directory, SQLite event log and state store) for:
 * - catch-up delivery of a backlog to a destination that acknowledges at once (the runner's own
 *   cost: read, parse, filter, batch, cursor writes), batches of 500, concurrency 1 and 4;
 * - the same with the PII transform (`hashUserEmail`), which re-serializes every event;
 * - catch-up delivery over HTTP to a `node:http` server on loopback (NDJSON, 500 per request);
 * - isolation: ingest (batches of 1000 appended one after another) with no stream, and with one
 *   stream whose destination hangs plus one that delivers; the longest event-loop stall during it;
 * Figures recorded with the machine in bench/figures/streams.md. Not a test: nothing is asserted.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Type } from '@sinclair/typebox';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { classifyHttpStatus, classifyNetworkError } from '../src/destinations/classify.js';
import type { Destination, DestinationDefinition, OutboundEvent } from '../src/destinations/destination.js';
import type { NewEvent } from '../src/log/event-log.js';
import { openSqliteEventLog, type SqliteEventLog } from '../src/log/sqlite-event-log.js';
import { openNetworkPolicy } from '../src/net/network-policy.js';
import type { StreamInput } from '../src/streams/stream-input.js';
import { StreamManager } from '../src/streams/stream-manager.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, events: { type: 'string', default: '50000' } },
});
const RUNS = Number(values.runs);
const EVENTS = Number(values.events);

function event(n: number): NewEvent {
  const executionId = randomUUID();
  const idempotencyKey = randomUUID();
  const body = {
    event_type: 'FLOW_COMPLETE',
    execution_id: executionId,
    timestamp: new Date().toISOString(),
    flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
    flow_name: 'Log Stream Example',
    org_id: '01J29TH3XHECT79M257GG2QTKJ',
    org_name: 'logstream-01',
    org_hostname: 'atko.okta.com',
    user_id: '01J29TRZDZKSY6V70GATDAHN2N',
    user_email: 'jessie.doe@example.corp',
    folder_id: '01J29T9NX4WVFNNSDG2FMQBYR8',
    folder_name: ['My parent folder', 'My child folder'],
    engine_mode: 'realtime',
    idempotency_key: idempotencyKey,
    throttled: false,
    duration: 1827 + n,
    step_count: 108,
    address: 'root:kernel:control:0.0.1:return',
  };
  return {
    orgId: body.org_id,
    eventType: body.event_type,
    flowId: body.flow_id,
    executionId,
    idempotencyKey,
    json: JSON.stringify(body),
  };
}

interface Counter {
  events: number;
  sends: number;
}

/** `null`: acknowledges at once. `hang`: never answers until aborted. `http`: POSTs NDJSON to `url`. */
function definition(counter: Counter): DestinationDefinition<{ mode: string; url?: string }> {
  const network = openNetworkPolicy();
  return {
    type: 'bench',
    settingsSchema: Type.Object({ mode: Type.String(), url: Type.Optional(Type.String()) }),
    secretSettings: [],
    targets: () => [],
    create: (settings): Destination => ({
      maxBatchEvents: 500,
      async send(batch: readonly OutboundEvent[], signal: AbortSignal) {
        counter.sends++;
        if (settings.mode === 'hang') {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return classifyNetworkError(signal.reason);
        }
        if (settings.mode === 'http') {
          const body = `${batch.map((e) => e.json).join('\n')}\n`;
          try {
            const res = await request(settings.url ?? '', {
              method: 'POST',
              body,
              dispatcher: network.dispatcher,
              signal,
            });
            const text = await res.body.text();
            const result = classifyHttpStatus(res.statusCode, null, text, body.length);
            if (result.outcome === 'delivered') counter.events += batch.length;
            return result;
          } catch (err: unknown) {
            return classifyNetworkError(err);
          }
        }
        counter.events += batch.length;
        return { outcome: 'delivered', bytes: 0 };
      },
      close: async () => {},
    }),
  };
}

interface Setup {
  readonly dir: string;
  readonly log: SqliteEventLog;
  readonly manager: StreamManager;
  readonly counter: Counter;
}

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-bench-streams-'));
  const log = openSqliteEventLog({ directory: dir });
  const counter: Counter = { events: 0, sends: 0 };
  const def = definition(counter);
  const manager = new StreamManager({
    directory: dir,
    log,
    resolveDestination: (type) => (type === 'bench' ? (def as never) : undefined),
    network: openNetworkPolicy(),
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    syntheticEvent: () => {
      throw new Error('not used');
    },
  });
  await manager.start();
  return { dir, log, manager, counter };
}

async function teardown(s: Setup): Promise<void> {
  await s.manager.stop(0);
  await s.log.close();
  rmSync(s.dir, { recursive: true, force: true });
}

async function fill(log: SqliteEventLog, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    await log.append(Array.from({ length: Math.min(1000, count - i) }, (_, j) => event(i + j)));
  }
}

function stream(
  id: string,
  settings: Record<string, unknown>,
  extra: Partial<StreamInput> = {},
): StreamInput {
  return {
    id,
    name: id,
    type: 'bench',
    settings,
    delivery: { batchMaxEvents: 500, batchTimeoutMillis: 50, ...extra.delivery },
    ...(extra.transforms === undefined ? {} : { transforms: extra.transforms }),
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}

/** Catch-up: the backlog is in the log before the stream starts; time until the cursor reaches it. */
async function catchUp(
  settings: Record<string, unknown>,
  extra: Partial<StreamInput>,
): Promise<{ rate: number }> {
  const s = await setup();
  try {
    await fill(s.log, EVENTS);
    const created = await s.manager.create({ ...stream('x', settings, extra), status: 'INACTIVE' });
    await s.manager.replay(created.id, 0);
    const started = performance.now();
    await s.manager.activate(created.id);
    await until(() => s.counter.events >= EVENTS);
    const seconds = (performance.now() - started) / 1000;
    return { rate: EVENTS / seconds };
  } finally {
    await teardown(s);
  }
}

type IngestMode = 'none' | 'hang' | 'deliver' | 'both';

async function ingest(mode: IngestMode): Promise<{ rate: number; maxStallMillis: number }> {
  const s = await setup();
  try {
    if (mode === 'hang' || mode === 'both') {
      await s.manager.create(
        stream('hang', { mode: 'hang' }, { delivery: { requestTimeoutMillis: 600_000 } }),
      );
    }
    if (mode === 'deliver' || mode === 'both') await s.manager.create(stream('ok', { mode: 'null' }));
    const batches = Array.from({ length: EVENTS / 1000 }, (_, b) =>
      Array.from({ length: 1000 }, (_, j) => event(b * 1000 + j)),
    );
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const started = performance.now();
    for (const batch of batches) await s.log.append(batch);
    const seconds = (performance.now() - started) / 1000;
    loop.disable();
    if (mode === 'deliver' || mode === 'both') await until(() => s.counter.events >= EVENTS);
    return { rate: EVENTS / seconds, maxStallMillis: loop.max / 1e6 };
  } finally {
    await teardown(s);
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function measure<T>(runs: number, fn: () => Promise<T>, pick: (t: T) => number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(pick(await fn()));
  return out;
}

async function main(): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  console.log(`streams benchmark: ${EVENTS} events, ${RUNS} runs, Node ${process.version}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  );
  const rows: [string, number[], string][] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

  rows.push([
    'catch-up → null destination, concurrency 1',
    await measure(
      RUNS,
      () => catchUp({ mode: 'null' }, {}),
      (r) => r.rate,
    ),
    'events/s',
  ]);
  rows.push([
    'catch-up → null destination, concurrency 4',
    await measure(
      RUNS,
      () => catchUp({ mode: 'null' }, { delivery: { concurrency: 4 } }),
      (r) => r.rate,
    ),
    'events/s',
  ]);
  rows.push([
    'catch-up → null destination, hashUserEmail',
    await measure(
      RUNS,
      () => catchUp({ mode: 'null' }, { transforms: { hashUserEmail: { key: 'bench-key-0123456789' } } }),
      (r) => r.rate,
    ),
    'events/s',
  ]);
  rows.push([
    'catch-up → HTTP loopback (NDJSON), concurrency 1',
    await measure(
      RUNS,
      () => catchUp({ mode: 'http', url }, {}),
      (r) => r.rate,
    ),
    'events/s',
  ]);
  rows.push([
    'catch-up → HTTP loopback (NDJSON), concurrency 4',
    await measure(
      RUNS,
      () => catchUp({ mode: 'http', url }, { delivery: { concurrency: 4 } }),
      (r) => r.rate,
    ),
    'events/s',
  ]);
  const labels: Record<IngestMode, string> = {
    none: 'ingest (append 1000/batch), no streams',
    hang: 'ingest, one stream whose destination hangs',
    deliver: 'ingest, one stream delivering as it goes',
    both: 'ingest, one hanging + one delivering stream',
  };
  for (const mode of ['none', 'hang', 'deliver', 'both'] as const) {
    const results: { rate: number; maxStallMillis: number }[] = [];
    for (let i = 0; i < RUNS; i++) results.push(await ingest(mode));
    rows.push([labels[mode], results.map((r) => r.rate), 'events/s']);
    rows.push(['  longest event-loop stall meanwhile', results.map((r) => r.maxStallMillis), 'ms']);
  }

  for (const [name, xs, unit] of rows) {
    console.log(
      `${name.padEnd(56)} median ${fmt(median(xs)).padStart(9)} ${unit}   (runs: ${xs.map(fmt).join(', ')})`,
    );
  }
  server.close();
}

await main();
