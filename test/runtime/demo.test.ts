import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../src/runtime/clock.js';
import { startDemo } from '../../src/runtime/demo.js';
import { SAMPLE_ORG } from '../../src/runtime/sample-org.js';
import type { FlowEvent } from '../../src/schema/definitions.js';
import { EVENT_TYPES } from '../../src/schema/event-types.js';
import { validateEvent } from '../../src/schema/validate.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';

/**
 * The demo with its real flaky HR server and control server, events into a MemorySink: every one of
 * the seven event types within 30 s of start (by the events' own timestamps), every event
 * strict-valid. Once on real time (what `flowstream demo` runs), once on a VirtualClock that moves by
 * itself (compressed time: 30 virtual seconds in a few real ones).
 */

function firstOfEachType(events: readonly FlowEvent[]): Map<string, FlowEvent> {
  const first = new Map<string, FlowEvent>();
  for (const event of events) if (!first.has(event.event_type)) first.set(event.event_type, event);
  return first;
}

function waitFor(condition: () => boolean, limitMillis: number): Promise<boolean> {
  const deadline = Date.now() + limitMillis;
  return new Promise((resolve) => {
    const check = (): void => {
      if (condition()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(check, 50);
    };
    check();
  });
}

function assertAllValid(events: readonly FlowEvent[]): void {
  for (const event of events) {
    assert.deepEqual(
      validateEvent(event, 'strict'),
      { ok: true, eventType: event.event_type },
      JSON.stringify(event),
    );
    assert.equal(event.org_id, SAMPLE_ORG.id);
  }
  assert.equal(new Set(events.map((e) => e.idempotency_key)).size, events.length);
}

describe('the demo', () => {
  test('real time: all seven event types within 30 s, every event strict-valid', async () => {
    const sink = new MemorySink();
    const warnings: unknown[] = [];
    const startedAt = Date.now();
    const demo = await startDemo({
      sink,
      rate: 5,
      seed: 11,
      logger: { info: () => {}, warn: (...args: unknown[]) => warnings.push(args) } as never,
    });
    try {
      const allSeen = await waitFor(() => firstOfEachType(sink.events).size === EVENT_TYPES.length, 35_000);
      const first = firstOfEachType(sink.events);
      assert.ok(allSeen, `seen only ${[...first.keys()].join(', ')}`);
      for (const [type, event] of first) {
        const afterMillis = Date.parse(event.timestamp) - startedAt;
        assert.ok(afterMillis <= 30_000, `${type} first seen ${afterMillis} ms after start`);
      }
    } finally {
      await demo.stop();
    }
    await demo.stop();
    assertAllValid(sink.events);
    const stats = demo.stats();
    assert.equal(stats.executions.running, 0);
    assert.equal(stats.eventsTotal, sink.events.length);
    assert.equal(stats.sink.acceptedTotal, sink.events.length);
    // Every execution that started ended exactly once.
    const starts = sink.events.filter((e) => e.event_type === 'FLOW_START').length;
    const ends = sink.events.filter(
      (e) =>
        e.event_type === 'FLOW_COMPLETE' ||
        e.event_type === 'FLOW_CANCEL' ||
        (e.event_type === 'FLOW_FAIL' && e.fatal === true),
    ).length;
    assert.equal(ends, starts);
    assert.ok(stats.hrApi.requests > 0 && (stats.hrApi.byStatus['429'] ?? 0) > 0);
    assert.deepEqual(warnings, []);
  });

  test('compressed time (VirtualClock moving by itself): the same within 30 virtual seconds', async () => {
    const sink = new MemorySink();
    const clock = new VirtualClock();
    const stopClock = clock.startAutoAdvance();
    const startedAt = clock.now();
    const demo = await startDemo({ sink, rate: 20, seed: 3, clock });
    try {
      const allSeen = await waitFor(
        () => firstOfEachType(sink.events).size === EVENT_TYPES.length || clock.now() - startedAt > 30_000,
        30_000,
      );
      assert.ok(allSeen, 'the virtual clock moved');
      const first = firstOfEachType(sink.events);
      assert.deepEqual([...first.keys()].sort(), [...EVENT_TYPES].sort());
      for (const [type, event] of first) {
        assert.ok(Date.parse(event.timestamp) - startedAt <= 30_000, `${type} within 30 virtual seconds`);
      }
    } finally {
      await demo.stop();
      stopClock();
    }
    assertAllValid(sink.events);
    // The throttled executions ran in the slower engine mode.
    const throttled = sink.events.filter((e) => e.throttled === true);
    assert.ok(throttled.length > 0 && throttled.every((e) => e.engine_mode === 'throttled'));
  });

  test('refuses an unusable rate', async () => {
    await assert.rejects(startDemo({ sink: new MemorySink(), rate: -1 }), /rate must be/);
  });
});
