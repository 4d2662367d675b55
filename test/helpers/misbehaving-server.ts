import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A real `node:http` server on 127.0.0.1:0 that misbehaves on purpose, for destination tests.
 *
 *   const server = await startMisbehavingServer();
 *   server.script(respond(503, 'busy', { 'retry-after': '7' }), reset(), respond(200));
 *   // first request gets 503, second a TCP reset, third 200; then the default (200 '')
 *   ... send to server.url ...
 *   assert.equal(server.requests[2]?.bodyText, '...');
 *   await server.close();
 *
 * Each request takes the next scripted behaviour, or the default one (`always(...)`, initially
 * `respond(200)`) once the script is used up. Every request is recorded, in arrival order, when its
 * body has been read (or, for `reset('on-headers')`, when its headers arrived).
 */

export interface RecordedRequest {
  /** Arrival time, ms since the epoch. */
  readonly receivedAtMillis: number;
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as received (compressed when `content-encoding: gzip`). */
  readonly rawBody: Buffer;
  /** The body, gunzipped when `content-encoding: gzip`. */
  readonly body: Buffer;
  readonly bodyText: string;
  /** The behaviour this request received. */
  readonly behaviour: Behaviour;
}

export type Headers = Readonly<Record<string, string | readonly string[]>>;

export type Behaviour =
  /** Answer with a status, headers and body, after an optional delay. */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly headers?: Headers;
      readonly body?: string | Buffer;
      readonly delayMillis?: number;
    }
  /**
   * Send a TCP RST without answering: `on-headers` as soon as the request headers arrived (mid
   * request, body unread), `after-body` once the whole request was read (the peer may have
   * processed it). The client sees ECONNRESET (or a socket error).
   */
  | { readonly kind: 'reset'; readonly when: 'on-headers' | 'after-body' }
  /** Read the request and never answer; the socket stays open until the client gives up or close(). */
  | { readonly kind: 'stall' }
  /**
   * Answer status and headers at once, then write `chunk` `count` times with `chunkDelayMillis`
   * between writes, honouring backpressure; stops when the client goes away. For slow and huge
   * bodies. `server.bytesStreamed` counts what was written.
   */
  | {
      readonly kind: 'stream';
      readonly status: number;
      readonly headers?: Headers;
      readonly chunk: string | Buffer;
      readonly count: number;
      readonly chunkDelayMillis?: number;
    }
  /** Write bytes that are not HTTP on the socket, then close it. */
  | { readonly kind: 'garbage'; readonly data: string | Buffer }
  /** Anything else: full control of the response. */
  | {
      readonly kind: 'custom';
      readonly handle: (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void;
    };

export function respond(
  status: number,
  body?: string | Buffer,
  headers?: Headers,
  delayMillis?: number,
): Behaviour {
  return {
    kind: 'respond',
    status,
    ...(body === undefined ? {} : { body }),
    ...(headers === undefined ? {} : { headers }),
    ...(delayMillis === undefined ? {} : { delayMillis }),
  };
}

export function respondJson(status: number, value: unknown, headers?: Headers): Behaviour {
  return respond(status, JSON.stringify(value), { 'content-type': 'application/json', ...headers });
}

export function reset(when: 'on-headers' | 'after-body' = 'after-body'): Behaviour {
  return { kind: 'reset', when };
}

export function stall(): Behaviour {
  return { kind: 'stall' };
}

export function streamBody(
  status: number,
  chunk: string | Buffer,
  count: number,
  chunkDelayMillis?: number,
  headers?: Headers,
): Behaviour {
  return {
    kind: 'stream',
    status,
    chunk,
    count,
    ...(chunkDelayMillis === undefined ? {} : { chunkDelayMillis }),
    ...(headers === undefined ? {} : { headers }),
  };
}

export function garbage(data: string | Buffer = 'this is not HTTP at all\r\n\r\n'): Behaviour {
  return { kind: 'garbage', data };
}

export function custom(
  handle: (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void,
): Behaviour {
  return { kind: 'custom', handle };
}

export interface MisbehavingServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Recorded requests, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Bytes written so far by `stream` behaviours. */
  readonly bytesStreamed: number;
  /** Appends behaviours for the next requests, in order. */
  script(...behaviours: Behaviour[]): void;
  /** The behaviour once the script is used up (initially `respond(200)`). */
  always(behaviour: Behaviour): void;
  /** Resolves when at least `count` requests were recorded; rejects after `timeoutMillis` (default 5000). */
  waitForRequests(count: number, timeoutMillis?: number): Promise<readonly RecordedRequest[]>;
  /** Stops listening and destroys every open socket (stalled ones included). Idempotent. */
  close(): Promise<void>;
}

export async function startMisbehavingServer(
  options: { readonly default?: Behaviour } = {},
): Promise<MisbehavingServer> {
  const queue: Behaviour[] = [];
  let fallback: Behaviour = options.default ?? respond(200);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  let bytesStreamed = 0;
  let closed: Promise<void> | undefined;

  const record = (entry: RecordedRequest): void => {
    requests.push(entry);
    for (const wake of waiters) wake();
  };

  const later = (millis: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, millis);
    timer.unref();
    timers.add(timer);
  };

  const server: Server = createServer((req, res) => {
    const behaviour = queue.shift() ?? fallback;
    const receivedAtMillis = Date.now();
    const base = {
      receivedAtMillis,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      behaviour,
    };

    if (behaviour.kind === 'reset' && behaviour.when === 'on-headers') {
      record({ ...base, rawBody: Buffer.alloc(0), body: Buffer.alloc(0), bodyText: '' });
      req.socket.resetAndDestroy();
      return;
    }

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? tryGunzip(rawBody) : rawBody;
      const recorded: RecordedRequest = { ...base, rawBody, body, bodyText: body.toString('utf8') };
      record(recorded);
      act(behaviour, req, res, recorded);
    });
  });

  const act = (
    behaviour: Behaviour,
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
  ): void => {
    switch (behaviour.kind) {
      case 'respond': {
        const send = (): void => {
          if (res.destroyed) return;
          res.writeHead(behaviour.status, toOutgoing(behaviour.headers));
          res.end(behaviour.body ?? '');
        };
        if (behaviour.delayMillis === undefined) send();
        else later(behaviour.delayMillis, send);
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'stall':
        return;
      case 'stream':
        void streamOut(behaviour, res);
        return;
      case 'garbage':
        req.socket.end(behaviour.data);
        return;
      case 'custom':
        behaviour.handle(req, res, recorded);
        return;
    }
  };

  const streamOut = async (
    behaviour: Extract<Behaviour, { kind: 'stream' }>,
    res: ServerResponse,
  ): Promise<void> => {
    res.writeHead(behaviour.status, toOutgoing(behaviour.headers));
    // Status and headers go out now, before the first (possibly delayed) chunk.
    res.flushHeaders();
    const chunk = typeof behaviour.chunk === 'string' ? Buffer.from(behaviour.chunk) : behaviour.chunk;
    for (let i = 0; i < behaviour.count; i++) {
      if (res.destroyed || closed !== undefined) return;
      if (behaviour.chunkDelayMillis !== undefined) {
        await new Promise<void>((resolve) => later(behaviour.chunkDelayMillis ?? 0, resolve));
        if (res.destroyed || closed !== undefined) return;
      }
      bytesStreamed += chunk.byteLength;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
    if (!res.destroyed) res.end();
  };

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get bytesStreamed() {
      return bytesStreamed;
    },
    script(...behaviours) {
      queue.push(...behaviours);
    },
    always(behaviour) {
      fallback = behaviour;
    },
    waitForRequests(count, timeoutMillis = 5000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`expected ${count} requests, got ${requests.length} in ${timeoutMillis} ms`));
        }, timeoutMillis);
        timer.unref();
        const wake = (): void => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(requests);
        };
        waiters.add(wake);
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function tryGunzip(raw: Buffer): Buffer {
  try {
    return gunzipSync(raw);
  } catch {
    return raw;
  }
}

function toOutgoing(headers: Headers | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers))
    out[name] = typeof value === 'string' ? value : [...value];
  return out;
}
