import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Authenticator } from '../../src/security/authenticator.js';
import { TokenStore } from '../../src/security/token-store.js';
import { hashToken, tokenFromAuthorization, tokensEqual } from '../../src/security/tokens.js';

describe('TokenStore', () => {
  test('stores only the digest; verifies, expires and revokes; survives reopening', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-tokens-'));
    let now = Date.parse('2025-01-01T00:00:00Z');
    try {
      const store = new TokenStore(dir, () => now);
      const { token, record } = store.create({ name: 'ci', org: 'A', scopes: ['events:write'] });
      const expiring = store.create({
        name: 'short',
        org: 'A',
        scopes: ['streams:read'],
        expiresAt: '2025-01-01T01:00:00.000Z',
      });
      assert.match(token, /^fs_[A-Za-z0-9_-]{43}$/);
      assert.equal(store.verify(token)?.tokenId, record.id);
      assert.equal(store.verify(`${token}x`), undefined);
      store.close();
      for (const file of readdirSync(dir)) {
        const bytes = readFileSync(path.join(dir, file));
        assert.equal(bytes.includes(token), false, `${file} holds the token`);
        assert.equal(bytes.includes(expiring.token), false, `${file} holds the token`);
      }
      const reopened = new TokenStore(dir, () => now);
      assert.deepEqual([...(reopened.verify(token)?.scopes ?? [])], ['events:write']);
      assert.ok(reopened.get(record.id)?.lastUsedAt, 'lastUsedAt is recorded');
      assert.ok(reopened.verify(expiring.token));
      now += 3600_000;
      assert.equal(reopened.verify(expiring.token), undefined, 'expired');
      assert.equal(reopened.revoke(record.id), true);
      assert.equal(reopened.verify(token), undefined, 'revoked');
      assert.equal(reopened.revoke('nope'), false);
      assert.ok(reopened.list().every((t) => !('digest' in t) && !('token' in t)));
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Authorization header and static tokens', () => {
  test('Bearer and SSWS, any case; anything else is no token', () => {
    assert.equal(tokenFromAuthorization('Bearer abc'), 'abc');
    assert.equal(tokenFromAuthorization('SSWS abc'), 'abc');
    assert.equal(tokenFromAuthorization('bearer\tabc '), 'abc');
    for (const bad of [undefined, '', 'Basic abc', 'Bearer', 'Bearer a b', 'Token abc', 'abc']) {
      assert.equal(tokenFromAuthorization(bad), undefined, String(bad));
    }
  });

  test('static tokens match exactly, whatever their lengths', () => {
    const auth = new Authenticator([
      { name: 'a', token: 'token-a-0123456789', org: 'A', scopes: ['events:write'] },
      {
        name: 'b',
        token: 'token-b-0123456789',
        org: 'B',
        scopes: ['streams:read'],
        ingestRateLimit: { eventsPerSecond: 1, burst: 2 },
      },
    ]);
    assert.equal(auth.authenticate('Bearer token-a-0123456789')?.org, 'A');
    assert.deepEqual(auth.authenticate('SSWS token-b-0123456789')?.ingestRateLimit, {
      eventsPerSecond: 1,
      burst: 2,
    });
    assert.equal(auth.authenticate('Bearer token-a-012345678'), undefined);
    assert.equal(auth.authenticate('Bearer token-a-01234567890'), undefined);
    assert.equal(auth.authenticate('Bearer '), undefined);
    assert.equal(tokensEqual('x', 'x'), true);
    assert.equal(tokensEqual('x', 'xx'), false);
    assert.equal(hashToken('x').length, 64);
  });
});
