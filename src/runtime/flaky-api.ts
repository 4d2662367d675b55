import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The demo's third party: a small HR system ("HR Cloud") on a real `node:http` server on
 * 127.0.0.1:0 that misbehaves the way real SaaS APIs do:
 * - a request quota per window (default 2 per second); past it, 429 with `Retry-After` in whole
 *   seconds until the window resets (at least 1) and an Okta-style error body;
 * - a share of requests (default 15 %) answered 500 with an error body (a flaky upstream);
 * - otherwise 200 with JSON.
 * Routes: `GET /v1/employees/{id}`, `POST|PUT /v1/employees/{id}`; anything else 404.
 */

export interface FlakyApiOptions {
  /** Requests allowed per window before 429s. Default 2. */
  readonly quotaPerWindow?: number;
  /** Window length, ms. Default 1000. */
  readonly windowMillis?: number;
  /** Share of requests within quota answered 500, in [0, 1]. Default 0.15. */
  readonly failureRate?: number;
  /** Default `Math.random`. */
  readonly random?: () => number;
  /** Default `Date.now` (the demo passes its runtime's clock so windows and backoffs agree). */
  readonly now?: () => number;
}

export interface FlakyApiStats {
  readonly requests: number;
  /** Answers by HTTP status. */
  readonly byStatus: Readonly<Record<string, number>>;
}

export interface FlakyApi {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  stats(): FlakyApiStats;
  /** Closes the server and its connections. Idempotent. */
  close(): Promise<void>;
}

const EMPLOYEE_PATH = /^\/v1\/employees\/([A-Za-z0-9._-]{1,64})$/;

export async function startFlakyApi(options: FlakyApiOptions = {}): Promise<FlakyApi> {
  const quota = options.quotaPerWindow ?? 2;
  const windowMillis = options.windowMillis ?? 1000;
  const failureRate = options.failureRate ?? 0.15;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  let requests = 0;
  const byStatus: Record<string, number> = {};

  const server: Server = createServer((req, res) => {
    // The body is read and ignored: a real API would parse it; the demo only needs the exchange.
    req.resume();
    req.on('end', () => {
      requests++;
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const match = EMPLOYEE_PATH.exec(req.url ?? '');
      if (match === null || !['GET', 'POST', 'PUT'].includes(req.method ?? '')) {
        answer(404, { errorCode: 'NOT_FOUND', errorSummary: `no route ${req.method} ${req.url}` });
        return;
      }
      const time = now();
      if (time - windowStart >= windowMillis) {
        windowStart = time;
        used = 0;
      }
      if (used >= quota) {
        const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + windowMillis - time) / 1000));
        answer(
          429,
          { errorCode: 'RATE_LIMITED', errorSummary: `Too many requests: ${quota} per ${windowMillis} ms` },
          { 'retry-after': String(retryAfterSeconds) },
        );
        return;
      }
      used++;
      if (random() < failureRate) {
        answer(500, {
          errorCode: 'HR_UPSTREAM_TIMEOUT',
          errorSummary: 'The HR database did not answer in time',
        });
        return;
      }
      const id = match[1] as string;
      answer(200, req.method === 'GET' ? { id, status: 'active' } : { id, status: 'updated' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, byStatus: { ...byStatus } }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
