import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AuditLog, changedPaths } from '../../src/security/audit-log.js';

describe('changedPaths', () => {
  test('names each changed leaf by JSON Pointer; arrays compare whole; ignored top-level keys skipped', () => {
    const before = {
      name: 'a',
      settings: { url: 'https://x', headers: { Authorization: 'Bearer 1', 'X/Y': 'z' } },
      filter: { eventTypes: ['FLOW_START'] },
      lastUpdated: '1',
    };
    const after = {
      name: 'a',
      settings: { url: 'https://y', headers: { Authorization: 'Bearer 2', 'X/Y': 'z' }, gzip: true },
      filter: { eventTypes: ['FLOW_START', 'FLOW_FAIL'] },
      lastUpdated: '2',
    };
    assert.deepEqual(changedPaths(before, after, ['lastUpdated']), [
      '/filter/eventTypes',
      '/settings/gzip',
      '/settings/headers/Authorization',
      '/settings/url',
    ]);
    assert.deepEqual(changedPaths({ a: { 'x~y': 1 } }, { a: { 'x~y': 2 } }), ['/a/x~0y']);
    assert.deepEqual(changedPaths(1, 2), ['/']);
    // An object that appears (a create) names its leaves.
    assert.deepEqual(changedPaths({}, { settings: { url: 'u', headers: { A: 'x' } } }), [
      '/settings/headers/A',
      '/settings/url',
    ]);
    assert.deepEqual(changedPaths({ transforms: { hashUserEmail: { key: 'k' } } }, { transforms: {} }), [
      '/transforms/hashUserEmail/key',
    ]);
    assert.deepEqual(changedPaths({ a: 1 }, { a: 1 }), []);
  });
});

describe('AuditLog', () => {
  test('records survive reopening; pages oldest first; filters by org, action, target, time', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-audit-'));
    let now = Date.parse('2025-01-01T00:00:00Z');
    try {
      const log = AuditLog.open(dir, () => now);
      const actor = { tokenId: 't1', name: 'ci', org: '*' };
      for (let i = 0; i < 5; i++) {
        now += 1000;
        log.record({
          actor,
          action: i % 2 === 0 ? 'logStream.create' : 'logStream.delete',
          org: i < 3 ? 'A' : 'B',
          target: { type: 'logStream', id: `s${i}` },
          changes: ['/name'],
          details: { n: i },
        });
      }
      log.close();
      log.close();
      const reopened = AuditLog.open(dir, () => now);
      const first = reopened.list({ limit: 2 });
      assert.deepEqual(
        first.items.map((r) => r.target.id),
        ['s0', 's1'],
      );
      assert.equal(first.nextAfter, first.items[1]!.id);
      const second = reopened.list({ limit: 10, after: first.nextAfter! });
      assert.deepEqual(
        second.items.map((r) => r.target.id),
        ['s2', 's3', 's4'],
      );
      assert.equal(second.nextAfter, null);
      assert.deepEqual(
        reopened.list({ limit: 10, org: 'B' }).items.map((r) => r.target.id),
        ['s3', 's4'],
      );
      assert.deepEqual(
        reopened.list({ limit: 10, action: 'logStream.delete' }).items.map((r) => r.target.id),
        ['s1', 's3'],
      );
      assert.deepEqual(
        reopened.list({ limit: 10, targetId: 's2' }).items.map((r) => r.details.n),
        [2],
      );
      assert.deepEqual(
        reopened
          .list({ limit: 10, since: '2025-01-01T00:00:02.000Z', until: '2025-01-01T00:00:04.000Z' })
          .items.map((r) => r.target.id),
        ['s1', 's2'],
      );
      const [record] = reopened.list({ limit: 1 }).items;
      assert.deepEqual(record?.actor, actor);
      assert.equal(record?.at, '2025-01-01T00:00:01.000Z');
      assert.deepEqual(record?.changes, ['/name']);
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
