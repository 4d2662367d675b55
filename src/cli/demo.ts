import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { request } from 'undici';
import { type Demo, type DemoStats, startDemo } from '../runtime/demo.js';
import { SAMPLE_ORG } from '../runtime/sample-org.js';
import { EVENT_TYPES } from '../schema/event-types.js';
import type { SinkFailure } from '../sdk/sinks/http-sink.js';
import { CliError } from './cli-error.js';

/**
 * `flowstream demo [--url URL] [--token T] [--rate N] [--duration S]` (SPEC §2): runs the sample
 * org's flows (the reference runtime, docs/demo.md) against a running flowstream server, as a live
 * demo or a load generator. Prints a progress line every 5 s and, at the end (after --duration, or
 * on Ctrl-C), a summary: executions, events by type, and what the server did with them.
 *
 * Exit codes: 0; 1 when the server rejected events or the sink gave some up (a contract or server
 * problem worth failing a CI run for; drops from a full queue under load are reported, not failed);
 * 2 for usage errors, an unreachable server, or a refused token.
 */

export const DEFAULT_DEMO_URL = 'http://127.0.0.1:8470';
const PROGRESS_EVERY_MILLIS = 5000;
const PROBE_TIMEOUT_MILLIS = 5000;

export interface DemoCommandOptions {
  readonly url?: string;
  readonly token?: string;
  readonly rate?: string;
  readonly duration?: string;
}

export interface DemoIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops a run without --duration (the command wires SIGINT/SIGTERM to it). */
  readonly signal?: AbortSignal;
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--url ${JSON.stringify(value)} is not a URL (e.g. ${DEFAULT_DEMO_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`--url ${JSON.stringify(value)} must be an http:// or https:// URL`);
  }
  return value;
}

function parseNumber(option: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < min || number > max) {
    throw new CliError(`${option} ${JSON.stringify(value)} must be a number from ${min} to ${max}`);
  }
  return number;
}

/** GET /healthz: a clear sentence now beats a sink quietly retrying for two minutes. */
async function probe(url: string): Promise<void> {
  const target = new URL('healthz', url.endsWith('/') ? url : `${url}/`);
  try {
    const response = await request(target, {
      method: 'GET',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MILLIS),
    });
    await response.body.dump();
    if (response.statusCode >= 500)
      throw new CliError(`flowstream at ${url} is not healthy (HTTP ${response.statusCode})`);
  } catch (err: unknown) {
    if (err instanceof CliError) throw err;
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
    throw new CliError(`cannot reach flowstream at ${url} (${reason}); is \`flowstream serve\` running?`);
  }
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function progressLine(stats: DemoStats): string {
  const s = stats.sink;
  return (
    `${(stats.uptimeMillis / 1000).toFixed(0).padStart(4)}s  executions ${stats.executions.invocations}` +
    `  events ${stats.eventsTotal}  accepted ${s.acceptedTotal}  duplicates ${s.duplicatesTotal}` +
    `  rejected ${s.rejectedTotal}  dropped ${s.droppedTotal}  failed ${s.failedTotal}  queued ${s.queued + s.inFlight}\n`
  );
}

export function formatSummary(stats: DemoStats, url: string): string {
  const e = stats.executions;
  const s = stats.sink;
  const lines = [
    `flowstream demo: ${(stats.uptimeMillis / 1000).toFixed(1)} s against ${url} (org ${SAMPLE_ORG.name}, rate ${stats.rate}/s)`,
    `executions: ${e.started} (${e.invocations} triggered, ${e.started - e.invocations} helper flows): ${e.completed} completed, ${e.failed} failed, ${e.canceled} canceled, ${e.throttled} throttled`,
    `pace: ${(e.invocations / Math.max(0.001, stats.uptimeMillis / 1000)).toFixed(1)} triggered executions/s (--rate ${stats.rate} plus the scenarios)`,
    'events by type:',
    ...EVENT_TYPES.map((type) => `  ${pad(type, 16)} ${stats.eventsByType[type]}`),
    `  ${pad('total', 16)} ${stats.eventsTotal}`,
    `sink: ${s.acceptedTotal} accepted, ${s.duplicatesTotal} duplicates, ${s.rejectedTotal} rejected, ${s.droppedTotal} dropped, ${s.failedTotal} failed (${s.requestsTotal} requests, ${s.retriesTotal} retries)`,
    `third party: ${stats.hrApi.requests} requests, by status ${JSON.stringify(stats.hrApi.byStatus)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs the demo per the options; resolves with the exit code. Throws CliError for usage and connection errors. */
export async function runDemo(options: DemoCommandOptions, io: DemoIo): Promise<number> {
  const url = parseUrl(options.url ?? io.env.FLOWSTREAM_URL ?? DEFAULT_DEMO_URL);
  const token = options.token ?? io.env.FLOWSTREAM_TOKEN;
  if (token === undefined || token === '') {
    throw new CliError(
      'no token: pass --token or set FLOWSTREAM_TOKEN (a token with the events:write scope)',
    );
  }
  const rate = options.rate === undefined ? 2 : parseNumber('--rate', options.rate, 0, 100_000);
  const durationMillis =
    options.duration === undefined
      ? undefined
      : parseNumber('--duration', options.duration, 0.001, 31_536_000) * 1000;
  await probe(url);

  // A token the server refuses will not start working by itself: stop at the first refusal.
  let refused: SinkFailure | undefined;
  let stopEarly: (() => void) | undefined;
  const demo: Demo = await startDemo({
    url,
    token,
    rate,
    onSinkFailure: (failure) => {
      if (failure.error.code === 'HTTP_401' || failure.error.code === 'HTTP_403') {
        refused ??= failure;
        stopEarly?.();
      }
    },
  });
  io.stdout.write(
    `flowstream demo: org ${SAMPLE_ORG.name} sending to ${url}; ${rate} executions/s besides the scenarios` +
      `${durationMillis === undefined ? ' (Ctrl-C to stop)' : ` for ${durationMillis / 1000} s`}\n` +
      `  API endpoint / control server: ${demo.controlUrl}   flaky HR API: ${demo.hrApiUrl}\n`,
  );
  const progress = setInterval(() => io.stdout.write(progressLine(demo.stats())), PROGRESS_EVERY_MILLIS);
  progress.unref();
  let deadline: NodeJS.Timeout | undefined;
  const onAbort = (): void => stopEarly?.();
  try {
    await new Promise<void>((resolve) => {
      stopEarly = resolve;
      if (durationMillis !== undefined) deadline = setTimeout(resolve, durationMillis);
      if (io.signal?.aborted) resolve();
      io.signal?.addEventListener('abort', onAbort, { once: true });
    });
  } finally {
    clearTimeout(deadline);
    clearInterval(progress);
    io.signal?.removeEventListener('abort', onAbort);
    await demo.stop();
  }
  const stats = demo.stats();
  io.stdout.write(formatSummary(stats, url));
  if (refused !== undefined) {
    throw new CliError(
      `the server refused the token (${refused.error.code.replace('_', ' ')}): it needs the events:write scope for org ${SAMPLE_ORG.id} or "*"`,
    );
  }
  if (stats.sink.rejectedTotal > 0 || stats.sink.failedTotal > 0) {
    io.stderr.write(
      `flowstream demo: ${stats.sink.rejectedTotal} events rejected and ${stats.sink.failedTotal} given up by the server\n`,
    );
    return 1;
  }
  return 0;
}

/** `flowstream demo` (SPEC §2). `io` is for tests; the default is the process's streams, env and signals. */
export function demoCommand(io?: Partial<DemoIo>): Command {
  return new Command('demo')
    .description(
      "run the sample org's flows on the reference runtime and send their events to a running server",
    )
    .option('--url <url>', `server base URL (default: $FLOWSTREAM_URL or ${DEFAULT_DEMO_URL})`)
    .option('--token <token>', 'token with events:write (default: $FLOWSTREAM_TOKEN)')
    .option('--rate <n>', 'steady executions per second besides the scenarios (load generator; default 2)')
    .option('--duration <s>', 'stop after this many seconds and print a summary (default: run until Ctrl-C)')
    .action(async (opts: DemoCommandOptions) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      const ownSignals = io?.signal === undefined;
      if (ownSignals) {
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }
      try {
        const code = await runDemo(opts, {
          stdout: io?.stdout ?? process.stdout,
          stderr: io?.stderr ?? process.stderr,
          env: io?.env ?? process.env,
          signal: io?.signal ?? stop.signal,
        });
        if (code !== 0) process.exitCode = code;
      } finally {
        if (ownSignals) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }
    });
}
