import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { FlowEvent } from '../schema/definitions.js';
import type { EventType } from '../schema/event-types.js';
import type { EventSink, SinkStats } from '../sdk/sinks/event-sink.js';
import { HttpSink, type SinkFailure } from '../sdk/sinks/http-sink.js';
import { type Clock, systemClock } from './clock.js';
import { type ControlServer, startControlServer } from './control-server.js';
import { FlowRuntimeError } from './errors.js';
import { type FlakyApiStats, startFlakyApi } from './flaky-api.js';
import { FlowRuntime } from './flow-runtime.js';
import { seededRandom, uuidFrom } from './random.js';
import { SAMPLE_ADMIN, SAMPLE_FLOW_IDS, SAMPLE_ORG, sampleOrgFlows } from './sample-org.js';

/**
 * The demo: the sample org's flows (sample-org.ts) running continuously on the reference runtime,
 * with their own third party (the flaky HR API, flaky-api.ts) and the runtime's control server
 * (API endpoint invocations, cancel, resume), sending every event through the SDK's HttpSink to a
 * flowstream server. What runs when is in docs/demo.md; in short:
 *
 * - at start: an onboarding and a laptop order through the control server's API endpoint, an
 *   offboarding of a user Okta does not know (FLOW_FAIL), an access review reminder (FLOW_PAUSE), an
 *   HR sync (calls the flaky API); 200 ms in, the scheduled HR directory sync (three requests at a
 *   third party allowing two per second: FLOW_RATE_LIMIT, then the retry); at 1.5 s the help desk
 *   cancels the laptop order through the control server (FLOW_CANCEL); at 1 s and every 10 s a
 *   burst of contractor imports larger than the org's execution rate limit (FLOW_THROTTLE);
 * - all along: `rate` executions per second drawn from a realistic mix, HR syncs every 1.5 s, the
 *   help desk approving (resume) or canceling each laptop order after 1–3 s.
 * Every event type appears within the first few seconds (the test allows 30).
 *
 * Waits, retry delays and backoffs are seconds so the demo moves; real Okta ones are minutes to days.
 */

export type DemoLogger = Pick<Logger, 'info' | 'warn'>;

interface DemoCommonOptions {
  /** Steady executions per second besides the scenarios. Default 2. */
  readonly rate?: number;
  readonly logger?: DemoLogger;
  /** Every event the runtime emits (after the sink took it). A throw is swallowed. */
  readonly onEvent?: (event: FlowEvent) => void;
  /** Default: real time. */
  readonly clock?: Clock;
  /** Seed for the traffic mix, the third party's failures, jitter and ids. Default: random. */
  readonly seed?: number;
}

export type DemoOptions = DemoCommonOptions &
  (
    | {
        /** Base URL of the flowstream server; events go to `{url}/api/v1/events`. */
        readonly url: string;
        /** Token with `events:write` for the sample org (sent as `Authorization: Bearer`). */
        readonly token: string;
        /** Batches the server refused for good (bad token, unreachable past the retry time …). */
        readonly onSinkFailure?: (failure: SinkFailure) => void;
      }
    | {
        /** Instead of url/token: where events go (tests, embedding). Flushed, not shut down, at stop. */
        readonly sink: EventSink;
      }
  );

export interface DemoStats {
  readonly uptimeMillis: number;
  /** Steady executions per second asked for. */
  readonly rate: number;
  readonly executions: {
    /** Executions started, helpers included. */
    readonly started: number;
    /** Executions started by a trigger (API endpoint, schedule, direct invocation). */
    readonly invocations: number;
    readonly completed: number;
    readonly failed: number;
    readonly canceled: number;
    readonly throttled: number;
    readonly running: number;
  };
  readonly eventsByType: Readonly<Record<EventType, number>>;
  readonly eventsTotal: number;
  /** The SDK sink's counters: accepted, duplicates, rejected, dropped, failed … */
  readonly sink: SinkStats;
  /** What the flaky HR API answered. */
  readonly hrApi: FlakyApiStats;
}

export interface Demo {
  /** The runtime's control server: `POST {controlUrl}/flows/{flowId}/invoke` … */
  readonly controlUrl: string;
  /** The flaky third party. */
  readonly hrApiUrl: string;
  stats(): DemoStats;
  /** Stops traffic, cancels executions still running (FLOW_CANCEL), flushes events, closes servers. Idempotent. */
  stop(): Promise<void>;
}

const FIRST_NAMES = [
  'ada',
  'grace',
  'alan',
  'katherine',
  'linus',
  'margaret',
  'dennis',
  'radia',
  'ken',
  'barbara',
];
const LAST_NAMES = [
  'lovelace',
  'hopper',
  'turing',
  'johnson',
  'torvalds',
  'hamilton',
  'ritchie',
  'perlman',
  'thompson',
  'liskov',
];
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Engineering', 'Support', 'Marketing'];
const MANAGERS = ['m.chen@acme-demo.example', 'r.okafor@acme-demo.example', 's.ivanova@acme-demo.example'];

/** Steady mix: flow and weight (the HR sync runs on its own clock: the third party allows 2 req/s). */
const MIX: readonly (readonly [keyof typeof SAMPLE_FLOW_IDS, number])[] = [
  ['onboardNewHire', 30],
  ['offboardEmployee', 20],
  ['bulkImportContractors', 20],
  ['accessReviewReminder', 18],
  ['provisionLaptop', 12],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

/** The mix's flow for a uniform draw in [0, 1). */
function drawFromMix(uniform: number): keyof typeof SAMPLE_FLOW_IDS {
  let remaining = uniform * MIX_TOTAL;
  for (const [flow, weight] of MIX) {
    if (remaining < weight) return flow;
    remaining -= weight;
  }
  return (MIX[0] as (typeof MIX)[number])[0];
}

const TICK_MILLIS = 100;
const BURST_EVERY_MILLIS = 10_000;
const SYNC_EVERY_MILLIS = 1500;

function checkRate(rate: number | undefined): number {
  const value = rate ?? 2;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100_000) {
    throw new FlowRuntimeError(
      'RUNTIME_INVALID_OPTION',
      `rate must be a number from 0 to 100000, got ${String(rate)}`,
    );
  }
  return value;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const rate = checkRate(options.rate);
  const clock = options.clock ?? systemClock;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const random = seededRandom(seed);
  const randomUUID =
    options.seed === undefined ? cryptoRandomUUID : uuidFrom(seededRandom(seed ^ 0x5bd1e995));
  const logger = options.logger;

  let sink: EventSink;
  let ownsSink = false;
  if ('sink' in options) {
    sink = options.sink;
  } else {
    const onSinkFailure = options.onSinkFailure;
    sink = new HttpSink({
      url: options.url,
      token: options.token,
      onFailure: (failure) => {
        logger?.warn(
          { code: failure.error.code, events: failure.events },
          'demo: events given up by the sink',
        );
        onSinkFailure?.(failure);
      },
      onDrop: (drop) =>
        logger?.warn({ reason: drop.reason, events: drop.events }, 'demo: events dropped by the sink'),
    });
    ownsSink = true;
  }

  const hrApi = await startFlakyApi({ random, now: () => clock.now() });
  // Org limits scale with the asked rate, so the steady traffic stays mostly unthrottled and the
  // bursts (limit + 5 at once) always cross the rate limit.
  const orgExecutionsPerSecond = Math.ceil(rate * 1.5) + 10;
  let runtime: FlowRuntime;
  let control: ControlServer;
  try {
    runtime = new FlowRuntime({
      org: SAMPLE_ORG,
      user: SAMPLE_ADMIN,
      flows: sampleOrgFlows(hrApi.url),
      sink,
      clock,
      random,
      randomUUID,
      limits: { orgExecutionsPerSecond, orgConcurrentExecutions: Math.ceil(rate * 4) + 40 },
      throttledCardDelayMillis: 100,
      onError: (report) =>
        logger?.warn({ code: report.code, problems: report.problems }, `demo: ${report.message}`),
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    });
    control = await startControlServer({ runtime });
  } catch (err: unknown) {
    await hrApi.close();
    if (ownsSink) await sink.shutdown();
    throw err;
  }

  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const traffic = new AbortController();
  // Every pending traffic timer listens on it (hundreds at a high rate): not a leak.
  setMaxListeners(0, traffic.signal);
  const startedAt = clock.monotonicNow();

  /** POST to the control server (the API endpoint / console). Failures are logged, never thrown. */
  const post = async (path: string, body?: unknown): Promise<unknown> => {
    try {
      const response = await clock.external(
        request(`${control.url}${path}`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body ?? {}),
          signal: traffic.signal,
        }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as unknown })),
      );
      if (response.status >= 400 && !traffic.signal.aborted) {
        logger?.warn(
          { path, status: response.status, body: response.body },
          'demo: control server refused a request',
        );
      }
      return response.body;
    } catch (err: unknown) {
      if (!traffic.signal.aborted) logger?.warn({ err, path }, 'demo: control server request failed');
      return undefined;
    }
  };

  const sleep = async (millis: number): Promise<boolean> => {
    try {
      await clock.sleep(millis, { signal: traffic.signal, keepAlive: false });
      return true;
    } catch {
      return false;
    }
  };

  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const person = () => ({
    firstName: pick(FIRST_NAMES),
    lastName: pick(LAST_NAMES),
    department: pick(DEPARTMENTS),
  });
  const loginOf = (p: { firstName: string; lastName: string }) =>
    `${p.firstName}.${p.lastName}@acme-demo.example`;

  const inputFor = (flow: keyof typeof SAMPLE_FLOW_IDS): Record<string, unknown> => {
    const p = person();
    switch (flow) {
      case 'offboardEmployee':
        // One in six offboardings names someone Okta does not know: a fatal FLOW_FAIL.
        return random() < 1 / 6
          ? { login: loginOf(p) }
          : { login: loginOf(p), oktaUserId: `00u${Math.floor(random() * 1e9).toString(36)}` };
      case 'accessReviewReminder':
        return { manager: pick(MANAGERS) };
      case 'provisionLaptop':
        return { login: loginOf(p) };
      case 'syncEmployeeToHr':
        return {
          employeeId: `e-${1000 + Math.floor(random() * 9000)}`,
          department: p.department,
          title: 'Engineer',
        };
      default:
        return p;
    }
  };

  const invoke = (flow: keyof typeof SAMPLE_FLOW_IDS, input = inputFor(flow)): string | undefined => {
    try {
      return runtime.invoke(SAMPLE_FLOW_IDS[flow], input).executionId;
    } catch (err: unknown) {
      if (!(err instanceof FlowRuntimeError && err.code === 'RUNTIME_STOPPED')) throw err;
      return undefined;
    }
  };

  /** The help desk: approves (resume) or cancels a laptop order after 1–3 s, through the control server. */
  const helpDesk = async (
    executionId: string,
    decision: 'resume' | 'cancel',
    afterMillis: number,
  ): Promise<void> => {
    if (!(await sleep(afterMillis))) return;
    await post(`/executions/${encodeURIComponent(executionId)}/${decision}`);
  };

  const orderLaptop = async (
    viaApi: boolean,
    decision?: 'resume' | 'cancel',
    afterMillis?: number,
  ): Promise<void> => {
    const input = inputFor('provisionLaptop');
    let executionId: string | undefined;
    if (viaApi) {
      const answer = await post(`/flows/${SAMPLE_FLOW_IDS.provisionLaptop}/invoke`, input);
      const id = (answer as { executionId?: unknown } | undefined)?.executionId;
      executionId = typeof id === 'string' ? id : undefined;
    } else {
      executionId = invoke('provisionLaptop', input);
    }
    if (executionId === undefined) return;
    await helpDesk(
      executionId,
      decision ?? (random() < 0.75 ? 'resume' : 'cancel'),
      afterMillis ?? 1000 + random() * 2000,
    );
  };

  const kickoff = async (): Promise<void> => {
    void post(`/flows/${SAMPLE_FLOW_IDS.onboardNewHire}/invoke`, inputFor('onboardNewHire'));
    void orderLaptop(true, 'cancel', 1500);
    invoke('offboardEmployee', { login: 'former.contractor@acme-demo.example' });
    invoke('accessReviewReminder');
    invoke('syncEmployeeToHr');
  };

  const bursts = async (): Promise<void> => {
    let delay = 1000;
    while (await sleep(delay)) {
      for (let i = 0; i < orgExecutionsPerSecond + 5; i++) invoke('bulkImportContractors');
      delay = BURST_EVERY_MILLIS;
    }
  };

  const syncs = async (): Promise<void> => {
    while (await sleep(SYNC_EVERY_MILLIS)) invoke('syncEmployeeToHr');
  };

  // Paced by elapsed time, not by ticks: a late tick (a busy event loop) catches up, at most one
  // second's worth, so `rate` is what is offered unless the process cannot keep up at all.
  const steady = async (): Promise<void> => {
    const begin = clock.monotonicNow();
    let offered = 0;
    while (await sleep(TICK_MILLIS)) {
      const target = (rate * (clock.monotonicNow() - begin)) / 1000;
      if (target - offered > rate) offered = target - rate;
      for (; offered + 1 <= target; offered++) {
        const flow = drawFromMix(random());
        if (flow === 'provisionLaptop') void orderLaptop(random() < 0.5);
        else invoke(flow);
      }
    }
  };

  runtime.start();
  void kickoff();
  void bursts();
  void syncs();
  void steady();
  logger?.info(
    { controlUrl: control.url, hrApiUrl: hrApi.url, rate, orgExecutionsPerSecond, seed },
    'demo: sample org running',
  );

  let stopping: Promise<void> | undefined;
  const stats = (): DemoStats => {
    const s = runtime.stats();
    return {
      uptimeMillis: Math.round(clock.monotonicNow() - startedAt),
      rate,
      executions: {
        started: s.executionsStarted,
        invocations: s.invocations,
        completed: s.executionsCompleted,
        failed: s.executionsFailed,
        canceled: s.executionsCanceled,
        throttled: s.executionsThrottled,
        running: s.running,
      },
      eventsByType: s.eventsByType,
      eventsTotal: Object.values(s.eventsByType).reduce((a, b) => a + b, 0),
      sink: s.sink,
      hrApi: hrApi.stats(),
    };
  };
  return {
    controlUrl: control.url,
    hrApiUrl: hrApi.url,
    stats,
    stop: () => {
      stopping ??= (async () => {
        traffic.abort();
        await runtime.stop();
        await control.close();
        await hrApi.close();
        await agent.close().catch(() => {});
        if (ownsSink) await sink.shutdown();
        else await sink.flush();
        logger?.info({ stats: stats() }, 'demo: stopped');
      })();
      return stopping;
    },
  };
}
