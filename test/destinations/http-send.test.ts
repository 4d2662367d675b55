import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { classifyConnectError } from '../../src/destinations/classify.js';
import { parseJsonResponse, sendHttp } from '../../src/destinations/http-send.js';
import { type NetworkPolicy, openNetworkPolicy } from '../../src/net/network-policy.js';
import type { MisbehavingServer } from '../helpers/misbehaving-server.js';
import {
  garbage,
  reset,
  respond,
  respondJson,
  stall,
  startMisbehavingServer,
  streamBody,
} from '../helpers/misbehaving-server.js';

const network = openNetworkPolicy();

describe('sendHttp against a misbehaving server', () => {
  let server: MisbehavingServer;
  before(async () => {
    server = await startMisbehavingServer();
  });
  after(async () => {
    await server.close();
    await network.dispatcher.close();
  });

  const send = (extra: Partial<Parameters<typeof sendHttp>[0]> = {}) =>
    sendHttp({
      url: `${server.url}/ingest`,
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
      network,
      signal: new AbortController().signal,
      timeoutMillis: 2000,
      ...extra,
    });

  test('2xx is delivered and the request arrives as sent', async () => {
    const before = server.requests.length;
    server.script(respond(204));
    const response = await send({
      bytes: 7,
      headers: { 'X-Custom': 'yes', 'content-type': 'application/json' },
    });
    assert.deepEqual(response.result, { outcome: 'delivered', bytes: 7 });
    assert.equal(response.status, 204);
    const recorded = server.requests[before];
    assert.ok(recorded);
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.url, '/ingest');
    assert.equal(recorded.headers['x-custom'], 'yes');
    assert.equal(recorded.headers['content-type'], 'application/json');
    assert.equal(recorded.bodyText, '{"a":1}');
    assert.match(recorded.headers['user-agent'] ?? '', /^flowstream\/\d+\.\d+\.\d+/);
  });

  test('bytes defaults to the uncompressed body length in bytes', async () => {
    server.script(respond(200));
    const response = await send({ body: '{"é":1}' });
    assert.deepEqual(response.result, { outcome: 'delivered', bytes: 8 });
  });

  test('gzip compresses the body and says so', async () => {
    const before = server.requests.length;
    server.script(respond(200));
    const body = JSON.stringify({ text: 'x'.repeat(10_000) });
    const response = await send({ body, gzip: true });
    assert.equal(response.result.outcome, 'delivered');
    const recorded = server.requests[before];
    assert.ok(recorded);
    assert.equal(recorded.headers['content-encoding'], 'gzip');
    assert.ok(recorded.rawBody.byteLength < 1000);
    assert.equal(recorded.bodyText, body);
    assert.equal(response.sentBytes, recorded.rawBody.byteLength);
  });

  test('503 with Retry-After is retryable after that delay, with the response kept', async () => {
    server.script(respond(503, 'overloaded', { 'retry-after': '7' }));
    const response = await send();
    assert.equal(response.result.outcome, 'retryable');
    assert.ok(response.result.outcome === 'retryable');
    assert.equal(response.result.retryAfterMillis, 7000);
    assert.equal(response.result.error.code, 'HTTP_503');
    assert.equal(response.result.error.response, 'overloaded');
  });

  test('429 is retryable', async () => {
    server.script(respond(429, '', { 'retry-after': '1' }));
    const response = await send();
    assert.equal(response.result.outcome, 'retryable');
  });

  test('400 is rejected, 401 fatal', async () => {
    server.script(respond(400, 'bad event'), respond(401));
    assert.equal((await send()).result.outcome, 'rejected');
    assert.equal((await send()).result.outcome, 'fatal');
  });

  test('a redirect is not followed and is fatal', async () => {
    const before = server.requests.length;
    server.script(respond(302, '', { location: `${server.url}/elsewhere` }));
    const response = await send();
    assert.equal(response.result.outcome, 'fatal');
    assert.equal(response.status, 302);
    // Let a follow-up request (if any were made) arrive before counting.
    server.script(respond(200));
    await send();
    assert.equal(server.requests.length, before + 2);
    assert.equal(server.requests[before + 1]?.url, '/ingest');
  });

  for (const when of ['on-headers', 'after-body'] as const) {
    test(`a connection reset (${when}) is retryable`, async () => {
      server.script(reset(when));
      const response = await send();
      assert.equal(response.result.outcome, 'retryable');
      assert.ok(response.result.outcome === 'retryable');
      assert.notEqual(response.result.error.code, 'TIMEOUT');
      assert.equal(response.status, undefined);
    });
  }

  test('a stalled peer is a TIMEOUT after timeoutMillis', async () => {
    server.script(stall());
    const response = await send({ timeoutMillis: 200 });
    assert.equal(response.result.outcome, 'retryable');
    assert.ok(response.result.outcome === 'retryable');
    assert.equal(response.result.error.code, 'TIMEOUT');
  });

  test('a body that stalls after a 200 is a TIMEOUT, not delivered', async () => {
    server.script(streamBody(200, 'x', 1000, 1000));
    const response = await send({ timeoutMillis: 300 });
    assert.equal(response.result.outcome, 'retryable');
    assert.ok(response.result.outcome === 'retryable');
    assert.equal(response.result.error.code, 'TIMEOUT');
    assert.equal(response.status, 200);
  });

  test("the caller's signal aborts the exchange", async () => {
    server.script(stall());
    const controller = new AbortController();
    const pending = send({ signal: controller.signal, timeoutMillis: 10_000 });
    await server.waitForRequests(server.requests.length + 1);
    controller.abort();
    const response = await pending;
    assert.equal(response.result.outcome, 'retryable');
  });

  test('an already aborted signal sends nothing', async () => {
    const before = server.requests.length;
    const response = await send({ signal: AbortSignal.abort() });
    assert.equal(response.result.outcome, 'retryable');
    assert.equal(server.requests.length, before);
  });

  test('a huge response body is cut at maxResponseBytes and not read to the end', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'y');
    const count = 16 * 1024; // 1 GiB offered
    const streamedBefore = server.bytesStreamed;
    server.script(streamBody(500, chunk, count));
    const response = await send({ maxResponseBytes: 1000 });
    assert.equal(response.result.outcome, 'retryable');
    assert.equal(response.responseBody?.length, 1000);
    assert.equal(response.responseTruncated, true);
    assert.ok(response.result.outcome === 'retryable');
    // The kept response in the error is capped at 2 KiB plus an ellipsis.
    assert.ok((response.result.error.response?.length ?? 0) <= 2049);
    // Give the server a moment to notice the closed socket, then check it was not drained.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(server.bytesStreamed - streamedBefore < (count * chunk.byteLength) / 4);
  });

  test('the default cap is 64 KiB', async () => {
    server.script(respond(200, 'z'.repeat(200_000)));
    const response = await send();
    assert.equal(response.result.outcome, 'delivered');
    assert.equal(response.responseBody?.length, 64 * 1024);
    assert.equal(response.responseTruncated, true);
  });

  test('garbage instead of HTTP is retryable', async () => {
    server.script(garbage());
    const response = await send();
    assert.equal(response.result.outcome, 'retryable');
  });

  test('a refused connection is retryable with the socket error code', async () => {
    const closed = await startMisbehavingServer();
    const url = `${closed.url}/x`;
    await closed.close();
    const response = await send({ url });
    assert.equal(response.result.outcome, 'retryable');
    assert.ok(response.result.outcome === 'retryable');
    assert.equal(response.result.error.code, 'ECONNREFUSED');
  });

  test('parseJsonResponse gives the parsed answer for protocol handling', async () => {
    server.script(respondJson(200, { text: 'Success', code: 0 }), respond(200, 'not json'));
    assert.deepEqual(parseJsonResponse(await send()), { text: 'Success', code: 0 });
    assert.equal(parseJsonResponse(await send()), undefined);
  });

  test('PUT is sent as PUT', async () => {
    const before = server.requests.length;
    server.script(respond(200));
    await send({ method: 'PUT' });
    assert.equal(server.requests[before]?.method, 'PUT');
  });
});

describe('sendHttp: failures that retrying will not fix', () => {
  test('a refusal by the network policy is fatal', async () => {
    const refusal = Object.assign(new Error('10.0.0.1 is a private address'), {
      name: 'ForbiddenDestinationError',
      code: 'FORBIDDEN_DESTINATION',
    });
    const policy: NetworkPolicy = {
      ...openNetworkPolicy(),
      allowPrivateNetworks: false,
      dispatcher: new Agent({ connect: (_options, callback) => callback(refusal, null) }),
    };
    try {
      const response = await sendHttp({
        url: 'http://10.0.0.1:9/x',
        headers: {},
        body: '{}',
        network: policy,
        signal: new AbortController().signal,
        timeoutMillis: 2000,
      });
      assert.equal(response.result.outcome, 'fatal');
      assert.ok(response.result.outcome === 'fatal');
      assert.equal(response.result.error.code, 'FORBIDDEN_DESTINATION');
    } finally {
      await policy.dispatcher.close();
    }
  });

  test('an HTTPS peer whose certificate does not verify is fatal', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'flowstream-tls-'));
    try {
      const made = spawnSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ]),
        { stdio: 'ignore' },
      );
      if (made.status !== 0) {
        t.skip('openssl is not available');
        return;
      }
      const server = createHttpsServer(
        { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
        (_req, res) => res.end(),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const policy = openNetworkPolicy();
      try {
        const response = await sendHttp({
          url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/x`,
          headers: {},
          body: '{}',
          network: policy,
          signal: new AbortController().signal,
          timeoutMillis: 2000,
        });
        assert.equal(response.result.outcome, 'fatal');
        assert.ok(response.result.outcome === 'fatal');
        assert.equal(response.result.error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      } finally {
        server.closeAllConnections();
        server.close();
        await policy.dispatcher.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('classifyConnectError keeps ordinary network errors retryable', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    assert.equal(classifyConnectError(reset).outcome, 'retryable');
    const wrapped = new Error('connect failed', {
      cause: Object.assign(new Error('refused'), { name: 'ForbiddenDestinationError' }),
    });
    assert.equal(classifyConnectError(wrapped).outcome, 'fatal');
  });
});
