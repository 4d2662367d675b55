import { startFlowstream } from './flowstream.js';
import { IngestClient, postAll } from './poster.js';
import { type ReceiverMode, startReceiver } from './receiver.js';
import { RssSampler, readCpuSeconds } from './rss.js';
import { wallMillis } from './stats.js';
import { sendLines, startSyslogNg } from './syslog-ng.js';

/**
 * The end-to-end throughput job of bench/e2e-webhook.bench.ts and bench/e2e-splunk.bench.ts, run
 * through flowstream or through syslog-ng: every process on this machine, the receiver in its own
 * process. Time runs from the first byte offered (first POST / first TCP write) to the last event
 * counted by the receiver.
 */

export interface JobResult {
  readonly events: number;
  /** First event offered → last event received, milliseconds. */
  readonly endToEndMillis: number;
  readonly eventsPerSecond: number;
  /** First event offered → last event accepted by the pipeline's input (202s / TCP writes done). */
  readonly inputMillis: number;
  /** Peak resident size of the pipeline process (VmHWM), MiB. */
  readonly peakRssMiB: number;
  readonly requests: number;
  /** CPU seconds the pipeline process used from the first event offered to the last received. */
  readonly cpuSeconds: number;
  /** Events per CPU second of the pipeline process (what one idle core would sustain). */
  readonly eventsPerCpuSecond: number;
}

export interface FlowstreamJobOptions {
  readonly bodies: readonly Buffer[];
  readonly events: number;
  readonly posters: number;
  readonly receiverMode: ReceiverMode;
  /** The stream declaration, given the receiver's base URL (`http://127.0.0.1:port`). */
  readonly stream: (receiverBaseUrl: string) => Record<string, unknown>;
  readonly timeoutMillis: number;
  readonly cpuProfDir?: string;
  /** Called with every RSS sample (every `rssIntervalMillis`), e.g. to print a trace. */
  readonly rssIntervalMillis?: number;
}

export async function runFlowstreamJob(options: FlowstreamJobOptions): Promise<JobResult> {
  const receiver = await startReceiver({ mode: options.receiverMode });
  const stream = options.stream(receiver.url(''));
  const service = await startFlowstream({
    streams: [stream],
    ...(options.cpuProfDir === undefined ? {} : { cpuProfDir: options.cpuProfDir }),
  });
  const rss = new RssSampler(service.pid, options.rssIntervalMillis ?? 100);
  const client = new IngestClient(service.url, options.posters);
  try {
    const cpuBefore = readCpuSeconds(service.pid) ?? 0;
    const posted = await postAll(client, options.bodies, options.posters);
    if (posted.accepted !== options.events) {
      throw new Error(`ingest accepted ${posted.accepted} of ${options.events} events`);
    }
    const received = await receiver.waitForEvents(options.events, options.timeoutMillis);
    const cpuSeconds = (readCpuSeconds(service.pid) ?? 0) - cpuBefore;
    const { hwmMiB } = rss.stop();
    const end = received.lastAtMillis ?? wallMillis();
    const endToEndMillis = end - posted.startedAt;
    return {
      events: received.events,
      endToEndMillis,
      eventsPerSecond: (options.events * 1000) / endToEndMillis,
      inputMillis: posted.finishedAt - posted.startedAt,
      peakRssMiB: hwmMiB,
      requests: received.requests,
      cpuSeconds,
      eventsPerCpuSecond: options.events / cpuSeconds,
    };
  } finally {
    rss.stop();
    await client.close();
    await service.stop();
    await receiver.close();
  }
}

export interface SyslogNgJobOptions {
  readonly bodies: readonly Buffer[];
  readonly events: number;
  readonly connections: number;
  readonly receiverMode: ReceiverMode;
  readonly template: string;
  /** Template values, given the receiver's base URL. */
  readonly vars: (receiverBaseUrl: string) => Record<string, string>;
  readonly timeoutMillis: number;
}

export async function runSyslogNgJob(options: SyslogNgJobOptions): Promise<JobResult> {
  const receiver = await startReceiver({ mode: options.receiverMode });
  const ng = await startSyslogNg(options.template, options.vars(receiver.url('')));
  const rss = new RssSampler(ng.pid, 100);
  try {
    const cpuBefore = readCpuSeconds(ng.pid) ?? 0;
    const startedAt = wallMillis();
    await sendLines(ng.port, options.bodies, options.connections);
    const inputDoneAt = wallMillis();
    let received: Awaited<ReturnType<typeof receiver.waitForEvents>>;
    try {
      received = await receiver.waitForEvents(options.events, options.timeoutMillis);
    } catch (err: unknown) {
      throw new Error(`${(err as Error).message}\nsyslog-ng said:\n${ng.stderr().slice(-3000)}`);
    }
    const cpuSeconds = (readCpuSeconds(ng.pid) ?? 0) - cpuBefore;
    const { hwmMiB } = rss.stop();
    const endToEndMillis = (received.lastAtMillis ?? wallMillis()) - startedAt;
    return {
      events: received.events,
      endToEndMillis,
      eventsPerSecond: (options.events * 1000) / endToEndMillis,
      inputMillis: inputDoneAt - startedAt,
      peakRssMiB: hwmMiB,
      requests: received.requests,
      cpuSeconds,
      eventsPerCpuSecond: options.events / cpuSeconds,
    };
  } finally {
    rss.stop();
    await ng.stop();
    await receiver.close();
  }
}
