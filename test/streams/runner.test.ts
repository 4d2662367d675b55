import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MAX_RETRY_AFTER_MILLIS } from '../../src/streams/retry-policy.js';
import { makeEvents, nOf } from './helpers/events.js';
import { Harness, makeStream } from './helpers/harness.js';
import { MemoryEventLog } from './helpers/memory-event-log.js';
import {
  deliverAll,
  failTimes,
  fatal,
  partialBy,
  rejectWhere,
  retryable,
  TestPeer,
} from './helpers/test-peer.js';
import { delay, waitFor } from './helpers/wait.js';

let h: Harness;
let log: MemoryEventLog;
beforeEach(() => {
  log = new MemoryEventLog();
  h = new Harness(log);
});
afterEach(() => h.close());

describe('StreamRunner', () => {
  test('delivers every event in order, batched, and persists the cursor and counters', async () => {
    const peer = new TestPeer(deliverAll, { maxBatchEvents: 30 });
    await log.append(makeEvents(50));
    const runner = h.runner(makeStream({ delivery: { batchMaxEvents: 1000 } }), peer.destination());
    runner.start();
    await log.append(makeEvents(50, { start: 50 }));
    await waitFor(() => peer.received.length === 100, '100 events');
    assert.deepEqual(
      peer.receivedSeqs(),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.ok(
      peer.calls.every((c) => c.seqs.length <= 30),
      'the destination limit caps batches',
    );
    await runner.stop(1000);
    const state = h.store.getState('s1');
    assert.equal(state?.cursor, 100);
    assert.equal(state?.deliveredTotal, 100);
    assert.notEqual(state?.lastDeliveredAtMillis, null);
    assert.equal(runner.snapshot().status, 'ACTIVE');
  });

  test('waits up to batchTimeoutMillis to fill a batch, and wakes on append', async () => {
    const peer = new TestPeer();
    const runner = h.runner(
      makeStream({ delivery: { batchMaxEvents: 10, batchTimeoutMillis: 300 } }),
      peer.destination(),
    );
    runner.start();
    await log.append(makeEvents(3));
    await delay(100);
    assert.equal(peer.calls.length, 0, 'a partial batch waits');
    await log.append(makeEvents(7, { start: 3 }));
    await waitFor(() => peer.calls.length === 1, 'a full batch');
    assert.equal(peer.calls[0]?.seqs.length, 10, 'a full batch goes at once');
    await log.append(makeEvents(2, { start: 10 }));
    await waitFor(() => peer.received.length === 12, 'the timed-out partial batch');
    assert.equal(peer.calls[1]?.seqs.length, 2);
  });

  test('respects destination.maxBatchBytes and dead-letters an event over maxEventBytes unsent', async () => {
    const peer = new TestPeer(deliverAll, { maxBatchBytes: 2000, maxEventBytes: 1500 });
    const small = makeEvents(10, { padBytes: 300 });
    const big = makeEvents(1, { padBytes: 3000, start: 10 });
    await log.append([...small.slice(0, 5), ...big, ...small.slice(5)]);
    const runner = h.runner(makeStream(), peer.destination());
    runner.start();
    await waitFor(() => peer.received.length === 10, 'the small events');
    await runner.stop(1000);
    for (const call of peer.calls)
      assert.ok(call.seqs.length <= 4, `batch of ${call.seqs.length} is over 2000 bytes`);
    assert.ok(!peer.receivedSeqs().includes(6), 'the large event is never sent');
    const dead = h.store.getDeadLetters('s1');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.seq, 6);
    assert.equal(dead[0]?.error.code, 'EVENT_TOO_LARGE');
    assert.match(dead[0]?.error.message ?? '', /takes at most 1500/);
    assert.equal(dead[0]?.attempts, 0);
    assert.equal(h.store.getState('s1')?.cursor, 11);
  });

  test('retryable failures: the same batch again, DEGRADED meanwhile, then ACTIVE', async () => {
    let gate = true;
    const peer = new TestPeer((batch, call) => (gate ? retryable('HTTP_503') : deliverAll(batch, call)));
    await log.append(makeEvents(5));
    const runner = h.runner(makeStream(), peer.destination());
    runner.start();
    await waitFor(() => peer.calls.length >= 4, 'a few retries');
    const s = runner.snapshot();
    assert.equal(s.status, 'DEGRADED');
    assert.ok(s.consecutiveFailures >= 4);
    assert.equal(s.lastError?.code, 'HTTP_503');
    assert.equal(s.cursor, 0);
    assert.ok(
      peer.calls.every((c) => c.seqs.join() === '1,2,3,4,5'),
      'the same events each time',
    );
    gate = false;
    await waitFor(() => peer.received.length === 5, 'delivery after recovery');
    await waitFor(() => runner.snapshot().status === 'ACTIVE', 'ACTIVE again');
    assert.equal(runner.snapshot().consecutiveFailures, 0);
    await runner.stop(1000);
    assert.equal(h.store.getState('s1')?.consecutiveFailures, 0);
    assert.equal(h.store.getState('s1')?.cursor, 5);
  });

  test('a poison event in a batch of 100 is found by bisection: 99 delivered, 1 dead letter with the answer', async () => {
    const peer = new TestPeer(rejectWhere((e) => nOf(e) === 37));
    await log.append(makeEvents(100, { executions: 7 }));
    const runner = h.runner(makeStream({ delivery: { batchMaxEvents: 100 } }), peer.destination());
    runner.start();
    await waitFor(() => runner.snapshot().cursor === 100, 'the cursor at 100');
    await runner.stop(1000);
    const seqs = peer.receivedSeqs();
    assert.equal(seqs.length, 99);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'order kept through bisection',
    );
    assert.ok(!seqs.includes(38));
    const dead = h.store.getDeadLetters('s1');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.seq, 38);
    assert.equal(dead[0]?.error.code, 'HTTP_400');
    assert.equal(dead[0]?.error.response, '{"bad":38}');
    assert.ok((dead[0]?.attempts ?? 0) >= 7, 'sent in each halving');
    assert.equal(JSON.parse(dead[0]?.json ?? '{}').n, 37);
    assert.ok(peer.calls.length <= 2 * Math.ceil(Math.log2(100)) + 1, `${peer.calls.length} sends`);
    const state = h.store.getState('s1');
    assert.equal(state?.deadLetteredTotal, 1);
    assert.equal(state?.deliveredTotal, 99);
    assert.equal(runner.snapshot().status, 'ACTIVE', 'a poison event does not degrade the stream');
  });

  test('partial answers: delivered items done, rejected dead-lettered, only retryable items re-sent', async () => {
    // n % 5 === 1 is refused for good; n % 5 === 2 is busy on the first two calls that carry it.
    const busyCalls = new Map<number, number>();
    const peer = new TestPeer(
      partialBy((e) => {
        const n = nOf(e);
        if (n % 5 === 1) return 'rejected';
        if (n % 5 === 2) {
          const seen = busyCalls.get(n) ?? 0;
          busyCalls.set(n, seen + 1);
          if (seen < 2) return 'retryable';
        }
        return 'delivered';
      }),
    );
    await log.append(makeEvents(20, { executions: 3 }));
    const runner = h.runner(makeStream({ delivery: { batchMaxEvents: 20 } }), peer.destination());
    runner.start();
    await waitFor(() => runner.snapshot().cursor === 20, 'cursor at 20');
    await runner.stop(1000);
    const got = peer.received.map(nOf).sort((a, b) => a - b);
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => i).filter((n) => n % 5 !== 1),
    );
    assert.equal(new Set(got).size, got.length, 'nothing delivered twice');
    assert.deepEqual(
      peer.calls.slice(1).map((c) => c.seqs),
      [
        [3, 8, 13, 18],
        [3, 8, 13, 18],
      ],
      'only the busy items are re-sent',
    );
    const dead = h.store.getDeadLetters('s1');
    assert.deepEqual(
      dead.map((d) => d.seq),
      [2, 7, 12, 17],
    );
    assert.equal(dead[0]?.error.code, 'ITEM_REJECTED');
  });

  test('fatal → DEGRADED, slow retries, PAUSED after pauseAfterMillis; the cursor is kept', async () => {
    const peer = new TestPeer(() => fatal('HTTP_401'));
    await log.append(makeEvents(3));
    let pausedCalled = false;
    const runner = h.runner(
      makeStream({ delivery: { retryInitialMillis: 1, retryMaxMillis: 40, pauseAfterMillis: 300 } }),
      peer.destination(),
      { onPaused: () => (pausedCalled = true) },
    );
    const started = Date.now();
    runner.start();
    await waitFor(() => runner.snapshot().status === 'DEGRADED', 'DEGRADED');
    await waitFor(() => pausedCalled, 'paused', 5000);
    assert.ok(Date.now() - started >= 300, 'not paused before pauseAfterMillis');
    assert.equal(runner.snapshot().status, 'PAUSED');
    assert.ok(runner.stopped);
    const calls = peer.calls.length;
    assert.ok(calls >= 3 && calls <= 300 / 40 + 3, `retried slowly: ${calls} calls`);
    const gaps = peer.calls.slice(1).map((c, i) => c.atMillis - (peer.calls[i]?.atMillis ?? 0));
    assert.ok(
      gaps.every((g) => g >= 35),
      `fatal retries every retryMaxMillis: ${gaps}`,
    );
    await delay(100);
    assert.equal(peer.calls.length, calls, 'no more sends once paused');
    const state = h.store.getState('s1');
    assert.notEqual(state?.pausedAtMillis, null);
    assert.equal(state?.cursor, 0);
    assert.equal(state?.lastError?.code, 'HTTP_401');
  });

  test('a paused stream does not start again until the pause is cleared; then it resumes from the cursor', async () => {
    const peer = new TestPeer(() => fatal());
    await log.append(makeEvents(4));
    const stream = makeStream({ delivery: { retryMaxMillis: 10, pauseAfterMillis: 50 } });
    const first = h.runner(stream, peer.destination(), { cursor: 1 });
    first.start();
    await waitFor(() => first.stopped, 'paused');
    const second = h.runner(stream, peer.destination());
    second.start();
    assert.ok(second.stopped && second.paused, 'a restart keeps the pause');
    h.store.setPaused('s1', null);
    h.store.clearFailures('s1');
    peer.script = deliverAll;
    const third = h.runner(stream, peer.destination());
    third.start();
    await waitFor(() => peer.received.length === 3, 'resumed');
    assert.deepEqual(peer.receivedSeqs(), [2, 3, 4]);
  });

  test('Retry-After from the destination is never shortened; an absurd one is capped', async () => {
    const peer = new TestPeer(failTimes(1, retryable('HTTP_429', 400)));
    await log.append(makeEvents(1));
    const runner = h.runner(makeStream(), peer.destination());
    runner.start();
    await waitFor(() => peer.received.length === 1, 'delivery after Retry-After');
    const [a, b] = peer.calls;
    assert.ok(a && b);
    assert.ok(b.atMillis - a.atMillis >= 400, `retried after ${b.atMillis - a.atMillis} ms`);
    assert.equal(MAX_RETRY_AFTER_MILLIS, 3_600_000);
  });

  test('a send past requestTimeoutMillis is aborted and retried', async () => {
    const peer = new TestPeer(failTimes(1, 'hang'));
    await log.append(makeEvents(2));
    const runner = h.runner(makeStream({ delivery: { requestTimeoutMillis: 150 } }), peer.destination());
    runner.start();
    await waitFor(() => peer.received.length === 2, 'delivery after the timeout');
    assert.equal(peer.aborted, 1);
    assert.equal(runner.snapshot().lastError?.code, 'TIMEOUT');
  });

  test('a destination that ignores the abort is abandoned after the grace period and the batch retried', async () => {
    let calls = 0;
    const peer = new TestPeer((batch, call) => {
      calls++;
      return call === 0 ? new Promise(() => {}) : deliverAll(batch, call);
    });
    await log.append(makeEvents(2));
    const runner = h.runner(makeStream({ delivery: { requestTimeoutMillis: 100 } }), peer.destination(), {
      abortGraceMillis: 100,
    });
    runner.start();
    await waitFor(() => peer.received.length === 2, 'delivery after abandoning the hung send');
    assert.equal(calls, 2);
    assert.equal(runner.snapshot().lastError?.code, 'TIMEOUT');
  });

  test('a destination that throws is treated as a retryable error', async () => {
    const peer = new TestPeer((batch, call) => {
      if (call === 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return deliverAll(batch, call);
    });
    await log.append(makeEvents(1));
    const runner = h.runner(makeStream(), peer.destination());
    runner.start();
    await waitFor(() => peer.received.length === 1, 'delivery');
    assert.equal(runner.snapshot().lastError?.code, 'ECONNRESET');
  });

  test('filter: unwanted events are never sent and count as done for the cursor', async () => {
    const peer = new TestPeer();
    await log.append([
      ...makeEvents(3, { eventType: 'FLOW_START' }),
      ...makeEvents(3, { eventType: 'FLOW_COMPLETE', start: 3 }),
      ...makeEvents(3, { eventType: 'FLOW_START', orgId: 'other-org', start: 6 }),
    ]);
    const runner = h.runner(
      makeStream({ org: '01J29TH3XHECT79M257GG2QTKJ', filter: { eventTypes: ['FLOW_START'] } }),
      peer.destination(),
    );
    runner.start();
    await waitFor(() => runner.snapshot().cursor === 9, 'cursor past filtered events');
    assert.deepEqual(peer.receivedSeqs(), [1, 2, 3]);
    assert.equal(runner.snapshot().lagEvents, 0);
    await runner.stop(1000);
    assert.equal(h.store.getState('s1')?.cursor, 9);
  });

  test('PII transform: user_email arrives hashed', async () => {
    const peer = new TestPeer();
    await log.append(makeEvents(1));
    const runner = h.runner(
      makeStream({ transforms: { hashUserEmail: { key: 'k'.repeat(16) } } }),
      peer.destination(),
    );
    runner.start();
    await waitFor(() => peer.received.length === 1, 'delivery');
    const sent = JSON.parse(peer.received[0]?.json ?? '{}') as { user_email: string };
    assert.notEqual(sent.user_email, 'jessie.doe@example.corp');
    assert.match(sent.user_email, /^[A-Za-z0-9_-]{43}$/);
  });

  test('retention: events removed before delivery are counted as expired, never silently', async () => {
    const peer = new TestPeer();
    await log.append(makeEvents(10));
    log.deleteThrough(6);
    const runner = h.runner(makeStream(), peer.destination(), { cursor: 2 });
    runner.start();
    await waitFor(() => runner.snapshot().cursor === 10, 'cursor at 10');
    assert.deepEqual(peer.receivedSeqs(), [7, 8, 9, 10]);
    assert.equal(runner.snapshot().expiredTotal, 4);
    await runner.stop(1000);
    assert.equal(h.store.getState('s1')?.expiredTotal, 4);
    const metrics = await h.registry.getSingleMetricAsString('flowstream_stream_events_expired_total');
    assert.match(metrics, /flowstream_stream_events_expired_total\{stream="s1"\} 4/);
  });

  test('retention while the destination is down: unread events it removed are counted when reading resumes', async () => {
    let down = true;
    const peer = new TestPeer((batch, call) => (down ? retryable() : deliverAll(batch, call)), {
      maxBatchEvents: 5,
    });
    await log.append(makeEvents(5));
    const runner = h.runner(makeStream({ delivery: { concurrency: 1 } }), peer.destination());
    runner.start();
    await waitFor(() => peer.calls.length > 0, 'first send');
    // The reader holds at most 100 owed events in memory; the rest stays unread in the log.
    await log.append(makeEvents(300, { start: 5 }));
    await delay(50);
    log.deleteThrough(200);
    down = false;
    await waitFor(() => runner.snapshot().cursor === 305, 'cursor at 305');
    const seqs = peer.receivedSeqs();
    assert.equal(new Set(seqs).size, seqs.length);
    const readBeforeCut = Math.max(...seqs.filter((q) => q <= 200));
    assert.ok(readBeforeCut >= 5 && readBeforeCut < 200, 'what was read before the cut is still delivered');
    assert.deepEqual(seqs, [
      ...Array.from({ length: readBeforeCut }, (_, i) => i + 1),
      ...Array.from({ length: 105 }, (_, i) => i + 201),
    ]);
    assert.equal(
      runner.snapshot().expiredTotal,
      200 - readBeforeCut,
      'every removed unread event is counted',
    );
  });

  test('stop() waits for an in-flight send up to the deadline, then aborts it; the cursor stays before it', async () => {
    const peer = new TestPeer(() => 'hang');
    await log.append(makeEvents(3));
    const runner = h.runner(makeStream({ delivery: { requestTimeoutMillis: 60_000 } }), peer.destination());
    runner.start();
    await waitFor(() => peer.inFlight === 1, 'a send in flight');
    const started = Date.now();
    await runner.stop(200);
    const took = Date.now() - started;
    assert.ok(took >= 190, `stop returned after ${took} ms, before its deadline`);
    assert.ok(took < 10_000, `stop took ${took} ms: it did not abort the send`);
    assert.equal(peer.aborted, 1);
    assert.equal(h.store.getState('s1')?.cursor, 0);
    assert.equal(
      h.store.getState('s1')?.consecutiveFailures,
      0,
      'an abort by stop is not a destination failure',
    );
    await runner.stop(200); // idempotent
  });

  test('stop() lets an in-flight send that finishes before the deadline be acknowledged', async () => {
    const peer = new TestPeer(async (batch, call) => {
      await delay(150);
      return deliverAll(batch, call);
    });
    await log.append(makeEvents(3));
    const runner = h.runner(makeStream(), peer.destination());
    runner.start();
    await waitFor(() => peer.inFlight === 1, 'a send in flight');
    await runner.stop(5000);
    assert.equal(peer.received.length, 3);
    assert.equal(h.store.getState('s1')?.cursor, 3);
    assert.equal(log.listenerCount, 0, 'the append listener is removed');
  });

  test('restart: a new runner continues from the persisted cursor (at least once, nothing skipped)', async () => {
    const peer = new TestPeer(
      async (batch, call) => {
        await delay(10);
        return deliverAll(batch, call);
      },
      { maxBatchEvents: 10 },
    );
    await log.append(makeEvents(100));
    const stream = makeStream();
    const first = h.runner(stream, peer.destination());
    first.start();
    await waitFor(() => peer.received.length >= 20, 'some delivered');
    await first.stop(0);
    const persisted = h.store.getState('s1')?.cursor ?? -1;
    assert.ok(persisted >= 20 && persisted < 100, `persisted cursor ${persisted}`);
    const before = peer.received.length;
    const second = h.runner(stream, peer.destination());
    second.start();
    await waitFor(() => second.snapshot().cursor === 100, 'all delivered');
    const afterRestart = peer.receivedSeqs().slice(before);
    assert.equal(afterRestart[0], persisted + 1, 'continues right after the persisted cursor');
    assert.deepEqual(new Set(peer.receivedSeqs()), new Set(Array.from({ length: 100 }, (_, i) => i + 1)));
  });

  test('concurrency > 1: several batches in flight, per-execution order kept', async () => {
    const peer = new TestPeer(
      async (batch, call) => {
        await delay(1 + (call % 7));
        return call % 5 === 3 ? retryable() : deliverAll(batch, call);
      },
      { maxBatchEvents: 8 },
    );
    await log.append(makeEvents(600, { executions: 40 }));
    const runner = h.runner(makeStream({ delivery: { concurrency: 4 } }), peer.destination());
    runner.start();
    await waitFor(() => runner.snapshot().cursor === 600, 'all acknowledged', 20_000);
    assert.ok(peer.maxInFlight > 1, `max in flight ${peer.maxInFlight}`);
    assert.ok(peer.maxInFlight <= 4);
    const byExecution = new Map<string, number[]>();
    for (const e of peer.received) {
      const list = byExecution.get(e.executionId) ?? [];
      list.push(nOf(e));
      byExecution.set(e.executionId, list);
    }
    assert.equal(byExecution.size, 40);
    for (const [execution, ns] of byExecution) {
      assert.deepEqual(
        ns,
        [...ns].sort((a, b) => a - b),
        `order of ${execution}`,
      );
    }
    assert.equal(peer.received.length, 600);
  });

  test('health lag: counts owed and unread events; lastError and consecutiveFailures while failing', async () => {
    const peer = new TestPeer(() => retryable('HTTP_502'));
    await log.append(makeEvents(7));
    const runner = h.runner(makeStream({ delivery: { batchMaxEvents: 3 } }), peer.destination());
    runner.start();
    await waitFor(() => peer.calls.length >= 2, 'failing');
    const s = runner.snapshot();
    assert.equal(s.lagEvents, 7);
    assert.equal(s.cursor, 0);
    assert.ok(s.oldestOwedIngestedAtMillis !== undefined);
    assert.equal(s.lastError?.status, 502);
  });

  test('metrics: delivered, bytes, errors by type, send durations', async () => {
    const peer = new TestPeer(failTimes(2, retryable('HTTP_503')));
    await log.append(makeEvents(4));
    const runner = h.runner(makeStream(), peer.destination());
    runner.start();
    await waitFor(() => peer.received.length === 4, 'delivered');
    const text = await h.registry.metrics();
    assert.match(text, /flowstream_stream_events_delivered_total\{stream="s1"\} 4/);
    assert.match(text, /flowstream_stream_bytes_sent_total\{stream="s1"\} [1-9]\d*/);
    assert.match(text, /flowstream_stream_errors_total\{stream="s1",type="http_5xx"\} 2/);
    assert.match(text, /flowstream_stream_send_duration_seconds_count\{stream="s1"\} 3/);
  });
});
