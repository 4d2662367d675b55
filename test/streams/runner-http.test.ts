import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type NetworkPolicy, openNetworkPolicy } from '../../src/net/network-policy.js';
import { makeEvents } from './helpers/events.js';
import { Harness, makeStream } from './helpers/harness.js';
import { httpDestination } from './helpers/http-destination.js';
import { MemoryEventLog } from './helpers/memory-event-log.js';
import { waitFor } from './helpers/wait.js';

/**
 * The runner against a real HTTP server on 127.0.0.1:0 that misbehaves on purpose, through a
 * minimal undici destination that classifies answers with classifyHttpStatus.
 */

interface Arrival {
  readonly atMillis: number;
  readonly lines: readonly Record<string, unknown>[];
}

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  lines: Record<string, unknown>[],
  index: number,
) => void;

class Peer {
  readonly server: Server;
  readonly arrivals: Arrival[] = [];
  readonly sockets = new Set<Socket>();
  /** Events answered with 2xx, in order. */
  readonly accepted: Record<string, unknown>[] = [];
  handler: Handler = (_req, res) => res.end();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const lines = text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const index = this.arrivals.length;
        this.arrivals.push({ atMillis: Date.now(), lines });
        const end = res.end.bind(res);
        res.end = ((...args: Parameters<typeof res.end>) => {
          if (res.statusCode >= 200 && res.statusCode < 300) this.accepted.push(...lines);
          return end(...args);
        }) as typeof res.end;
        this.handler(req, res, lines, index);
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let h: Harness;
let log: MemoryEventLog;
let peer: Peer;
let url: string;
let network: NetworkPolicy;

beforeEach(async () => {
  log = new MemoryEventLog();
  h = new Harness(log);
  peer = new Peer();
  url = await peer.listen();
  network = openNetworkPolicy();
});

afterEach(async () => {
  await h.close();
  await peer.close();
  await network.dispatcher.close();
});

describe('StreamRunner over real HTTP', () => {
  test('429 with Retry-After: 1 → the next request arrives no earlier than 1 s later', async () => {
    peer.handler = (_req, res, _lines, index) => {
      if (index === 0) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end('slow down');
      } else res.end('ok');
    };
    await log.append(makeEvents(3));
    const runner = h.runner(makeStream(), httpDestination(url, network));
    runner.start();
    await waitFor(() => peer.accepted.length === 3, 'delivery after Retry-After');
    const [first, second] = peer.arrivals;
    assert.ok(first && second);
    assert.ok(
      second.atMillis - first.atMillis >= 1000,
      `second request ${second.atMillis - first.atMillis} ms after the first`,
    );
    assert.equal(peer.arrivals.length, 2);
    assert.deepEqual(
      peer.accepted.map((e) => e.n),
      [0, 1, 2],
    );
  });

  test('a connection reset mid-request is retried', async () => {
    peer.handler = (req, res, _lines, index) => {
      if (index === 0) req.socket.resetAndDestroy();
      else res.end('ok');
    };
    await log.append(makeEvents(2));
    const runner = h.runner(makeStream(), httpDestination(url, network));
    runner.start();
    await waitFor(() => peer.accepted.length === 2, 'delivery after the reset');
    assert.equal(peer.arrivals.length, 2);
    const code = runner.snapshot().lastError?.code ?? '';
    assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(code), `lastError ${code}`);
  });

  test('a server that stalls past requestTimeoutMillis: the request is aborted and retried', async () => {
    peer.handler = (_req, res, _lines, index) => {
      if (index !== 0) res.end('ok');
      // index 0: never answer
    };
    await log.append(makeEvents(2));
    const runner = h.runner(
      makeStream({ delivery: { requestTimeoutMillis: 300 } }),
      httpDestination(url, network),
    );
    runner.start();
    await waitFor(() => peer.accepted.length === 2, 'delivery after the stall');
    const [first, second] = peer.arrivals;
    assert.ok(first && second);
    assert.ok(second.atMillis - first.atMillis >= 290, 'retried only after the timeout');
    assert.equal(runner.snapshot().lastError?.code, 'TIMEOUT');
  });

  test('400 for a batch holding a poison event: bisected, the rest delivered in order', async () => {
    peer.handler = (_req, res, lines) => {
      if (lines.some((l) => l.n === 13)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"field flow_name is invalid"}');
      } else res.end('ok');
    };
    await log.append(makeEvents(40, { executions: 3 }));
    const runner = h.runner(makeStream({ delivery: { batchMaxEvents: 40 } }), httpDestination(url, network));
    runner.start();
    await waitFor(() => runner.snapshot().cursor === 40, 'cursor at 40');
    await runner.stop(1000);
    assert.deepEqual(
      peer.accepted.map((e) => e.n),
      Array.from({ length: 40 }, (_, i) => i).filter((n) => n !== 13),
    );
    const [dead] = h.store.getDeadLetters('s1');
    assert.equal(dead?.seq, 14);
    assert.equal(dead?.error.code, 'HTTP_400');
    assert.equal(dead?.error.status, 400);
    assert.equal(dead?.error.response, '{"error":"field flow_name is invalid"}');
  });

  test('401: DEGRADED with the status, then PAUSED; nothing delivered, cursor kept', async () => {
    peer.handler = (_req, res) => {
      res.writeHead(401);
      res.end('bad token');
    };
    await log.append(makeEvents(2));
    const runner = h.runner(
      makeStream({ delivery: { retryMaxMillis: 20, pauseAfterMillis: 150 } }),
      httpDestination(url, network),
    );
    runner.start();
    await waitFor(() => runner.paused, 'paused');
    assert.equal(runner.snapshot().lastError?.status, 401);
    assert.equal(h.store.getState('s1')?.cursor, 0);
    assert.equal(peer.accepted.length, 0);
  });
});
