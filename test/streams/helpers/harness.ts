import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Destination } from '../../../src/destinations/destination.js';
import type { EventLog } from '../../../src/log/event-log.js';
import { StreamMetrics } from '../../../src/streams/metrics.js';
import { StreamRunner, type StreamRunnerOptions } from '../../../src/streams/runner.js';
import {
  DEFAULT_DELIVERY,
  type DeliverySettings,
  type StreamDefinition,
} from '../../../src/streams/stream.js';
import { StreamStore } from '../../../src/streams/stream-store.js';
import { MemoryEventLog } from './memory-event-log.js';

export const silentLogger = pino({ level: 'silent' });

/** Delivery settings small enough for tests: no batch wait, millisecond backoff. */
export const FAST_DELIVERY: DeliverySettings = {
  ...DEFAULT_DELIVERY,
  batchMaxEvents: 100,
  batchTimeoutMillis: 0,
  requestTimeoutMillis: 2000,
  retryInitialMillis: 1,
  retryMaxMillis: 5,
};

export function makeStream(
  overrides: Omit<Partial<StreamDefinition>, 'delivery'> & { delivery?: Partial<DeliverySettings> } = {},
): StreamDefinition {
  const now = new Date().toISOString();
  return {
    id: 's1',
    name: 'test stream',
    type: 'test',
    org: '*',
    status: 'ACTIVE',
    settings: {},
    filter: {},
    format: 'okta',
    transforms: {},
    created: now,
    lastUpdated: now,
    ...overrides,
    delivery: { ...FAST_DELIVERY, ...overrides.delivery },
  };
}

/** A temp data dir with a state store, an event log (in memory unless given) and metrics. */
export class Harness {
  readonly directory = mkdtempSync(path.join(tmpdir(), 'fs-streams-'));
  readonly store = StreamStore.open({ directory: this.directory });
  readonly registry = new Registry();
  readonly metrics = new StreamMetrics(this.registry);
  readonly log: EventLog;
  readonly #runners: StreamRunner[] = [];

  constructor(log: EventLog = new MemoryEventLog()) {
    this.log = log;
  }

  /** Saves `stream` (cursor `cursor`, default 0 — unlike the manager) and makes a runner for it. */
  runner(
    stream: StreamDefinition,
    destination: Destination,
    options: Partial<StreamRunnerOptions> & { cursor?: number } = {},
  ): StreamRunner {
    if (this.store.getStream(stream.id) === undefined) this.store.putStream(stream, options.cursor ?? 0);
    const runner = new StreamRunner({
      stream,
      destination,
      log: this.log,
      store: this.store,
      metrics: this.metrics,
      logger: silentLogger,
      progressFlushMillis: 5,
      abortGraceMillis: 200,
      ...options,
    });
    this.#runners.push(runner);
    return runner;
  }

  async close(): Promise<void> {
    await Promise.all(this.#runners.map((r) => r.stop(0)));
    this.store.close();
    await this.log.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
