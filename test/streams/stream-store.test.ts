import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type NewDeadLetter, StreamStore } from '../../src/streams/stream-store.js';
import { makeStream } from './helpers/harness.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fs-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function letter(seq: number, code = 'HTTP_400'): NewDeadLetter {
  return {
    event: {
      seq,
      eventType: 'FLOW_START',
      orgId: 'o',
      flowId: 'f',
      executionId: 'e',
      idempotencyKey: `k${seq}`,
      timestamp: '2024-04-04T18:30:38.730Z',
      json: `{"n":${seq}}`,
    },
    error: { code, message: 'bad', status: 400, response: '{"error":"bad"}' },
    attempts: 3,
    failedAtMillis: 1000 + seq,
  };
}

describe('StreamStore', () => {
  test('definitions, state and counters survive reopening', () => {
    let store = StreamStore.open({ directory: dir });
    store.putStream(makeStream({ id: 'a' }), 42);
    store.saveProgress('a', {
      cursor: 50,
      delivered: 8,
      expired: 2,
      deadLetters: [letter(45)],
      lastDeliveredAtMillis: 123,
      failure: {
        consecutiveFailures: 3,
        failingSinceMillis: 100,
        lastError: { code: 'HTTP_503', message: 'x', status: 503, atMillis: 110 },
      },
    });
    store.setPaused('a', 999);
    store.close();
    store.close(); // idempotent

    store = StreamStore.open({ directory: dir });
    assert.equal(store.getStream('a')?.name, 'test stream');
    assert.deepEqual(store.getState('a'), {
      cursor: 50,
      deliveredTotal: 8,
      deadLetteredTotal: 1,
      expiredTotal: 2,
      lastDeliveredAtMillis: 123,
      consecutiveFailures: 3,
      failingSinceMillis: 100,
      lastError: { code: 'HTTP_503', message: 'x', status: 503, atMillis: 110 },
      pausedAtMillis: 999,
    });
    store.close();
  });

  test('putStream keeps the state of an existing stream', () => {
    const store = StreamStore.open({ directory: dir });
    store.putStream(makeStream({ id: 'a' }), 5);
    store.saveProgress('a', { cursor: 9, delivered: 4, expired: 0, deadLetters: [] });
    store.putStream(makeStream({ id: 'a', name: 'renamed' }), 100);
    assert.equal(store.getState('a')?.cursor, 9);
    assert.equal(store.getStream('a')?.name, 'renamed');
    store.close();
  });

  test('dead letters: paged listing, fetch by id, upsert per seq, redelivery bookkeeping, delete with the stream', () => {
    const store = StreamStore.open({ directory: dir });
    store.putStream(makeStream({ id: 'a' }), 0);
    store.putStream(makeStream({ id: 'b' }), 0);
    store.saveProgress('a', { delivered: 0, expired: 0, deadLetters: [1, 2, 3, 4, 5].map((s) => letter(s)) });
    store.saveProgress('b', { delivered: 0, expired: 0, deadLetters: [letter(1)] });

    const first = store.listDeadLetters('a', { limit: 2 });
    assert.deepEqual(
      first.items.map((d) => d.seq),
      [1, 2],
    );
    assert.notEqual(first.nextAfter, null);
    const second = store.listDeadLetters('a', { limit: 2, after: first.nextAfter ?? 0 });
    assert.deepEqual(
      second.items.map((d) => d.seq),
      [3, 4],
    );
    const third = store.listDeadLetters('a', { limit: 2, after: second.nextAfter ?? 0 });
    assert.deepEqual(
      third.items.map((d) => d.seq),
      [5],
    );
    assert.equal(third.nextAfter, null);

    const one = first.items[0];
    assert.ok(one);
    assert.deepEqual(one.error, {
      code: 'HTTP_400',
      message: 'bad',
      status: 400,
      response: '{"error":"bad"}',
    });
    assert.equal(one.attempts, 3);
    assert.equal(one.json, '{"n":1}');

    // The same event dead-lettered again (after a replay): one row, attempts added, answer updated.
    store.saveProgress('a', { delivered: 0, expired: 0, deadLetters: [letter(1, 'HTTP_422')] });
    const again = store.getDeadLetters('a', [one.id]);
    assert.equal(again.length, 1);
    assert.equal(again[0]?.attempts, 6);
    assert.equal(again[0]?.error.code, 'HTTP_422');
    assert.equal(again[0]?.firstFailedAtMillis, 1001);
    assert.equal(store.getState('a')?.deadLetteredTotal, 6);
    assert.equal(store.countDeadLetters('a'), 5);

    // ids of another stream are not visible through this one
    const bLetter = store.getDeadLetters('b')[0];
    assert.ok(bLetter);
    assert.deepEqual(store.getDeadLetters('a', [bLetter.id]), []);

    store.deadLetterFailedAgain('a', one.id, { code: 'HTTP_400', message: 'still bad' }, 5000);
    assert.equal(store.getDeadLetters('a', [one.id])[0]?.attempts, 7);
    assert.equal(store.getDeadLetters('a', [one.id])[0]?.error.status, undefined);
    store.deadLetterDelivered('a', one.id, 6000);
    assert.equal(store.countDeadLetters('a'), 4);
    assert.equal(store.getState('a')?.deliveredTotal, 1);
    assert.equal(store.getState('a')?.lastDeliveredAtMillis, 6000);

    store.deleteStream('a');
    assert.equal(store.getStream('a'), undefined);
    assert.equal(store.getState('a'), undefined);
    assert.equal(store.countDeadLetters('a'), 0);
    assert.equal(store.countDeadLetters('b'), 1);
    store.close();
  });

  test('meta is a small key-value table for other modules', () => {
    const store = StreamStore.open({ directory: dir });
    assert.equal(store.getMeta('x.y'), undefined);
    store.setMeta('x.y', '1');
    store.setMeta('x.y', '2');
    assert.equal(store.getMeta('x.y'), '2');
    store.close();
  });

  test('a sealer seals definitions at rest', () => {
    const sealer = {
      seal: (text: string) => `sealed:${Buffer.from(text).toString('base64')}`,
      open: (text: string) => Buffer.from(text.slice('sealed:'.length), 'base64').toString(),
    };
    const store = StreamStore.open({ directory: dir, sealer });
    store.putStream(makeStream({ id: 'a', settings: { token: 'super-secret' } }), 0);
    assert.equal(store.getStream('a')?.settings.token, 'super-secret');
    store.close();
    const raw = new Database(path.join(dir, 'state.db'), { readonly: true });
    const row = raw.prepare('SELECT definition FROM streams').get() as { definition: string };
    raw.close();
    assert.ok(row.definition.startsWith('sealed:'));
    assert.ok(!row.definition.includes('super-secret'));
  });

  test('the file is WAL with synchronous=FULL, and a newer schema version is refused', () => {
    const store = StreamStore.open({ directory: dir });
    store.close();
    const raw = new Database(path.join(dir, 'state.db'));
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.pragma('user_version = 99');
    raw.close();
    assert.throws(() => StreamStore.open({ directory: dir }), /schema version 99/);
  });
});
