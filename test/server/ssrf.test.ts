import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createNetworkPolicy,
  type NetworkPolicy,
  type ResolvedAddress,
} from '../../src/net/network-policy.js';
import { FORBIDDEN_ADDRESSES } from '../net/helpers/addresses.js';
import { bearer, startReceiver, startTestService, type TestService, TOKENS } from './helpers/service.js';
import { sampleEvent } from './helpers/test-app.js';

/**
 * SSRF through the log streams API with `network.allowPrivateNetworks: false`: a destination on a
 * forbidden address is refused when the stream is saved (every address class, every URL-based
 * destination type, names that resolve to such addresses), and refused again at connect time when
 * the name resolves differently later (DNS rebinding).
 */

const answers = new Map<string, string[]>();
let network: NetworkPolicy;
let t: TestService;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

before(async () => {
  receiver = await startReceiver();
  network = createNetworkPolicy({
    allowPrivateNetworks: false,
    resolve: async (name): Promise<ResolvedAddress[]> => {
      const found = answers.get(name);
      if (found === undefined) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  });
  t = await startTestService({ network });
});
after(async () => {
  await t.close();
  await network.close?.();
  await receiver.close();
});

function create(body: Record<string, unknown>, token: string = TOKENS.orgA) {
  return t.service.app.inject({
    method: 'POST',
    url: '/api/v1/logStreams',
    headers: bearer(token),
    payload: body,
  });
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address.replace(/^\[|\]$/g, '')}]` : address;
}

function assertForbidden(response: { statusCode: number; json: () => unknown }, mentions: string): void {
  assert.equal(response.statusCode, 400);
  const body = response.json() as {
    errorCode: string;
    errorSummary: string;
    errorCauses: { errorSummary: string }[];
  };
  assert.equal(body.errorCode, 'FS_STREAM_DESTINATION_FORBIDDEN');
  assert.ok(body.errorSummary.includes(mentions), `${body.errorSummary} mentions ${mentions}`);
  assert.match(body.errorCauses[0]?.errorSummary ?? '', /^\/settings: /);
}

describe('create time', () => {
  test('a webhook on an address of every forbidden class is refused', async () => {
    for (const [address] of FORBIDDEN_ADDRESSES) {
      if (address.includes('%')) continue; // zone ids are not valid in URLs
      const response = await create({
        name: 'x',
        type: 'webhook',
        settings: { url: `http://${hostOf(address)}:8080/in` },
      });
      assertForbidden(response, 'allowPrivateNetworks');
    }
    assert.deepEqual(t.service.streams.list(), []);
  });

  test('every URL-based destination type is checked', async () => {
    const bodies = [
      { type: 'webhook', settings: { url: 'https://169.254.169.254/latest/meta-data' } },
      { type: 'splunk_hec', settings: { url: 'https://10.0.0.1:8088', token: 't' } },
      { type: 'datadog', settings: { url: 'https://[fd00::1]', apiKey: 'k' } },
      { type: 'elasticsearch', settings: { url: 'http://127.0.0.1:9200' } },
      {
        type: 'aws_eventbridge',
        settings: { region: 'us-east-1', eventBusName: 'b', endpoint: 'http://192.168.1.1:4010' },
      },
    ];
    for (const body of bodies) {
      assertForbidden(await create({ name: body.type, ...body }), 'address');
    }
  });

  test('names: localhost, and names that resolve to private addresses', async () => {
    answers.set('intranet.example', ['10.20.30.40']);
    answers.set('metadata.example', ['169.254.169.254']);
    answers.set('dual.example', ['93.184.216.34', 'fe80::1']);
    assertForbidden(
      await create({ name: 'x', type: 'webhook', settings: { url: 'http://localhost:9000/' } }),
      'localhost',
    );
    assertForbidden(
      await create({ name: 'x', type: 'webhook', settings: { url: 'http://intranet.example/' } }),
      'intranet.example resolves to 10.20.30.40',
    );
    assertForbidden(
      await create({
        name: 'x',
        type: 'splunk_hec',
        settings: { url: 'https://metadata.example', token: 't' },
      }),
      '169.254.169.254',
    );
    assertForbidden(
      await create({ name: 'x', type: 'webhook', settings: { url: 'http://dual.example/' } }),
      'fe80::1',
    );
  });

  test('an update that moves a stream to a forbidden host is refused and changes nothing', async () => {
    answers.set('siem.example', ['93.184.216.34']);
    const ok = await create({
      id: 'moving',
      name: 'x',
      type: 'webhook',
      status: 'INACTIVE',
      settings: { url: 'https://siem.example/in' },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const put = await t.service.app.inject({
      method: 'PUT',
      url: '/api/v1/logStreams/moving',
      headers: bearer(TOKENS.orgA),
      payload: {
        name: 'x',
        type: 'webhook',
        status: 'INACTIVE',
        settings: { url: 'http://192.168.0.10/in' },
      },
    });
    assertForbidden(put, '192.168.0.10');
    assert.equal(t.service.streams.get('moving')?.settings.url, 'https://siem.example/in');
    await t.service.streams.delete('moving');
  });
});

describe('connect time (DNS rebinding)', () => {
  test('a name that was public when saved and points at loopback later never reaches the peer', async () => {
    const port = new URL(receiver.url).port;
    answers.set('rebind.example', ['93.184.216.34']);
    const created = await create({
      id: 'rebind',
      name: 'rebinding',
      type: 'webhook',
      status: 'INACTIVE',
      settings: { url: `http://rebind.example:${port}/ingest` },
    });
    assert.equal(created.statusCode, 200, created.body);
    answers.set('rebind.example', ['127.0.0.1']);

    const tested = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/logStreams/rebind/test',
      headers: bearer(TOKENS.orgA),
    });
    assert.equal(tested.statusCode, 200);
    const result = tested.json() as {
      ok: boolean;
      outcome: string;
      error: { code: string; message: string };
    };
    assert.equal(result.ok, false);
    assert.equal(result.outcome, 'fatal');
    assert.equal(result.error.code, 'FS_DESTINATION_FORBIDDEN');
    assert.match(result.error.message, /rebind\.example resolves to 127\.0\.0\.1/);

    // The runner too: the stream turns DEGRADED with the refusal as its last error.
    const activated = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/logStreams/rebind/lifecycle/activate',
      headers: bearer(TOKENS.orgA),
    });
    assert.equal(activated.statusCode, 200);
    const ingest = await t.service.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...bearer(TOKENS.orgA), 'content-type': 'application/json' },
      payload: JSON.stringify(sampleEvent(77, 'ORG_A')),
    });
    assert.equal(ingest.statusCode, 202);
    let health: { status: string; lastError: { code: string } | null } = { status: '', lastError: null };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const response = await t.service.app.inject({
        method: 'GET',
        url: '/api/v1/logStreams/rebind/health',
        headers: bearer(TOKENS.orgA),
      });
      health = response.json();
      if (health.lastError !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(health.status, 'DEGRADED');
    assert.equal(health.lastError?.code, 'FS_DESTINATION_FORBIDDEN');
    assert.equal(receiver.bodies.length, 0, 'nothing reached the loopback peer');
  });
});
