import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { sendHttp } from '../../src/destinations/http-send.js';
import {
  createNetworkPolicy,
  ForbiddenDestinationError,
  type NetworkPolicy,
  type ResolvedAddress,
  type Resolver,
} from '../../src/net/network-policy.js';
import { makeTestPki } from '../integration/certificates.js';
import { FORBIDDEN_ADDRESSES, PUBLIC_ADDRESSES } from './helpers/addresses.js';

/** A resolver with fixed answers; names not listed fail with ENOTFOUND. Counts calls per name. */
function fakeResolver(answers: Record<string, readonly string[] | (() => readonly string[])>): Resolver & {
  calls: Map<string, number>;
} {
  const calls = new Map<string, number>();
  const resolve = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    calls.set(hostname, (calls.get(hostname) ?? 0) + 1);
    const found = answers[hostname];
    if (found === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    const list = typeof found === 'function' ? found() : found;
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as ResolvedAddress);
  };
  return Object.assign(resolve, { calls });
}

/** A local HTTP server that counts the requests it gets. */
async function countingServer(
  handler: (url: string) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const answer = handler(req.url ?? '');
    res.writeHead(answer.status, answer.headers).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, hits };
}

async function refusal(promise: Promise<unknown>): Promise<ForbiddenDestinationError> {
  try {
    await promise;
  } catch (err: unknown) {
    let e: unknown = err;
    while (e instanceof Error && !(e instanceof ForbiddenDestinationError) && e.cause !== undefined)
      e = e.cause;
    assert.ok(e instanceof ForbiddenDestinationError, `expected a refusal, got ${String(err)}`);
    assert.equal(e.code, 'FS_DESTINATION_FORBIDDEN');
    assert.equal(e.name, 'ForbiddenDestinationError');
    return e;
  }
  assert.fail('expected a refusal');
}

describe('checkHost (create time)', () => {
  const policy = createNetworkPolicy({ resolve: fakeResolver({}) });
  after(() => policy.close?.());

  test('refuses a literal address of every forbidden class, with brackets or not', async () => {
    for (const [address] of FORBIDDEN_ADDRESSES) {
      const e = await refusal(policy.checkHost(address));
      assert.match(e.message, /network\.allowPrivateNetworks/);
    }
    await refusal(policy.checkHost('[fe80::1]'));
  });

  test('lets globally reachable literals pass', async () => {
    for (const address of PUBLIC_ADDRESSES) await policy.checkHost(address);
  });

  test('refuses localhost names without asking DNS (RFC 6761)', async () => {
    const resolver = fakeResolver({ localhost: ['8.8.8.8'] });
    const p = createNetworkPolicy({ resolve: resolver });
    try {
      for (const name of ['localhost', 'LOCALHOST', 'localhost.', 'api.localhost'])
        await refusal(p.checkHost(name));
      assert.equal(resolver.calls.size, 0);
    } finally {
      await p.close?.();
    }
  });

  test('refuses a name that resolves to a private address, naming both', async () => {
    const p = createNetworkPolicy({
      resolve: fakeResolver({
        'internal.example': ['10.1.2.3'],
        'metadata.example': ['169.254.169.254'],
        'v6.example': ['fd00::5'],
        'mixed.example': ['8.8.8.8', '192.168.0.1'],
        'public.example': ['8.8.4.4', '2606:4700:4700::1111'],
      }),
    });
    try {
      const e = await refusal(p.checkHost('internal.example'));
      assert.equal(e.host, 'internal.example');
      assert.equal(e.address, '10.1.2.3');
      assert.match(e.message, /internal\.example resolves to 10\.1\.2\.3, a private-use address/);
      await refusal(p.checkHost('metadata.example'));
      await refusal(p.checkHost('v6.example'));
      // Any forbidden address refuses the name: no relying on a fallback.
      await refusal(p.checkHost('mixed.example'));
      await p.checkHost('public.example');
    } finally {
      await p.close?.();
    }
  });

  test('a name DNS cannot resolve (or resolves too slowly) passes; connect time still checks', async () => {
    const p = createNetworkPolicy({
      checkTimeoutMillis: 50,
      resolve: async (name) => {
        if (name === 'slow.example') return new Promise(() => {});
        throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      },
    });
    try {
      await p.checkHost('nxdomain.example');
      await p.checkHost('slow.example');
    } finally {
      await p.close?.();
    }
  });

  test('allowPrivateNetworks: true lets everything pass', async () => {
    const p = createNetworkPolicy({ allowPrivateNetworks: true, resolve: fakeResolver({}) });
    try {
      assert.equal(p.allowPrivateNetworks, true);
      for (const [address] of FORBIDDEN_ADDRESSES) await p.checkHost(address);
      await p.checkHost('localhost');
    } finally {
      await p.close?.();
    }
  });
});

describe('dispatcher (connect time)', () => {
  let peer: Awaited<ReturnType<typeof countingServer>>;
  before(async () => {
    peer = await countingServer();
  });
  after(() => {
    peer.server.close();
  });

  test('refuses literal loopback addresses; nothing reaches the peer', async () => {
    const policy = createNetworkPolicy({ resolve: fakeResolver({}) });
    try {
      const before = peer.hits.length;
      await refusal(request(`http://127.0.0.1:${peer.port}/x`, { dispatcher: policy.dispatcher }));
      await refusal(request(`http://[::1]:${peer.port}/x`, { dispatcher: policy.dispatcher }));
      await refusal(request(`http://[::ffff:127.0.0.1]:${peer.port}/x`, { dispatcher: policy.dispatcher }));
      // WHATWG URL parsing turns these spellings into 127.0.0.1 before the policy sees them.
      await refusal(request(`http://2130706433:${peer.port}/x`, { dispatcher: policy.dispatcher }));
      await refusal(request(`http://0x7f.1:${peer.port}/x`, { dispatcher: policy.dispatcher }));
      await refusal(request(`http://localhost:${peer.port}/x`, { dispatcher: policy.dispatcher }));
      assert.equal(peer.hits.length, before);
    } finally {
      await policy.close?.();
    }
  });

  test('DNS rebinding: a name that was public when saved and resolves to loopback later is refused', async () => {
    let answer = '8.8.8.8';
    const policy = createNetworkPolicy({ resolve: fakeResolver({ 'rebind.example': () => [answer] }) });
    try {
      await policy.checkHost('rebind.example');
      answer = '127.0.0.1';
      const before = peer.hits.length;
      const e = await refusal(
        request(`http://rebind.example:${peer.port}/x`, { dispatcher: policy.dispatcher }),
      );
      assert.equal(e.address, '127.0.0.1');
      assert.equal(peer.hits.length, before);
    } finally {
      await policy.close?.();
    }
  });

  test('sendHttp reports a refusal as fatal with FS_DESTINATION_FORBIDDEN', async () => {
    const policy = createNetworkPolicy({ resolve: fakeResolver({ 'siem.example': ['10.0.0.8'] }) });
    try {
      const response = await sendHttp({
        url: 'http://siem.example:8088/services/collector',
        headers: {},
        body: '{}',
        network: policy,
        signal: new AbortController().signal,
        timeoutMillis: 2000,
      });
      assert.equal(response.result.outcome, 'fatal');
      assert.ok(response.result.outcome === 'fatal');
      assert.equal(response.result.error.code, 'FS_DESTINATION_FORBIDDEN');
      assert.match(response.result.error.message, /siem\.example resolves to 10\.0\.0\.8/);
    } finally {
      await policy.close?.();
    }
  });

  test('with allowPrivateNetworks the resolver is used at connect time and the peer is reached', async () => {
    const policy = createNetworkPolicy({
      allowPrivateNetworks: true,
      resolve: fakeResolver({ 'peer.example': ['127.0.0.1'] }),
    });
    try {
      const before = peer.hits.length;
      const response = await request(`http://peer.example:${peer.port}/reached`, {
        dispatcher: policy.dispatcher,
      });
      await response.body.text();
      assert.equal(response.statusCode, 200);
      assert.deepEqual(peer.hits.slice(before), ['/reached']);
    } finally {
      await policy.close?.();
    }
  });

  test('redirects are not followed, even to a permitted address', async () => {
    const target = await countingServer();
    const redirecting = await countingServer(() => ({
      status: 302,
      headers: { location: `http://127.0.0.1:${target.port}/moved` },
    }));
    const policy = createNetworkPolicy({ allowPrivateNetworks: true });
    try {
      const response = await sendHttp({
        url: `http://127.0.0.1:${redirecting.port}/x`,
        headers: {},
        body: '{}',
        network: policy,
        signal: new AbortController().signal,
        timeoutMillis: 2000,
      });
      assert.equal(response.status, 302);
      assert.notEqual(response.result.outcome, 'delivered');
      assert.equal(redirecting.hits.length, 1);
      assert.equal(target.hits.length, 0);
    } finally {
      await policy.close?.();
      target.server.close();
      redirecting.server.close();
    }
  });
});

describe('lookup (net, tls, dgram destinations)', () => {
  const lookupOnce = (
    policy: NetworkPolicy,
    host: string,
    options: object,
  ): Promise<{ address: string | ResolvedAddress[]; family: number | undefined }> =>
    new Promise((resolve, reject) => {
      (policy.lookup as unknown as (h: string, o: object, cb: (...args: unknown[]) => void) => void)(
        host,
        options,
        (err, address, family) => {
          if (err) reject(err);
          else resolve({ address: address as string, family: family as number | undefined });
        },
      );
    });

  test('refuses forbidden answers and literals; returns permitted ones in both forms', async () => {
    const policy = createNetworkPolicy({
      resolve: fakeResolver({
        'syslog.example': ['10.9.8.7'],
        'ok.example': ['8.8.8.8', '2606:4700:4700::1111'],
      }),
    });
    try {
      await refusal(lookupOnce(policy, 'syslog.example', {}));
      await refusal(lookupOnce(policy, '127.0.0.1', {}));
      await refusal(lookupOnce(policy, 'localhost', { all: true }));
      assert.deepEqual(await lookupOnce(policy, 'ok.example', {}), { address: '8.8.8.8', family: 4 });
      assert.deepEqual(await lookupOnce(policy, 'ok.example', { family: 6 }), {
        address: '2606:4700:4700::1111',
        family: 6,
      });
      const all = await lookupOnce(policy, 'ok.example', { all: true });
      assert.deepEqual(all.address, [
        { address: '8.8.8.8', family: 4 },
        { address: '2606:4700:4700::1111', family: 6 },
      ]);
      await assert.rejects(lookupOnce(policy, 'missing.example', {}), { code: 'ENOTFOUND' });
    } finally {
      await policy.close?.();
    }
  });

  test('net.connect through the lookup never reaches a private peer behind a name', async () => {
    const received: string[] = [];
    const server = createServer();
    server.on('connection', () => received.push('connection'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const policy = createNetworkPolicy({ resolve: fakeResolver({ 'tcp.example': ['127.0.0.1'] }) });
    try {
      const socket = connect({ host: 'tcp.example', port, lookup: policy.lookup });
      const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [unknown];
      await refusal(Promise.reject(err));
      assert.deepEqual(received, []);
    } finally {
      server.close();
      await policy.close?.();
    }
  });
});

describe('TLS verification', () => {
  test('on by default; withoutTlsVerification() connects to a peer whose certificate does not verify', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-net-tls-'));
    const pki = await makeTestPki(dir);
    const server = createHttpsServer({ key: pki.serverKey, cert: pki.serverCert }, (_req, res) =>
      res.end('ok'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const policy = createNetworkPolicy({ allowPrivateNetworks: true });
    try {
      assert.notEqual(policy.tlsVerification, false);
      await assert.rejects(request(url, { dispatcher: policy.dispatcher }), (err: unknown) =>
        /certificate|UNABLE_TO_VERIFY/i.test(String((err as { code?: string }).code ?? err)),
      );
      const insecure = policy.withoutTlsVerification?.();
      assert.ok(insecure);
      assert.equal(insecure.tlsVerification, false);
      assert.equal(insecure.allowPrivateNetworks, true);
      assert.equal(policy.withoutTlsVerification?.(), insecure, 'one shared insecure policy');
      const response = await request(url, { dispatcher: insecure.dispatcher });
      assert.equal(await response.body.text(), 'ok');
    } finally {
      await policy.close?.();
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the insecure policy keeps the address rules', async () => {
    const policy = createNetworkPolicy({ resolve: fakeResolver({}) });
    try {
      const insecure = policy.withoutTlsVerification?.();
      assert.ok(insecure);
      await refusal(request('https://127.0.0.1:1/', { dispatcher: insecure.dispatcher }));
      await refusal(insecure.checkHost('169.254.169.254'));
    } finally {
      await policy.close?.();
    }
  });
});
