import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { webhookDestination } from '../../src/destinations/webhook.js';
import { createNetworkPolicy } from '../../src/net/network-policy.js';
import { securityWarnings, TLS_OFF } from '../../src/server/security-warnings.js';
import { syntheticTestEvent } from '../../src/server/synthetic-event.js';
import { StreamManager } from '../../src/streams/stream-manager.js';
import { makeTestPki } from '../integration/certificates.js';
import { silentLogger } from './helpers/harness.js';
import { MemoryEventLog } from './helpers/memory-event-log.js';

/**
 * TLS verification is on by default; a stream's `tls.insecureSkipVerify` turns it off for that
 * stream only (SPEC §4 / issue 6), and its health says so.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'fs-tls-opt-out-'));
let server: Server;
let url: string;
let received = 0;
let manager: StreamManager;

before(async () => {
  const pki = await makeTestPki(dir);
  // The server's certificate is signed by the test CA, which nothing trusts by default.
  server = createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  manager = new StreamManager({
    directory: path.join(dir, 'state'),
    log: new MemoryEventLog(),
    resolveDestination: (type) => (type === 'webhook' ? (webhookDestination as never) : undefined),
    network: createNetworkPolicy({ allowPrivateNetworks: true }),
    logger: silentLogger,
    registry: new Registry(),
    syntheticEvent: () => syntheticTestEvent(),
  });
  await manager.start();
});

after(async () => {
  await manager.stop(1000);
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an untrusted certificate is refused (fatal), and only the opted-out stream skips verification', async () => {
  const verified = await manager.create({
    id: 'verified',
    name: 'v',
    type: 'webhook',
    status: 'INACTIVE',
    settings: { url },
  });
  const result = await manager.test(verified.id);
  assert.equal(result.outcome, 'fatal', JSON.stringify(result));
  assert.equal(received, 0);
  assert.deepEqual(securityWarnings(verified), []);

  const insecure = await manager.create({
    id: 'insecure',
    name: 'i',
    type: 'webhook',
    status: 'INACTIVE',
    settings: { url },
    tls: { insecureSkipVerify: true },
  });
  assert.deepEqual(insecure.tls, { insecureSkipVerify: true });
  assert.equal((await manager.test(insecure.id)).outcome, 'delivered');
  assert.equal(received, 1);
  assert.deepEqual(securityWarnings(insecure), [TLS_OFF]);

  // The first stream still verifies: the opt-out is per stream, not global.
  assert.equal((await manager.test(verified.id)).outcome, 'fatal');
});
