import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { newMasterKeyText } from '../../src/security/master-key.js';
import { SealError } from '../../src/security/secret-sealer.js';
import { REDACTED } from '../../src/streams/redact.js';
import { bearer, startReceiver, startTestService, type TestService, TOKENS } from './helpers/service.js';
import { sampleEvent } from './helpers/test-app.js';

/**
 * Planted secrets (every kind of secret setting) must appear in no file of the data directory
 * (databases, WALs, keyring), in no log line (pino at trace level) and in no API response; they
 * must survive a restart, encrypted, and need the right master key.
 */

const PLANTED = {
  authorization: 'Bearer planted-auth-header-7d1f0c',
  signingSecret: 'planted-signing-secret-93ab41e2',
  hecToken: 'planted-hec-token-5a8b7c6d',
  datadogKey: 'planted-datadog-key-0f9e8d7c',
  esPassword: 'planted-es-password-1b2c3d4e',
  esApiKey: 'planted-es-apikey-6f5e4d3c',
  piiKey: 'planted-pii-hmac-key-2468ace0',
  updated: 'planted-updated-hec-token-13579bdf',
  rejected: 'planted-in-an-invalid-body-8642fdb',
};

class LogCapture extends Writable {
  text = '';
  override _write(chunk: unknown, _enc: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? allFiles(full) : [full];
  });
}

/** Every file of `dir` that holds any planted secret (as UTF-8 bytes), with the secret. */
function leaks(dir: string): string[] {
  const found: string[] = [];
  for (const file of allFiles(dir)) {
    const bytes = readFileSync(file);
    for (const [name, secret] of Object.entries(PLANTED)) {
      if (bytes.includes(secret)) found.push(`${path.basename(file)}: ${name}`);
    }
  }
  return found;
}

function assertNoSecret(text: string, where: string): void {
  for (const [name, secret] of Object.entries(PLANTED)) {
    assert.ok(!text.includes(secret), `${where} holds the ${name} secret`);
  }
}

const KEY_1 = newMasterKeyText();
const KEY_2 = newMasterKeyText();

let t: TestService;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const logs = new LogCapture();
const responses: string[] = [];

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  const response = await t.service.app.inject({
    method,
    url,
    headers: bearer(TOKENS.operator),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  responses.push(response.body);
  return response;
}

before(async () => {
  receiver = await startReceiver();
  t = await startTestService({
    allowPrivateNetworks: true,
    env: { FLOWSTREAM_MASTER_KEY: KEY_1 },
    logger: pino({ level: 'trace' }, logs),
  });
});
after(async () => {
  await t.close();
  await receiver.close();
});

describe('secrets at rest', () => {
  test('no planted secret in the data directory (WAL included), the logs or any response', async () => {
    const base = new URL(receiver.url).origin;
    const created = [
      {
        id: 'hook',
        name: 'webhook',
        type: 'webhook',
        org: 'ORG_A',
        settings: {
          url: receiver.url,
          headers: { Authorization: PLANTED.authorization },
          signingSecret: PLANTED.signingSecret,
        },
        transforms: { hashUserEmail: { key: PLANTED.piiKey } },
      },
      { id: 'hec', name: 'splunk', type: 'splunk_hec', settings: { url: base, token: PLANTED.hecToken } },
      {
        id: 'dd',
        name: 'datadog',
        type: 'datadog',
        status: 'INACTIVE',
        settings: { url: base, apiKey: PLANTED.datadogKey },
      },
      {
        id: 'es',
        name: 'elastic',
        type: 'elasticsearch',
        status: 'INACTIVE',
        settings: { url: base, username: 'elastic', password: PLANTED.esPassword },
      },
      {
        id: 'es2',
        name: 'elastic 2',
        type: 'elasticsearch',
        status: 'INACTIVE',
        settings: { url: base, apiKey: PLANTED.esApiKey },
      },
    ];
    for (const body of created) {
      const response = await call('POST', '/api/v1/logStreams', body);
      assert.equal(response.statusCode, 200, response.body);
    }
    const hook = (await call('GET', '/api/v1/logStreams/hook')).json() as {
      settings: { headers: Record<string, string>; signingSecret: string };
      transforms: { hashUserEmail: { key: string } };
    };
    assert.equal(hook.settings.headers.Authorization, REDACTED);
    assert.equal(hook.settings.signingSecret, REDACTED);
    assert.equal(hook.transforms.hashUserEmail.key, REDACTED);

    // Written back as read (redacted) with one change: the secrets keep their stored values.
    const put = await call('PUT', '/api/v1/logStreams/hook', { ...hook, name: 'webhook renamed' });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(t.service.streams.get('hook')?.settings.signingSecret, PLANTED.signingSecret);
    const hec = (await call('GET', '/api/v1/logStreams/hec')).json() as Record<string, unknown>;
    assert.equal(
      (
        await call('PUT', '/api/v1/logStreams/hec', {
          ...hec,
          settings: { url: base, token: PLANTED.updated },
        })
      ).statusCode,
      200,
    );
    const invalid = await call('POST', '/api/v1/logStreams', {
      name: 'bad',
      type: 'splunk_hec',
      settings: { url: 'not a url', token: PLANTED.rejected, extra: PLANTED.rejected },
    });
    assert.equal(invalid.statusCode, 400);

    // Delivery, test, health, lists, audit: all of it is logged or answered somewhere.
    const ingest = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...bearer(TOKENS.operator), 'content-type': 'application/json' },
      payload: JSON.stringify([sampleEvent(1, 'ORG_A'), sampleEvent(2, 'ORG_A')]),
    });
    assert.equal(ingest.statusCode, 202);
    await call('POST', '/api/v1/logStreams/hook/test');
    await call('POST', '/api/v1/logStreams/hec/test');
    for (const id of ['hook', 'hec', 'dd', 'es', 'es2']) await call('GET', `/api/v1/logStreams/${id}/health`);
    await call('GET', '/api/v1/logStreams');
    const audit = await call('GET', '/api/v1/audit');
    assert.ok((audit.json() as unknown[]).length >= 7);
    const deadline = Date.now() + 5000;
    while (receiver.bodies.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(receiver.bodies.length >= 2, 'the webhook delivered');
    await call('DELETE', '/api/v1/logStreams/es2');

    // While running: the WAL files are there too.
    assert.ok(
      allFiles(t.dir).some((f) => f.endsWith('-wal')),
      'WAL files exist while running',
    );
    assert.deepEqual(leaks(t.dir), []);
    for (const [i, body] of responses.entries()) assertNoSecret(body, `response ${i}`);
    assert.ok(logs.text.includes('log stream created'), 'the logs were captured');
    assertNoSecret(logs.text, 'the log');
  });

  test('after a restart with the same key: secrets decrypt, tokens still work; no secret on disk', async () => {
    const created = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: bearer(TOKENS.operator),
      payload: { name: 'survivor', org: 'ORG_A', scopes: ['streams:read'] },
    });
    assert.equal(created.statusCode, 201);
    const token = (created.json() as { token: string }).token;
    await t.close({ keepDir: true });
    assert.deepEqual(leaks(t.dir), []);
    for (const file of allFiles(t.dir))
      assert.ok(!readFileSync(file).includes(token), `${file} holds the API token`);

    t = await startTestService({
      dir: t.dir,
      allowPrivateNetworks: true,
      env: { FLOWSTREAM_MASTER_KEY: KEY_1 },
    });
    assert.equal(t.service.streams.get('hec')?.settings.token, PLANTED.updated);
    assert.equal(t.service.streams.get('dd')?.settings.apiKey, PLANTED.datadogKey);
    const list = await t.service.app.inject({
      method: 'GET',
      url: '/api/v1/logStreams',
      headers: bearer(token),
    });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      (list.json() as { id: string }[]).map((s) => s.id),
      ['hook'],
      "the org A token sees org A's stream",
    );
    assertNoSecret(list.body, 'the list');
  });

  test('another master key cannot open them; with the old one as previous, the start re-seals', async () => {
    await t.close({ keepDir: true });
    await assert.rejects(
      startTestService({ dir: t.dir, allowPrivateNetworks: true, env: { FLOWSTREAM_MASTER_KEY: KEY_2 } }),
      (e: unknown) => e instanceof SealError && e.code === 'FS_SECRET_KEY_UNKNOWN',
    );
    t = await startTestService({
      dir: t.dir,
      allowPrivateNetworks: true,
      env: { FLOWSTREAM_MASTER_KEY: KEY_2, FLOWSTREAM_MASTER_KEY_PREVIOUS: KEY_1 },
    });
    await t.close({ keepDir: true });
    t = await startTestService({
      dir: t.dir,
      allowPrivateNetworks: true,
      env: { FLOWSTREAM_MASTER_KEY: KEY_2 },
    });
    assert.equal(t.service.streams.get('hook')?.settings.signingSecret, PLANTED.signingSecret);
    assert.deepEqual(leaks(t.dir), []);
  });
});
