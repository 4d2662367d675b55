import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redactSettings, restoreRedacted } from '../../src/security/redact.js';

const POINTERS = ['/token', '/headers/*', '/tls/key'];

test('redacts named secrets and every value under a * pointer, without touching the input', () => {
  const settings = { url: 'https://x', token: 't0ken', headers: { Authorization: 'Bearer abc', 'X-A': 'b' }, tls: { key: 'K', ca: 'C' } };
  const redacted = redactSettings(settings, POINTERS);
  assert.deepEqual(redacted, {
    url: 'https://x',
    token: REDACTED,
    headers: { Authorization: REDACTED, 'X-A': REDACTED },
    tls: { key: REDACTED, ca: 'C' },
  });
  assert.equal(settings.token, 't0ken');
  assert.ok(!JSON.stringify(redacted).includes('t0ken'));
});

test('absent secrets stay absent; pointers with escapes work', () => {
  assert.deepEqual(redactSettings({ url: 'u' }, POINTERS), { url: 'u' });
  assert.deepEqual(redactSettings({ 'a/b': 's' }, ['/a~1b']), { 'a/b': REDACTED });
});

test('sending the placeholder back keeps the stored secret; a new value replaces it', () => {
  const stored = { token: 'old', headers: { Authorization: 'Bearer old' } };
  const incoming = { token: REDACTED, headers: { Authorization: 'Bearer new', Extra: REDACTED } };
  assert.deepEqual(restoreRedacted(incoming, stored, POINTERS), { token: 'old', headers: { Authorization: 'Bearer new' } });
  assert.deepEqual(restoreRedacted({ token: REDACTED }, undefined, POINTERS), {});
});
