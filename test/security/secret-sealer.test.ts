import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  generateMasterKey,
  Keyring,
  keyIdOf,
  masterKey,
  SEALED_PREFIX,
  SealError,
} from '../../src/security/secret-sealer.js';

describe('Keyring (AES-256-GCM)', () => {
  test('seal then open gives the text back; the sealed text holds neither the text nor the key', () => {
    const key = generateMasterKey();
    const ring = new Keyring(key);
    const secret = '{"settings":{"token":"hec-0123456789-very-secret"}}';
    const sealed = ring.seal(secret);
    assert.ok(sealed.startsWith(`${SEALED_PREFIX}${key.id}:`));
    assert.ok(!sealed.includes('very-secret'));
    assert.ok(!sealed.includes(key.key.toString('base64')));
    assert.equal(ring.open(sealed), secret);
    assert.notEqual(ring.seal(secret), sealed, 'a fresh nonce per seal');
  });

  test('round-trips any text', () => {
    const ring = new Keyring(generateMasterKey());
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        assert.equal(ring.open(ring.seal(text)), text);
      }),
      { numRuns: 300 },
    );
  });

  test('a changed byte anywhere fails to open', () => {
    const ring = new Keyring(generateMasterKey());
    const sealed = ring.seal('secret value of some length');
    const parts = sealed.split(':');
    const body = Buffer.from(parts[4]!, 'base64url');
    for (let i = 0; i < body.length; i++) {
      const changed = Buffer.from(body);
      changed[i]! ^= 0x01;
      const text = [...parts.slice(0, 4), changed.toString('base64url')].join(':');
      assert.throws(
        () => ring.open(text),
        (e: unknown) => e instanceof SealError && e.code === 'FS_SECRET_CORRUPT',
      );
    }
    const nonce = Buffer.from(parts[3]!, 'base64url');
    nonce[0]! ^= 0x80;
    assert.throws(
      () => ring.open([...parts.slice(0, 3), nonce.toString('base64url'), parts[4]].join(':')),
      SealError,
    );
    assert.throws(() => ring.open(`${parts.slice(0, 4).join(':')}:AAAA`), SealError);
    assert.throws(() => ring.open('fsenc:v2:abc:def:ghi'), SealError);
  });

  test('an unknown key id is FS_SECRET_KEY_UNKNOWN and names the key and how to fix it', () => {
    const a = new Keyring(generateMasterKey());
    const b = new Keyring(generateMasterKey());
    const sealed = a.seal('x');
    assert.throws(
      () => b.open(sealed),
      (e: unknown) =>
        e instanceof SealError &&
        e.code === 'FS_SECRET_KEY_UNKNOWN' &&
        e.message.includes(a.primary.id) &&
        /FLOWSTREAM_MASTER_KEY/.test(e.message),
    );
  });

  test('relabelling a blob with another key id of the ring fails (the id is authenticated)', () => {
    const k1 = generateMasterKey();
    const k2 = masterKey(Buffer.from(k1.key));
    assert.equal(k1.id, k2.id);
    const other = generateMasterKey();
    const ring = new Keyring(k1, [other]);
    const sealed = ring.seal('x');
    assert.throws(() => ring.open(sealed.replace(k1.id, other.id)), SealError);
  });

  test('a keyring opens what its older keys sealed and seals with the primary only', () => {
    const old = generateMasterKey();
    const fresh = generateMasterKey();
    const sealedOld = new Keyring(old).seal('before');
    const ring = new Keyring(fresh, [old]);
    assert.equal(ring.open(sealedOld), 'before');
    assert.equal(ring.needsReseal(sealedOld), true);
    const sealedNew = ring.seal('after');
    assert.equal(ring.needsReseal(sealedNew), false);
    assert.deepEqual(ring.keyIds, [fresh.id, old.id]);
  });

  test('plain JSON (stored before sealing existed) opens as is and needs re-sealing', () => {
    const ring = new Keyring(generateMasterKey());
    assert.equal(ring.open('{"id":"x"}'), '{"id":"x"}');
    assert.equal(ring.needsReseal('{"id":"x"}'), true);
  });

  test('key ids are fingerprints: stable, 16 hex digits, not the key', () => {
    const key = generateMasterKey();
    assert.match(key.id, /^[0-9a-f]{16}$/);
    assert.equal(keyIdOf(key.key), key.id);
    assert.throws(() => masterKey(Buffer.alloc(16)), /32 bytes/);
  });
});
