import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ItemOutcome, OutboundEvent, SendResult } from '../../src/destinations/destination.js';
import type { ProgressUpdate } from '../../src/streams/stream-store.js';
import { makeEvents, nOf } from './helpers/events.js';
import { Harness, makeStream } from './helpers/harness.js';
import { MemoryEventLog } from './helpers/memory-event-log.js';
import { type Answer, deliverAll, fatal, retryable, TestPeer } from './helpers/test-peer.js';
import { waitFor } from './helpers/wait.js';

/**
 * Property: for random failure schedules, every event is eventually either delivered (possibly
 * more than once; in per-execution order within one runner's life) or dead-lettered, and the
 * persisted cursor never passes an event that is neither acknowledged nor dead-lettered.
 */

type Step = 'ok' | 'retryable' | 'retry-after' | 'fatal' | 'hang' | 'throw' | 'partial';

interface Scenario {
  readonly events: number;
  readonly executions: number;
  readonly concurrency: number;
  readonly batchMaxEvents: number;
  readonly poison: readonly number[];
  readonly schedule: readonly Step[];
  /** Stop the runner (deadline 0) after this many calls and start a new one; -1 = never. */
  readonly restartAtCall: number;
}

function scenario(steps: readonly Step[]): fc.Arbitrary<Scenario> {
  return fc
    .record({
      events: fc.integer({ min: 1, max: 120 }),
      executions: fc.integer({ min: 1, max: 8 }),
      concurrency: fc.integer({ min: 1, max: 4 }),
      batchMaxEvents: fc.integer({ min: 1, max: 25 }),
      poison: fc.uniqueArray(fc.nat({ max: 119 }), { maxLength: 6 }),
      schedule: fc.array(fc.constantFrom(...steps), { maxLength: 25 }),
      restartAtCall: fc.integer({ min: -1, max: 20 }),
    })
    .map((s) => ({ ...s, poison: s.poison.filter((n) => n < s.events) }));
}

/** Deterministic per-item coin for partial answers. */
function coin(seq: number, call: number): boolean {
  return ((seq * 2654435761 + call * 40503) >>> 0) % 3 === 0;
}

async function run(s: Scenario): Promise<void> {
  const log = new MemoryEventLog();
  const h = new Harness(log);
  try {
    const poison = new Set(s.poison);
    const isPoison = (e: OutboundEvent): boolean => poison.has(nOf(e));
    const peer = new TestPeer((batch, call): Answer | Promise<Answer> => {
      const step = s.schedule[call] ?? 'ok';
      if (step === 'partial') {
        const items = batch.map((e): ItemOutcome => {
          if (isPoison(e)) return { outcome: 'rejected', error: { code: 'ITEM_BAD', message: 'poison' } };
          if (coin(e.seq, call))
            return { outcome: 'retryable', error: { code: 'ITEM_BUSY', message: 'busy' } };
          return { outcome: 'delivered' };
        });
        return { outcome: 'partial', bytes: 0, items };
      }
      if (step === 'retryable') return retryable('HTTP_503');
      if (step === 'retry-after') return retryable('HTTP_429', 3);
      if (step === 'fatal') return fatal('HTTP_401');
      if (step === 'hang') return 'hang';
      if (step === 'throw') throw new Error('socket hang up');
      if (batch.some(isPoison)) {
        const result: SendResult = {
          outcome: 'rejected',
          error: { code: 'HTTP_400', message: 'poison', status: 400 },
        };
        return result;
      }
      return deliverAll(batch, call);
    });

    // Observe every progress write: the cursor may only pass acknowledged or dead-lettered events.
    const acknowledged = new Set<number>();
    const deadLettered = new Set<number>();
    const save = h.store.saveProgress.bind(h.store);
    h.store.saveProgress = (id: string, update: ProgressUpdate) => {
      for (const e of peer.received) acknowledged.add(e.seq);
      for (const d of update.deadLetters) deadLettered.add(d.event.seq);
      if (update.cursor !== undefined) {
        for (let seq = 1; seq <= update.cursor; seq++) {
          assert.ok(
            acknowledged.has(seq) || deadLettered.has(seq),
            `cursor ${update.cursor} passes unacknowledged ${seq}`,
          );
        }
      }
      save(id, update);
    };

    await log.append(makeEvents(s.events, { executions: s.executions }));
    const stream = makeStream({
      delivery: {
        concurrency: s.concurrency,
        batchMaxEvents: s.batchMaxEvents,
        batchTimeoutMillis: 0,
        requestTimeoutMillis: 40,
        retryInitialMillis: 1,
        retryMaxMillis: 3,
        pauseAfterMillis: 0,
      },
    });
    const lifetimes: number[] = [0]; // index into peer.received where each runner's life starts
    let runner = h.runner(stream, peer.destination(), { abortGraceMillis: 50 });
    runner.start();
    if (s.restartAtCall >= 0) {
      await waitFor(
        () => peer.calls.length >= s.restartAtCall || runner.snapshot().cursor === s.events,
        'restart point',
      );
      await runner.stop(0);
      lifetimes.push(peer.received.length);
      runner = h.runner(stream, peer.destination(), { abortGraceMillis: 50 });
      runner.start();
    }
    await waitFor(
      () => runner.snapshot().cursor === s.events,
      'everything acknowledged or dead-lettered',
      20_000,
    );
    await runner.stop(1000);

    const received = new Set(peer.received.map(nOf));
    const dead = new Set(h.store.getDeadLetters('s1').map((d) => JSON.parse(d.json).n as number));
    for (let n = 0; n < s.events; n++) {
      if (poison.has(n)) {
        assert.ok(dead.has(n), `poison ${n} is dead-lettered`);
        assert.ok(!received.has(n), `poison ${n} is never acknowledged`);
      } else {
        assert.ok(received.has(n), `event ${n} delivered`);
        assert.ok(!dead.has(n), `event ${n} not dead-lettered`);
      }
    }
    assert.equal(h.store.getState('s1')?.cursor, s.events);

    if (!s.schedule.includes('partial')) {
      lifetimes.push(peer.received.length);
      for (let life = 0; life + 1 < lifetimes.length; life++) {
        const slice = peer.received.slice(lifetimes[life], lifetimes[life + 1]);
        const last = new Map<string, number>();
        for (const e of slice) {
          const previous = last.get(e.executionId) ?? -1;
          assert.ok(nOf(e) > previous, `execution ${e.executionId}: ${nOf(e)} after ${previous}`);
          last.set(e.executionId, nOf(e));
        }
      }
    }
  } finally {
    await h.close();
  }
}

test('property: delivered or dead-lettered, per-execution order, cursor safety (batch answers)', async () => {
  await fc.assert(
    fc.asyncProperty(scenario(['ok', 'retryable', 'retry-after', 'fatal', 'hang', 'throw']), run),
    {
      numRuns: 40,
      interruptAfterTimeLimit: 40_000,
    },
  );
});

test('property: delivered or dead-lettered, cursor safety (with partial answers)', async () => {
  await fc.assert(fc.asyncProperty(scenario(['ok', 'retryable', 'partial', 'partial']), run), {
    numRuns: 40,
    interruptAfterTimeLimit: 20_000,
  });
});
