import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  decodeKey,
  KEYRING_FILE,
  loadKeyring,
  MasterKeyError,
  newMasterKeyText,
} from '../../src/security/master-key.js';
import { Keyring } from '../../src/security/secret-sealer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fs-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadKeyring', () => {
  test('without FLOWSTREAM_MASTER_KEY: creates keyring.json with mode 0600 once, then reuses it', () => {
    const first = loadKeyring({ directory: dir, env: {} });
    assert.equal(first.source, 'file');
    assert.equal(first.created, true);
    const file = path.join(dir, KEYRING_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const content = JSON.parse(readFileSync(file, 'utf8')) as {
      version: number;
      primary: string;
      keys: unknown[];
    };
    assert.equal(content.version, 1);
    assert.equal(content.primary, first.keyring.primary.id);
    const again = loadKeyring({ directory: dir, env: {} });
    assert.equal(again.created, false);
    assert.equal(again.keyring.primary.id, first.keyring.primary.id);
    assert.equal(again.keyring.open(first.keyring.seal('x')), 'x');
  });

  test('refuses a keyring.json that group or others may read', () => {
    loadKeyring({ directory: dir, env: {} });
    chmodSync(path.join(dir, KEYRING_FILE), 0o644);
    assert.throws(
      () => loadKeyring({ directory: dir, env: {} }),
      (e: unknown) => e instanceof MasterKeyError && /chmod 600/.test(e.message),
    );
  });

  test('refuses a keyring.json that is not one', () => {
    const file = path.join(dir, KEYRING_FILE);
    writeFileSync(file, 'not json', { mode: 0o600 });
    assert.throws(() => loadKeyring({ directory: dir, env: {} }), /not valid JSON/);
    writeFileSync(file, JSON.stringify({ version: 1, primary: 'x', keys: [] }), { mode: 0o600 });
    assert.throws(() => loadKeyring({ directory: dir, env: {} }), /primary key x is not in keys/);
    const key = newMasterKeyText();
    writeFileSync(file, JSON.stringify({ version: 1, primary: 'x', keys: [{ id: 'x', key, created: '' }] }), {
      mode: 0o600,
    });
    assert.throws(() => loadKeyring({ directory: dir, env: {} }), /does not match its key/);
  });

  test('FLOWSTREAM_MASTER_KEY is the primary; _PREVIOUS keys and a keyring.json open older blobs', () => {
    const fileRing = loadKeyring({ directory: dir, env: {} }).keyring;
    const previous = newMasterKeyText();
    const current = newMasterKeyText();
    const previousRing = new Keyring(decodeKey(previous, 'test'));
    const loaded = loadKeyring({
      directory: dir,
      env: { FLOWSTREAM_MASTER_KEY: current, FLOWSTREAM_MASTER_KEY_PREVIOUS: ` ${previous} ,` },
    });
    assert.equal(loaded.source, 'env');
    assert.equal(loaded.keyring.primary.id, decodeKey(current, 'test').id);
    assert.equal(loaded.keyring.open(previousRing.seal('old')), 'old');
    assert.equal(loaded.keyring.open(fileRing.seal('file')), 'file');
  });

  test('a malformed environment key is refused with a message that says how to make one', () => {
    for (const bad of [
      'short',
      Buffer.alloc(16).toString('base64'),
      'not base64!!',
      Buffer.alloc(33).toString('base64'),
    ]) {
      assert.throws(
        () => loadKeyring({ directory: dir, env: { FLOWSTREAM_MASTER_KEY: bad } }),
        (e: unknown) =>
          e instanceof MasterKeyError &&
          /FLOWSTREAM_MASTER_KEY/.test(e.message) &&
          /openssl rand -base64 32/.test(e.message),
        bad,
      );
    }
    assert.throws(
      () =>
        loadKeyring({
          directory: dir,
          env: { FLOWSTREAM_MASTER_KEY: newMasterKeyText(), FLOWSTREAM_MASTER_KEY_PREVIOUS: 'x' },
        }),
      /FLOWSTREAM_MASTER_KEY_PREVIOUS \(key 1\)/,
    );
  });

  test('base64url keys are accepted too', () => {
    const bytes = Buffer.alloc(32, 0xfb);
    assert.deepEqual(decodeKey(bytes.toString('base64url'), 'k').key, bytes);
    assert.deepEqual(decodeKey(bytes.toString('base64'), 'k').key, bytes);
  });

  test('create: false never creates a key', () => {
    assert.throws(() => loadKeyring({ directory: dir, env: {}, create: false }), /does not exist/);
  });
});
