import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VirtualClock } from '../../src/runtime/clock.js';
import type { FlowDefinition } from '../../src/runtime/flow-definition.js';
import { FlowRuntime, type FlowRuntimeOptions } from '../../src/runtime/flow-runtime.js';
import { seededRandom, uuidFrom } from '../../src/runtime/random.js';
import type { FlowEvent } from '../../src/schema/definitions.js';
import { validateEvent } from '../../src/schema/validate.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';

/** Deterministic runtimes and real third-party peers for the runtime's tests. */

export const ORG = {
  id: '01J29TH3XHECT79M257GG2QTKJ',
  name: 'logstream-01',
  hostname: 'atko.okta.com',
} as const;
export const USER = { id: '01J29TRZDZKSY6V70GATDAHN2N', email: 'jessie.doe@example.corp' } as const;
export const FOLDERS = [
  { id: '01J2CT7B5P5DFHKFDE85FW6BTV', name: 'Log streaming' },
  { id: '01J2CT9EN0Q26F3BX8YMWE1EDX', name: 'Examples' },
] as const;
/** 2024-04-04T18:30:38.730Z, the seed's first timestamp. */
export const T0 = Date.parse('2024-04-04T18:30:38.730Z');

/** `n`-th test ULID (stable, valid: the first character is 0). */
export function ulid(n: number): string {
  return `01J29TGKQERR78AD3VN0P9D${String(n).padStart(3, '0')}`;
}

export interface TestRuntime {
  readonly runtime: FlowRuntime;
  readonly sink: MemorySink;
  readonly clock: VirtualClock;
  readonly reports: unknown[];
}

export function testRuntime(
  flows: readonly FlowDefinition[],
  options: Partial<Omit<FlowRuntimeOptions, 'flows' | 'sink' | 'clock'>> = {},
): TestRuntime {
  const sink = new MemorySink();
  const clock = new VirtualClock({ startMillis: T0 });
  const reports: unknown[] = [];
  const runtime = new FlowRuntime({
    org: ORG,
    user: USER,
    flows,
    sink,
    clock,
    random: seededRandom(7),
    randomUUID: uuidFrom(seededRandom(42)),
    onError: (report) => reports.push(report),
    ...options,
  });
  return { runtime, sink, clock, reports };
}

/** `ms` after T0 as an ISO timestamp. */
export function at(ms: number): string {
  return new Date(T0 + ms).toISOString();
}

/** Event type, flow name, and the fields a test names, per event. */
export function project(
  events: readonly FlowEvent[],
  fields: readonly string[] = [],
): Record<string, unknown>[] {
  return events.map((event) => {
    const record = event as unknown as Record<string, unknown>;
    const out: Record<string, unknown> = { type: record.event_type, flow: record.flow_name };
    for (const field of fields) if (record[field] !== undefined) out[field] = record[field];
    return out;
  });
}

/** Every event is strict-valid and has its own idempotency key; the SDK reported nothing. */
export function assertContract(t: TestRuntime): void {
  for (const event of t.sink.events) {
    assert.deepEqual(
      validateEvent(event, 'strict'),
      { ok: true, eventType: event.event_type },
      JSON.stringify(event),
    );
  }
  const keys = new Set(t.sink.events.map((e) => e.idempotency_key));
  assert.equal(keys.size, t.sink.events.length, 'one idempotency key per event');
  assert.deepEqual(t.reports, [], 'SDK reports');
}

export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Hold the answer this long (real ms). */
  readonly delayMillis?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface ScriptedServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real third party on 127.0.0.1:0 answering from a script, in order (the last answer repeats). */
export async function startScriptedServer(script: readonly ScriptedAnswer[]): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = script[Math.min(next++, script.length - 1)] as ScriptedAnswer;
      const send = (): void => {
        const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status, {
          ...(answer.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...answer.headers,
        });
        res.end(body);
      };
      if (answer.delayMillis !== undefined) setTimeout(send, answer.delayMillis);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
