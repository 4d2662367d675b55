import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { defineFlow } from '../../src/runtime/flow-builder.js';
import type { Card, FlowDefinition } from '../../src/runtime/flow-definition.js';
import type { FlowEvent } from '../../src/schema/definitions.js';
import { assertContract, FOLDERS, testRuntime, ulid } from './runtime-fixtures.js';

/**
 * Random flows (every card type but http, nested if/try, helper calls, flow and handler retries)
 * with random cancels and execution limits: whatever happens, every event is strict-valid, each
 * execution starts with FLOW_START and ends exactly once with its last event, the end matches the
 * result, and time never goes backwards within an execution.
 */

const HELPER_ID = ulid(900);
const leaf: fc.Arbitrary<Card> = fc.oneof(
  fc.constant<Card>({ type: 'compose', template: '{{input.n}}-x', as: 'v' }),
  fc.constantFrom<Card>(
    { type: 'text', operation: 'uppercase', value: '{{v}}', as: 'v' },
    { type: 'text', operation: 'split', value: 'a,b', argument: ',', as: 'parts' },
  ),
  fc.integer({ min: 0, max: 5000 }).map<Card>((durationMillis) => ({ type: 'wait', durationMillis })),
  fc.constant<Card>({ type: 'pause' }),
  fc.constant<Card>({ type: 'call', flowId: HELPER_ID, input: { n: '{{input.n}}' }, as: 'h' }),
  fc.constant<Card>({ type: 'fail', message: 'failed {{v}}', code: 'E1' }),
  fc.constant<Card>({ type: 'return', value: '{{v}}' }),
);

const cards: fc.Arbitrary<Card[]> = fc.letrec<{ list: Card[]; card: Card }>((tie) => ({
  list: fc.array(tie('card'), { minLength: 1, maxLength: 5 }),
  card: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .record({ ifTrue: tie('list'), ifFalse: tie('list'), n: fc.integer({ min: 0, max: 20 }) })
      .map<Card>(({ ifTrue, ifFalse, n }) => ({
        type: 'if',
        condition: { value: '{{input.n}}', operator: 'greater_than', compareTo: n },
        ifTrue,
        ifFalse,
      })),
    fc
      .record({ body: tie('list'), handler: tie('list'), attempts: fc.integer({ min: 0, max: 2 }) })
      .map<Card>(({ body, handler, attempts }) => ({
        type: 'try',
        body,
        catch: handler,
        retry: { attempts, delaySeconds: 1 },
      })),
  ),
})).list;

test('random flows, cancels and limits keep the event contract', async () => {
  await fc.assert(
    fc.asyncProperty(
      cards,
      fc.array(
        fc.record({
          n: fc.integer({ min: 0, max: 20 }),
          cancelAfter: fc.option(fc.integer({ min: 0, max: 8000 })),
        }),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      fc.boolean(),
      async (flowCards, runs, limited) => {
        const helper: FlowDefinition = defineFlow({
          id: HELPER_ID,
          name: 'Helper',
          folderPath: [FOLDERS[0]],
          trigger: { type: 'helper' },
        })
          .wait(1000)
          .compose('{{input.n}}', { as: 'v' })
          .return('{{v}}')
          .build();
        const main = defineFlow({
          id: ulid(901),
          name: 'Random',
          folderPath: [...FOLDERS],
          retry: { attempts: 1, delaySeconds: 2 },
        });
        for (const card of flowCards) main.card(card);
        const t = testRuntime([helper, main.build()], {
          throttledCardDelayMillis: 10,
          ...(limited ? { limits: { orgExecutionsPerSecond: 1, orgConcurrentExecutions: 2 } } : {}),
        });
        const started = runs.map((r) => ({
          run: t.runtime.invoke(ulid(901), { n: r.n }),
          cancelAfter: r.cancelAfter,
        }));
        for (const { run, cancelAfter } of started) {
          if (cancelAfter !== null)
            void t.clock.sleep(cancelAfter).then(() => t.runtime.cancel(run.executionId));
        }
        // Pause cards wait for a resume nobody sends: stop() cancels them after 60 virtual seconds.
        const results = await t.clock
          .run(Promise.all(started.map((s) => s.run.result)), { maxMillis: 3_600_000 })
          .catch(async () => {
            await t.clock.run(t.runtime.stop({ graceMillis: 60_000 }));
            return Promise.all(started.map((s) => s.run.result));
          });
        await t.runtime.stop();
        assertContract(t);

        const byExecution = new Map<string, FlowEvent[]>();
        for (const event of t.sink.events) {
          const list = byExecution.get(event.execution_id) ?? [];
          list.push(event);
          byExecution.set(event.execution_id, list);
        }
        for (const [id, events] of byExecution) {
          assert.equal(events[0]?.event_type, 'FLOW_START', id);
          const terminal = events.filter(
            (e) =>
              e.event_type === 'FLOW_COMPLETE' ||
              e.event_type === 'FLOW_CANCEL' ||
              (e.event_type === 'FLOW_FAIL' && e.fatal === true),
          );
          assert.equal(terminal.length, 1, `${id} ends once`);
          assert.equal(terminal[0], events.at(-1), `${id} ends with its last event`);
          const times = events.map((e) => Date.parse(e.timestamp));
          assert.deepEqual(
            times,
            [...times].sort((a, b) => a - b),
          );
        }
        for (const result of results) {
          const last = byExecution.get(result.executionId)?.at(-1);
          const expected = { completed: 'FLOW_COMPLETE', failed: 'FLOW_FAIL', canceled: 'FLOW_CANCEL' }[
            result.status
          ];
          assert.equal(last?.event_type, expected);
          assert.ok(last && 'step_count' in last && last.step_count === result.steps);
          assert.equal(last?.throttled, result.throttled);
        }
      },
    ),
    { numRuns: 60, interruptAfterTimeLimit: 20_000 },
  );
});
