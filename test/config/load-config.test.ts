import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfigFile, resolveConfig, substituteEnv } from '../../src/config/load-config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fs-config-'));
function file(name: string, text: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const SPEC_EXAMPLE = `
server:  { host: 127.0.0.1, port: 8470 }
storage: { path: ./.flowstream }
auth:
  tokens:
    - { name: ci, token: "\${FLOWSTREAM_TOKEN}", org: "*", scopes: [events:write, streams:read, streams:write] }
network: { allowPrivateNetworks: false }
streams:
  - id: siem
    name: Local webhook
    type: webhook
    org: "*"
    settings: { url: "http://127.0.0.1:9000/ingest", headers: { Authorization: "Bearer x" }, format: ndjson }
    filter:   { eventTypes: [FLOW_START, FLOW_COMPLETE, FLOW_FAIL] }
`;

describe('loadConfigFile', () => {
  test('accepts the example of SPEC §4 and substitutes ${ENV}', () => {
    const config = loadConfigFile(file('spec.yaml', SPEC_EXAMPLE), {
      FLOWSTREAM_TOKEN: 'a-very-long-ci-token-value',
    });
    assert.equal(config.server.port, 8470);
    assert.equal(config.auth.tokens[0]?.token, 'a-very-long-ci-token-value');
    assert.equal(config.streams[0]?.id, 'siem');
    assert.deepEqual(config.streams[0]?.filter?.eventTypes, ['FLOW_START', 'FLOW_COMPLETE', 'FLOW_FAIL']);
    assert.equal(config.network.allowPrivateNetworks, false);
  });

  test('accepts JSON and fills defaults', () => {
    const config = loadConfigFile(file('c.json', '{"server": {"port": 0}}'), {});
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.server.port, 0);
    assert.equal(config.storage.path, './.flowstream');
    assert.equal(config.ingest.validation, 'lenient');
  });

  test('an empty file is the default configuration', () => {
    assert.equal(loadConfigFile(file('empty.yaml', ''), {}).server.port, 8470);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown top-level key', 'sever: {}', /unknown key "sever" in the top level/],
    ['unknown nested key', 'server: { prot: 1 }', /unknown key "prot" in server/],
    [
      'unknown key in a stream',
      'streams: [{id: a, name: A, type: file, settings: {}, filtr: {}}]',
      /unknown key "filtr" in streams\[0\]/,
    ],
    ['wrong type', 'server: { port: "eighty" }', /server\.port must be of type integer/],
    ['port out of range', 'server: { port: 70000 }', /server\.port must be <= 65535/],
    [
      'missing env var',
      'auth: { tokens: [{name: a, token: "${NOPE_NOT_SET}", org: x, scopes: [events:write]}] }',
      /environment variable NOPE_NOT_SET is not set/,
    ],
    [
      'bad scope',
      'auth: { tokens: [{name: a, token: "0123456789abcdef0", org: x, scopes: [admin]}] }',
      /auth\.tokens\[0\]\.scopes\[0\]/,
    ],
    [
      'duplicate stream id',
      'streams: [{id: a, name: A, type: file, settings: {}}, {id: a, name: B, type: file, settings: {}}]',
      /stream id "a" is declared twice/,
    ],
    ['top level is a list', '- a\n- b', /top level must be a mapping/],
    ['broken YAML', 'server: { port: [1, }', /is not valid YAML/],
  ];
  for (const [name, text, message] of bad) {
    test(`refuses ${name} with a message naming it`, () => {
      assert.throws(
        () => loadConfigFile(file(`${name.replace(/\W/g, '-')}.yaml`, text), {}),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  test('refuses broken JSON, binary garbage and oversized files', () => {
    assert.throws(() => loadConfigFile(file('b.json', '{"server":'), {}), /is not valid JSON/);
    assert.throws(
      () => loadConfigFile(file('g.yaml', Buffer.from([0, 159, 146, 150, 0, 1, 2])), {}),
      ConfigError,
    );
    assert.throws(
      () => loadConfigFile(file('big.yaml', `# ${'x'.repeat(2 * 1024 * 1024)}`), {}),
      /larger than 1 MiB/,
    );
    assert.throws(() => loadConfigFile(path.join(dir, 'missing.yaml'), {}), /does not exist/);
  });

  test('a YAML alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
      );
    assert.throws(() => loadConfigFile(file('bomb.yaml', bomb.join('\n')), {}), ConfigError);
  });
});

describe('substituteEnv', () => {
  test('substitutes inside strings, keeps $${ literal, never injects structure', () => {
    const out = substituteEnv({ a: 'x-${A}-y', b: ['$${A}'], c: 1 }, { A: '{"evil": true}\nserver: {}' });
    assert.deepEqual(out, { a: 'x-{"evil": true}\nserver: {}-y', b: ['${A}'], c: 1 });
  });
  test('__proto__ keys stay data', () => {
    const out = substituteEnv(JSON.parse('{"__proto__": {"polluted": true}}'), {}) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(out, '__proto__'));
    assert.throws(() => resolveConfig(JSON.parse('{"__proto__": {"x": 1}}'), {}), /unknown key "__proto__"/);
  });
});
