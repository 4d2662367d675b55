/**
 * Reference runtime benchmark: `node --import tsx bench/runtime.bench.ts [--runs N] [--executions N]`.
 *
 * The highest executions per second the flow runtime sustains on this machine: a closed loop keeps
 * `--concurrency` executions in flight (each ending starts the next) until `--executions` have run,
 * on real time. The flow is a realistic onboarding: two text cards, a helper flow call (the helper
 * runs three cards and returns), an if, a return: 4 events per execution (two FLOW_START, two
 * FLOW_COMPLETE), all built and strictly validated by the SDK.
 *
 * Sinks:
 * - MemorySink (in process; the runtime and SDK alone; cleared every 1000 executions);
 * - HttpSink posting to a counting HTTP receiver in another process (answers 200 at once): the time
 *   runs until the sink has flushed everything, so the figure is what the runtime and one sink
 *   sustain together (the sink keeps one request in flight). The loop holds new invocations while
 *   more than 1024 events wait in the sink, so nothing is dropped (drops would be reported).
 * Then the demo as a load generator (`flowstream demo --rate N`, open loop, real time, events into
 * a counting sink) at a few rates for `--seconds` each: the triggered executions/s it achieved and
 * the event loop's p99 delay.
 * Medians of `--runs` runs, as wall-clock executions/s and as executions per CPU second of this
 * process (the sink's receiver excluded): on a shared machine the second is the steadier figure.
 * Figures in bench/figures/runtime.md. Not a test: nothing is asserted.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startDemo } from '../src/runtime/demo.js';
import { defineFlow } from '../src/runtime/flow-builder.js';
import { FlowRuntime } from '../src/runtime/flow-runtime.js';
import type { SdkValidation } from '../src/sdk/emit-context.js';
import { EMPTY_SINK_STATS, type EventSink, type SinkStats } from '../src/sdk/sinks/event-sink.js';
import { HttpSink } from '../src/sdk/sinks/http-sink.js';
import { MemorySink } from '../src/sdk/sinks/memory-sink.js';
import { startReceiver } from './lib/receiver.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    executions: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '100,1000,3000' },
  },
});
const RUNS = Number(values.runs);
const EXECUTIONS = Number(values.executions);
const CONCURRENCY = Number(values.concurrency);
/** Events waiting in an HttpSink above which the loop waits (half its default queue of 2048). */
const BACKLOG_LIMIT = 1024;

const ORG = { id: '01J29TH3XHECT79M257GG2QTKJ', name: 'logstream-01', hostname: 'atko.okta.com' };
const USER = { id: '01J29TRZDZKSY6V70GATDAHN2N', email: 'jessie.doe@example.corp' };
const FOLDERS = [
  { id: '01J266QSM0NQA48CNHDP6EETBD', name: 'Identity Lifecycle' },
  { id: '01J2DXXYM0Y3S35HWYXCN0FHAB', name: 'Joiners' },
];
const formatName = defineFlow({
  id: '01J353GDM0T12WRTKMBJ08RGJ5',
  name: 'Format Display Name',
  folderPath: FOLDERS,
  trigger: { type: 'helper' },
})
  .text('capitalize', '{{input.first}}', { as: 'first' })
  .text('capitalize', '{{input.last}}', { as: 'last' })
  .compose('{{first}} {{last}}', { as: 'name' })
  .return('{{name}}')
  .build();
const onboard = defineFlow({
  id: '01J3CTPJM0S4NQ6CK6KSJ0099G',
  name: 'Onboard New Hire',
  folderPath: FOLDERS,
})
  .text('concatenate', ['{{input.first}}', '{{input.last}}'], { argument: '.', as: 'handle' })
  .text('lowercase', '{{handle}}@example.com', { as: 'login' })
  .call(formatName, { first: '{{input.first}}', last: '{{input.last}}' }, { as: 'name' })
  .if(
    { value: '{{input.department}}', operator: 'equals', compareTo: 'Engineering' },
    (yes) => yes.compose('GitHub for {{login}}', { as: 'apps' }),
    (no) => no.compose('Slack for {{login}}', { as: 'apps' }),
  )
  .return({ login: '{{login}}', name: '{{name}}', apps: '{{apps}}' })
  .build();

interface Run {
  readonly executionsPerSecond: number;
  /** Executions per second of this process's CPU time: what one uncontended core sustains. */
  readonly executionsPerCpuSecond: number;
  readonly eventsPerSecond: number;
  readonly dropped: number;
}

async function closedLoop(sink: EventSink, validation: SdkValidation, executions: number): Promise<Run> {
  const runtime = new FlowRuntime({ org: ORG, user: USER, flows: [formatName, onboard], sink, validation });
  let started = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (started < executions) {
      started++;
      // Invocations arrive as I/O (an API call, a timer): let the event loop run between them, so
      // the sink's timers and sockets get their turn as they would in a service.
      await new Promise((resolve) => setImmediate(resolve));
      // Sustained means nothing dropped: hold new invocations while the sink is behind (an engine
      // feeding one sink faster than it drains would drop events, and its figure would not count).
      while (sink.stats().queued + sink.stats().inFlight > BACKLOG_LIMIT) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      // A MemorySink keeps every event; forgetting them keeps retention out of the figure.
      if (sink instanceof MemorySink && started % 1000 === 0) sink.clear();
      const input = {
        first: 'ada',
        last: 'lovelace',
        department: started % 2 === 0 ? 'Engineering' : 'Sales',
      };
      const result = await runtime.invoke(onboard.id, input).result;
      if (result.status !== 'completed') throw new Error(`execution ${result.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await runtime.stop();
  await sink.flush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const stats = runtime.stats();
  const events = Object.values(stats.eventsByType).reduce((a, b) => a + b, 0);
  return {
    executionsPerSecond: executions / seconds,
    executionsPerCpuSecond: executions / cpuSeconds,
    eventsPerSecond: events / seconds,
    dropped: sink.stats().droppedTotal,
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function measure(label: string, makeSink: () => EventSink, validation: SdkValidation): Promise<void> {
  const warm = makeSink();
  await closedLoop(warm, validation, Math.min(2000, EXECUTIONS));
  await warm.shutdown();
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const sink = makeSink();
    runs.push(await closedLoop(sink, validation, EXECUTIONS));
    await sink.shutdown();
  }
  const eps = runs.map((r) => r.executionsPerSecond);
  const perCpu = runs.map((r) => r.executionsPerCpuSecond);
  console.log(
    `${label}: median ${fmt(median(eps))} executions/s (${fmt(median(runs.map((r) => r.eventsPerSecond)))} events/s),` +
      ` ${fmt(median(perCpu))} executions per CPU second; runs ${eps.map(fmt).join(', ')};` +
      ` dropped ${runs.map((r) => r.dropped).join(', ')}`,
  );
}

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version},` +
    ` load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
console.log(`${RUNS} runs of ${fmt(EXECUTIONS)} executions, ${CONCURRENCY} in flight, 4 events each`);

await measure('runtime → MemorySink, SDK validation strict', () => new MemorySink(), 'strict');
await measure('runtime → MemorySink, SDK validation off', () => new MemorySink(), 'off');

const receiver = await startReceiver({ mode: 'count' });
try {
  await measure(
    'runtime → HttpSink → local receiver (200), strict',
    () => new HttpSink({ url: receiver.url(), token: 'bench' }),
    'strict',
  );
} finally {
  await receiver.close();
}

/** Counts and forgets (the demo would otherwise keep every event of a long run). */
class CountingSink implements EventSink {
  emitted = 0;
  emit(): void {
    this.emitted++;
  }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
  stats(): SinkStats {
    return { ...EMPTY_SINK_STATS, emittedTotal: this.emitted, acceptedTotal: this.emitted };
  }
}

for (const rate of values.rates.split(',').map(Number)) {
  const sink = new CountingSink();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const demo = await startDemo({ sink, rate, seed: 1 });
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000));
  delay.disable();
  const stats = demo.stats();
  await demo.stop();
  const seconds = stats.uptimeMillis / 1000;
  console.log(
    `demo --rate ${rate}: ${fmt(stats.executions.invocations / seconds)} triggered executions/s achieved` +
      ` (${fmt(stats.executions.started / seconds)} with helpers, ${fmt(stats.eventsTotal / seconds)} events/s),` +
      ` event loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
  );
}
