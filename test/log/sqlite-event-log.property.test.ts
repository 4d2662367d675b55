import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AppendResult, EventLog, NewEvent } from '../../src/log/event-log.js';
import {
  openSqliteEventLog,
  type SqliteEventLog,
  type SqliteEventLogOptions,
} from '../../src/log/sqlite-event-log.js';
import { MemoryEventLog } from './memory-model.js';

/**
 * Model-based property test: random sequences of appends (sequential and concurrent, i.e. group
 * committed), reads, clock moves (also backwards), retention (sync and chunked async), reopen and
 * time lookups give the same observable results on the SQLite log and on the in-memory model.
 * Limits are tiny (a few hundred bytes, 2 rows per retention chunk) so that duplicates, storage
 * full, size retention and multi-chunk retention all happen within a few commands.
 */

const KEYS = 12;
// Clock moves and lookups are multiples of the retention age's parts, so that events exactly
// maxAgeMillis old (kept) and one millisecond older (deleted) both occur.
const HARD_MAX_BYTES = 240;
const RETENTION = { maxAgeMillis: 10_000, maxBytes: 160 };

interface EventSpec {
  readonly key: number;
  readonly text: string;
  /** Breaks one field, to check that one caller's bad input does not touch the others. */
  readonly invalid: boolean;
}

type Command =
  | { readonly kind: 'append'; readonly batches: readonly (readonly EventSpec[])[] }
  | { readonly kind: 'read'; readonly afterOffset: number; readonly limit: number }
  | { readonly kind: 'clock'; readonly deltaMillis: number }
  | { readonly kind: 'retention' }
  | { readonly kind: 'runRetention' }
  | { readonly kind: 'reopen' }
  | { readonly kind: 'seqAt'; readonly offsetMillis: number };

const eventSpec: fc.Arbitrary<EventSpec> = fc.record({
  key: fc.nat(KEYS - 1),
  // Mostly texts that make the JSON exactly 20, 40 or 60 UTF-8 bytes (so totals land exactly on
  // the limits), sometimes any graphemes (multi-byte UTF-8 of every kind).
  text: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('abc', `${'é'.repeat(10)}abc`, `${'😀'.repeat(10)}abc`) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  ),
  invalid: fc.nat(19).map((n) => n === 0),
});

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      batches: fc.array(fc.array(eventSpec, { maxLength: 5 }), { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      afterOffset: fc.integer({ min: -3, max: 12 }),
      limit: fc.nat(8),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('clock' as const),
      deltaMillis: fc.constantFrom(-2000, -1, 0, 1, 1000, 2500, 5000, 10_000),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'runRetention' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('seqAt' as const),
      offsetMillis: fc.constantFrom(-20_000, -10_000, -5000, -2500, -1000, -1, 0, 1, 1000),
    }),
  },
);

function toEvent(spec: EventSpec): NewEvent {
  const event: NewEvent = {
    orgId: 'org-1',
    eventType: 'FLOW_START',
    flowId: `flow-${spec.key % 3}`,
    executionId: `exec-${spec.key}`,
    idempotencyKey: `key-${spec.key}`,
    json: JSON.stringify({ k: String(spec.key).padStart(2, '0'), t: spec.text }),
  };
  return spec.invalid ? ({ ...event, flowId: 42 } as unknown as NewEvent) : event;
}

type Settled = { status: 'ok'; value: AppendResult } | { status: 'error'; code: string };

async function settle(promise: Promise<AppendResult>): Promise<Settled> {
  try {
    return { status: 'ok', value: await promise };
  } catch (error) {
    return { status: 'error', code: String((error as { code?: unknown }).code) };
  }
}

class Harness {
  clockMillis = 1_700_000_000_000;
  readonly model: MemoryEventLog;
  real: SqliteEventLog;
  lastNotifiedReal = 0;
  lastNotifiedModel = 0;
  private readonly options: SqliteEventLogOptions;

  constructor(directory: string) {
    const now = () => this.clockMillis;
    this.options = { directory, now, retention: RETENTION, maxBytes: HARD_MAX_BYTES, retentionChunkRows: 2 };
    this.model = new MemoryEventLog({ now, retention: RETENTION, maxBytes: HARD_MAX_BYTES });
    this.model.onAppend((seq) => {
      this.lastNotifiedModel = seq;
    });
    this.real = this.openReal();
  }

  openReal(): SqliteEventLog {
    const log = openSqliteEventLog(this.options);
    log.onAppend((seq) => {
      this.lastNotifiedReal = seq;
    });
    return log;
  }

  async run(cmd: Command): Promise<void> {
    const { model } = this;
    const real: EventLog = this.real;
    switch (cmd.kind) {
      case 'append': {
        const batches = cmd.batches.map((batch) => batch.map(toEvent));
        // All real appends start in the same tick: one group commit. The model serves them in order.
        const realResults = await Promise.all(batches.map((batch) => settle(real.append(batch))));
        const modelResults: Settled[] = [];
        for (const batch of batches) modelResults.push(await settle(model.append(batch)));
        assert.deepEqual(realResults, modelResults, 'append results');
        assert.equal(this.lastNotifiedReal, this.lastNotifiedModel, 'last onAppend notification');
        break;
      }
      case 'read': {
        const after = model.lastSeq() + cmd.afterOffset - 6;
        assert.deepEqual(
          await real.readAfter(after, cmd.limit),
          await model.readAfter(after, cmd.limit),
          'readAfter',
        );
        break;
      }
      case 'clock':
        this.clockMillis += cmd.deltaMillis;
        break;
      case 'retention':
        assert.deepEqual(real.enforceRetention(), model.enforceRetention(), 'enforceRetention');
        break;
      case 'runRetention':
        assert.deepEqual(await this.real.runRetention(), model.enforceRetention(), 'runRetention');
        break;
      case 'reopen':
        await this.real.close();
        this.real = this.openReal();
        break;
      case 'seqAt': {
        const time = this.clockMillis + cmd.offsetMillis;
        assert.equal(real.seqAtOrAfter(time), model.seqAtOrAfter(time), 'seqAtOrAfter');
        break;
      }
    }
    const {
      appendCalls: _a,
      groupCommits: _g,
      retentionDeleted: _r,
      keyIndexBytes: _k,
      ...realStats
    } = this.real.stats();
    assert.deepEqual(realStats, model.stats(), 'stats');
    assert.equal(real.lastSeq(), model.lastSeq(), 'lastSeq');
    assert.equal(real.firstSeq(), model.firstSeq(), 'firstSeq');
  }
}

test('the SQLite event log behaves like the in-memory model', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40, size: 'medium' }), async (commands) => {
      const directory = mkdtempSync(join(tmpdir(), 'fs-log-prop-'));
      const harness = new Harness(directory);
      try {
        for (const cmd of commands) await harness.run(cmd);
        assert.deepEqual(await harness.real.readAfter(-1, 1000), await harness.model.readAfter(-1, 1000));
        assert.deepEqual(harness.real.verifyIntegrity(), { ok: true, problems: [] });
      } finally {
        await harness.real.close();
        rmSync(directory, { recursive: true, force: true });
      }
    }),
    { numRuns: Number(process.env.FS_PROPERTY_RUNS ?? 100), interruptAfterTimeLimit: 40_000 },
  );
});
