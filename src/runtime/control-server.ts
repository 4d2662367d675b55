import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlowRuntimeError, type RuntimeErrorCode } from './errors.js';
import type { FlowRuntime } from './flow-runtime.js';

/**
 * The runtime's own small HTTP surface: Okta's API Endpoint trigger and the execution controls of
 * Workflows' console, on a `node:http` server (127.0.0.1:0 by default). flowstream's service does
 * not host these routes; the demo starts this server next to the runtime.
 *
 *   POST /flows/{flowId}/invoke[?wait=true]   body: a JSON object (the flow's input), may be empty
 *        → 202 {"executionId"}; with wait=true → 200 {"executionId","status","output"|"error",…}
 *   POST /executions/{executionId}/cancel     → 202 {"executionId","canceled":true}
 *   POST /executions/{executionId}/resume     → 202 {"executionId","resumed":true}
 *   GET  /executions                          → 200 {"executions":[…]} (running now)
 *
 * Errors use Okta's shape `{"errorCode","errorSummary","errorCauses":[]}`: 400 (body not a JSON
 * object), 401 (token), 404 (no such flow / not an API endpoint flow / no such running execution),
 * 405, 413 (body over `maxBodyBytes`), 503 (runtime stopped).
 * With `token`, requests need `Authorization: Bearer <token>` or `x-api-client-token: <token>`
 * (Okta's client token header).
 */

export interface ControlServerOptions {
  readonly runtime: FlowRuntime;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** When set, every request must carry it. Default: none (bind to loopback). */
  readonly token?: string;
  /** Largest request body, bytes. Default 65536. */
  readonly maxBodyBytes?: number;
}

export interface ControlServer {
  /** `http://host:port` as bound. */
  readonly url: string;
  /** Stops listening and closes connections. Idempotent. */
  close(): Promise<void>;
}

const STATUS_BY_CODE: Readonly<Record<RuntimeErrorCode, number>> = {
  RUNTIME_INVALID_DEFINITION: 500,
  RUNTIME_INVALID_OPTION: 500,
  RUNTIME_UNKNOWN_FLOW: 404,
  RUNTIME_NOT_INVOCABLE: 404,
  RUNTIME_STOPPED: 503,
};

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      // Past the limit the rest is drained and dropped, so the 413 reaches the client.
      if (size > maxBytes) {
        chunks.length = 0;
        reject(new HttpProblem(413, 'E0000004', `the request body is over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sameToken(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined) return false;
  const buffer = Buffer.from(given);
  return buffer.length === expected.length && timingSafeEqual(buffer, expected);
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { runtime } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const expected = options.token === undefined ? undefined : Buffer.from(options.token);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (expected !== undefined) {
      const header = req.headers.authorization;
      const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      const client = req.headers['x-api-client-token'];
      if (
        !sameToken(bearer, expected) &&
        !sameToken(typeof client === 'string' ? client : undefined, expected)
      ) {
        throw new HttpProblem(401, 'E0000011', 'Invalid token provided');
      }
    }
    const url = new URL(req.url ?? '/', 'http://control');
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    if (parts.length === 1 && parts[0] === 'executions') {
      if (req.method !== 'GET') throw new HttpProblem(405, 'E0000022', 'use GET /executions');
      send(res, 200, { executions: runtime.list() });
      return;
    }
    if (parts.length !== 3 || req.method !== 'POST') {
      if (parts.length === 3 && (parts[0] === 'flows' || parts[0] === 'executions')) {
        throw new HttpProblem(405, 'E0000022', `use POST ${url.pathname}`);
      }
      throw new HttpProblem(404, 'E0000007', `no route ${req.method} ${url.pathname}`);
    }
    const [kind, id, action] = parts as [string, string, string];
    if (kind === 'flows' && action === 'invoke') {
      const text = await readBody(req, maxBodyBytes);
      let input: unknown = {};
      if (text.trim() !== '') {
        try {
          input = JSON.parse(text) as unknown;
        } catch {
          throw new HttpProblem(400, 'E0000003', 'the request body is not valid JSON');
        }
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new HttpProblem(400, 'E0000003', "the request body must be a JSON object (the flow's input)");
      }
      const run = runtime.invoke(id, input as Record<string, unknown>);
      if (url.searchParams.get('wait') !== 'true') {
        send(res, 202, { executionId: run.executionId });
        return;
      }
      send(res, 200, await run.result);
      return;
    }
    if (kind === 'executions' && (action === 'cancel' || action === 'resume')) {
      req.resume();
      const done = action === 'cancel' ? runtime.cancel(id) : runtime.resume(id);
      if (!done) {
        throw new HttpProblem(
          404,
          'E0000007',
          action === 'cancel'
            ? `no running execution ${id}`
            : `no execution ${id} is waiting in a pause card`,
        );
      }
      send(res, 202, { executionId: id, [action === 'cancel' ? 'canceled' : 'resumed']: true });
      return;
    }
    throw new HttpProblem(404, 'E0000007', `no route ${req.method} ${url.pathname}`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      let status = 500;
      let errorCode = 'E0000009';
      let summary = 'Internal Server Error';
      if (err instanceof HttpProblem) {
        status = err.status;
        errorCode = err.errorCode;
        summary = err.message;
      } else if (err instanceof FlowRuntimeError) {
        status = STATUS_BY_CODE[err.code];
        errorCode = err.code;
        summary = err.message;
      }
      if (!res.headersSent) send(res, status, { errorCode, errorSummary: summary, errorCauses: [] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
