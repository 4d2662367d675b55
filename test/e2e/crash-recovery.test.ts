import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { sampleEvent } from '../server/helpers/test-app.js';
import { type ServeProcess, startServe } from './helpers/serve-process.js';

/**
 * The durability promise of SPEC §3, tested on the real process: events are posted while `serve`
 * is SIGKILLed again and again (during ingest and during delivery); after a final restart, every
 * event that got a 202 reaches the webhook receiver (at least once).
 */

const TOKEN = 'crash-test-token-0123456789abcdef';
const dir = mkdtempSync(path.join(tmpdir(), 'fs-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function startReceiver(received: Set<string>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
        if (line.trim() !== '')
          received.add((JSON.parse(line) as { idempotency_key: string }).idempotency_key);
      }
      res.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest` };
}

test('every 202-acknowledged event is delivered across repeated SIGKILLs', { timeout: 120_000 }, async () => {
  const received = new Set<string>();
  const receiver = await startReceiver(received);
  const config = path.join(dir, 'flowstream.yaml');
  writeFileSync(
    config,
    [
      'server: { host: 127.0.0.1, port: 0 }',
      `storage: { path: ${JSON.stringify(path.join(dir, 'data'))} }`,
      'logging: { level: warn }',
      'network: { allowPrivateNetworks: true }',
      `auth: { tokens: [{ name: t, token: "${TOKEN}", org: "*", scopes: [events:write, streams:read, streams:write] }] }`,
      'streams:',
      '  - id: receiver',
      '    name: Receiver',
      '    type: webhook',
      `    settings: { url: ${JSON.stringify(receiver.url)}, format: ndjson }`,
      '    delivery: { batchMaxEvents: 200, batchTimeoutMillis: 20 }',
    ].join('\n'),
  );

  const acknowledged = new Set<string>();
  let n = 0;
  for (let round = 0; round < 5; round++) {
    const serve: ServeProcess = await startServe(['--config', config]);
    let killed = false;
    const poster = async (): Promise<void> => {
      while (!killed) {
        const batch = Array.from({ length: 50 }, () =>
          sampleEvent(++n, 'ORG_A', { idempotency_key: randomUUID() }),
        );
        try {
          const response = await request(`${serve.url}/api/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          await response.body.text();
          if (response.statusCode === 202)
            for (const e of batch) acknowledged.add(e.idempotency_key as string);
        } catch {
          return; // the process died under us: this batch was never acknowledged
        }
      }
    };
    const posters = [poster(), poster(), poster()];
    await sleep(300 + Math.floor(Math.random() * 700));
    killed = true;
    await serve.kill();
    await Promise.all(posters);
  }
  assert.ok(acknowledged.size > 500, `only ${acknowledged.size} events were acknowledged`);

  const final = await startServe(['--config', config]);
  try {
    const deadline = Date.now() + 60_000;
    const missing = (): string[] => [...acknowledged].filter((key) => !received.has(key));
    while (missing().length > 0 && Date.now() < deadline) await sleep(200);
    assert.deepEqual(missing().slice(0, 5), [], `${missing().length} acknowledged events never arrived`);
  } finally {
    await final.stop();
    receiver.server.close();
  }
});
