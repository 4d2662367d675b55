import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bearer, startTestService, type TestService, TOKENS } from './helpers/service.js';

/** `flowstream tokens create|list|revoke` end to end against a running service, and `keys`. */

const root = fileURLToPath(new URL('../../', import.meta.url));

function run(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
      {
        cwd: root,
        env: { ...process.env, FLOWSTREAM_TOKEN: '', FLOWSTREAM_URL: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const MAIN = `import { main } from ${JSON.stringify(join(root, 'src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;
const KEYS = `import { keysCommand } from ${JSON.stringify(join(root, 'src/cli/keys.ts'))};
try { await keysCommand().exitOverride().parseAsync(process.argv.slice(1), { from: 'user' }); }
catch (e) { process.stderr.write(String(e.message) + '\\n'); process.exitCode = 1; }`;

let t: TestService;
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t.close();
});

describe('flowstream tokens', () => {
  test('create prints the token once; list shows no value; revoke makes it 401', async () => {
    const url = t.service.url;
    const created = await run(MAIN, [
      'tokens',
      'create',
      '--url',
      url,
      '--token',
      TOKENS.orgA,
      '--org',
      'ORG_A',
      '--scopes',
      'streams:read,events:write',
      '--name',
      'siem-reader',
      '--expires',
      '30d',
    ]);
    assert.equal(created.code, 0, created.err);
    const record = JSON.parse(created.out) as {
      id: string;
      token: string;
      org: string;
      scopes: string[];
      expiresAt: string;
    };
    assert.match(record.token, /^fs_/);
    assert.deepEqual(record.scopes, ['streams:read', 'events:write']);
    assert.ok(Date.parse(record.expiresAt) > Date.now() + 29 * 86_400_000);
    assert.match(created.err, /not shown again/);

    const works = await t.service.app.inject({
      method: 'GET',
      url: '/api/v1/logStreams',
      headers: bearer(record.token),
    });
    assert.equal(works.statusCode, 200);

    const listed = await run(MAIN, ['tokens', 'list', '--url', url], { FLOWSTREAM_TOKEN: TOKENS.orgA });
    assert.equal(listed.code, 0, listed.err);
    assert.ok(!listed.out.includes(record.token));
    const list = JSON.parse(listed.out) as { id: string; name: string }[];
    assert.ok(list.some((r) => r.id === record.id && r.name === 'siem-reader'));

    const forbidden = await run(MAIN, [
      'tokens',
      'create',
      '--url',
      url,
      '--token',
      TOKENS.orgA,
      '--org',
      '*',
      '--scopes',
      'streams:read',
    ]);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.err, /own org/);

    const revoked = await run(MAIN, ['tokens', 'revoke', record.id, '--url', url, '--token', TOKENS.orgA]);
    assert.equal(revoked.code, 0, revoked.err);
    const after = await t.service.app.inject({
      method: 'GET',
      url: '/api/v1/logStreams',
      headers: bearer(record.token),
    });
    assert.equal(after.statusCode, 401);
  });
});

describe('flowstream keys', () => {
  test('rotate refuses while the service runs; generate prints a usable key', async () => {
    const refused = await run(KEYS, ['rotate', '--data', t.dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /running flowstream/);
    const generated = await run(KEYS, ['generate']);
    assert.equal(generated.code, 0);
    assert.equal(Buffer.from(generated.out.trim(), 'base64').length, 32);
  });

  test('rotate re-seals a stopped data directory', async () => {
    const created = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/logStreams',
      headers: bearer(TOKENS.operator),
      payload: {
        id: 'k',
        name: 'k',
        type: 'splunk_hec',
        status: 'INACTIVE',
        settings: { url: 'https://s.example', token: 'rotate-me' },
      },
    });
    assert.equal(created.statusCode, 200, created.body);
    await t.close({ keepDir: true });
    const rotated = await run(KEYS, ['rotate', '--data', t.dir]);
    assert.equal(rotated.code, 0, rotated.err);
    assert.match(rotated.out, /re-sealed 1 of 1 stream definitions/);
    assert.match(rotated.out, /retired and removed from keyring\.json: [0-9a-f]{16}/);
    t = await startTestService({ dir: t.dir });
    assert.equal(t.service.streams.get('k')?.settings.token, 'rotate-me');
  });
});
