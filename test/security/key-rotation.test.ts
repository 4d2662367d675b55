import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteEventLog } from '../../src/log/sqlite-event-log.js';
import { KeyRotationError, resealStreams, rotateKeys } from '../../src/security/key-rotation.js';
import { decodeKey, KEYRING_FILE, loadKeyring, newMasterKeyText } from '../../src/security/master-key.js';
import { Keyring, SealError } from '../../src/security/secret-sealer.js';
import { DEFAULT_DELIVERY, type StreamDefinition } from '../../src/streams/stream.js';
import { StreamStore } from '../../src/streams/stream-store.js';

const SECRET = 'hec-token-4f1c8a7e-planted-secret';

function definition(id: string): StreamDefinition {
  return {
    id,
    name: `stream ${id}`,
    type: 'splunk_hec',
    org: 'A',
    status: 'INACTIVE',
    settings: { url: 'https://splunk.example:8088', token: `${SECRET}-${id}` },
    filter: {},
    format: 'okta',
    transforms: {},
    delivery: DEFAULT_DELIVERY,
    created: '2025-01-01T00:00:00.000Z',
    lastUpdated: '2025-01-01T00:00:00.000Z',
  };
}

/** The stored `definition` column of every stream, as the file holds it. */
function storedTexts(dir: string): string[] {
  const db = new Database(path.join(dir, 'state.db'), { readonly: true });
  try {
    return (db.prepare('SELECT definition FROM streams ORDER BY id').all() as { definition: string }[]).map(
      (r) => r.definition,
    );
  } finally {
    db.close();
  }
}

function filesContain(dir: string, needle: string): string[] {
  return readdirSync(dir).filter((f) => readFileSync(path.join(dir, f)).includes(needle));
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fs-rotate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('resealStreams', () => {
  test('seals definitions stored in plain text and scrubs the old text from state.db and its WAL', () => {
    const plain = StreamStore.open({ directory: dir });
    plain.putStream(definition('a'), 0);
    plain.putStream(definition('b'), 5);
    plain.close();
    assert.ok(filesContain(dir, SECRET).length > 0, 'the plain store holds the secret');
    const keyring = loadKeyring({ directory: dir, env: {} }).keyring;
    assert.deepEqual(resealStreams(dir, keyring), { streams: 2, resealed: 2 });
    assert.deepEqual(filesContain(dir, SECRET), []);
    assert.ok(storedTexts(dir).every((t) => t.startsWith(`fsenc:v1:${keyring.primary.id}:`)));
    const store = StreamStore.open({ directory: dir, sealer: keyring });
    assert.equal(store.getStream('b')?.settings.token, `${SECRET}-b`);
    assert.equal(store.getState('b')?.cursor, 5, 'state untouched');
    store.close();
    assert.deepEqual(resealStreams(dir, keyring), { streams: 2, resealed: 0 });
  });

  test('a definition sealed with a key the ring lacks stops the start with a clear error', () => {
    const store = StreamStore.open({
      directory: dir,
      sealer: new Keyring(decodeKey(newMasterKeyText(), 'k')),
    });
    store.putStream(definition('a'), 0);
    store.close();
    assert.throws(
      () => resealStreams(dir, new Keyring(decodeKey(newMasterKeyText(), 'k'))),
      (e: unknown) => e instanceof SealError && e.code === 'FS_SECRET_KEY_UNKNOWN',
    );
  });
});

describe('rotateKeys', () => {
  test('keyring.json: a new primary key, everything re-sealed, the old key removed', async () => {
    const before = loadKeyring({ directory: dir, env: {} }).keyring;
    const store = StreamStore.open({ directory: dir, sealer: before });
    for (const id of ['a', 'b', 'c']) store.putStream(definition(id), 0);
    store.close();
    await openSqliteEventLog({ directory: dir }).close();

    const report = rotateKeys({ directory: dir, env: {} });
    assert.equal(report.source, 'file');
    assert.equal(report.streams, 3);
    assert.equal(report.resealed, 3);
    assert.deepEqual(report.retiredKeyIds, [before.primary.id]);
    const after = loadKeyring({ directory: dir, env: {} }).keyring;
    assert.equal(after.primary.id, report.primaryKeyId);
    assert.notEqual(after.primary.id, before.primary.id);
    assert.deepEqual(after.keyIds, [after.primary.id], 'the old key is gone from keyring.json');
    assert.ok(storedTexts(dir).every((t) => t.startsWith(`fsenc:v1:${after.primary.id}:`)));
    const reopened = StreamStore.open({ directory: dir, sealer: after });
    assert.deepEqual(
      reopened.listStreams().map((s) => s.settings.token),
      ['a', 'b', 'c'].map((id) => `${SECRET}-${id}`),
    );
    reopened.close();
    // The old key opens nothing any more.
    assert.throws(() => before.open(storedTexts(dir)[0]!), SealError);
  });

  test('environment key: re-seals with FLOWSTREAM_MASTER_KEY using _PREVIOUS, and drops keyring.json', () => {
    const fileKeyring = loadKeyring({ directory: dir, env: {} }).keyring;
    const store = StreamStore.open({ directory: dir, sealer: fileKeyring });
    store.putStream(definition('a'), 0);
    store.close();
    const next = newMasterKeyText();
    const report = rotateKeys({ directory: dir, env: { FLOWSTREAM_MASTER_KEY: next } });
    assert.equal(report.source, 'env');
    assert.equal(report.resealed, 1);
    assert.equal(report.primaryKeyId, decodeKey(next, 'k').id);
    assert.equal(existsSync(path.join(dir, KEYRING_FILE)), false);
    const envOnly = loadKeyring({
      directory: dir,
      env: { FLOWSTREAM_MASTER_KEY: next },
      create: false,
    }).keyring;
    const reopened = StreamStore.open({ directory: dir, sealer: envOnly });
    assert.equal(reopened.getStream('a')?.settings.token, `${SECRET}-a`);
    reopened.close();

    // A second rotation to another environment key, with the first as previous.
    const third = newMasterKeyText();
    const again = rotateKeys({
      directory: dir,
      env: { FLOWSTREAM_MASTER_KEY: third, FLOWSTREAM_MASTER_KEY_PREVIOUS: next },
    });
    assert.equal(again.resealed, 1);
    assert.deepEqual(again.retiredKeyIds, [decodeKey(next, 'k').id]);
  });

  test('refuses while the service holds the data directory', async () => {
    loadKeyring({ directory: dir, env: {} });
    StreamStore.open({ directory: dir }).close();
    const log = openSqliteEventLog({ directory: dir });
    try {
      assert.throws(
        () => rotateKeys({ directory: dir, env: {} }),
        (e: unknown) => e instanceof KeyRotationError && /running flowstream/.test(e.message),
      );
    } finally {
      await log.close();
    }
    rotateKeys({ directory: dir, env: {} });
  });

  test('refuses a directory that is not a data directory', () => {
    assert.throws(() => rotateKeys({ directory: dir, env: {} }), /not a flowstream data directory/);
  });
});
