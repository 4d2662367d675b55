/**
 * The counting receiver, run as its own process (bench/lib/receiver.ts forks it) so that its work
 * does not share an event loop with the posters or the service under test.
 *
 * argv[2] is a JSON `ReceiverOptions`. Every POST body is counted as lines: the number of "\n"
 * plus one when the body does not end with one (NDJSON from flowstream ends each line; syslog-ng's
 * http() joins batch lines with "\n" and ends without one). Counters are kept per request path.
 * `gzip` bodies are inflated first. With `latencyField`, every `"<field>":<number>` in a body is
 * read and `arrival - number` (milliseconds, wall clock) recorded.
 *
 * Messages from the parent: `{ type: 'stats', id }` → `{ type: 'stats', id, stats }`;
 * `{ type: 'latencies', id }` → `{ type: 'latencies', id, values }` (and forgets them).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';

export type ReceiverMode = 'count' | 'hec' | 'stall';

export interface ReceiverOptions {
  /** count: 200 with an empty body. hec: 200 `{"text":"Success","code":0}`. stall: never answers. */
  readonly mode: ReceiverMode;
  readonly latencyField?: string;
}

export interface ReceiverStats {
  readonly events: number;
  readonly requests: number;
  readonly bytes: number;
  /** Wall-clock milliseconds (fractional) of the first and the last body completely received. */
  readonly firstAtMillis: number | null;
  readonly lastAtMillis: number | null;
  readonly eventsByPath: Readonly<Record<string, number>>;
  /** Requests whose body could not be read (bad gzip). */
  readonly errors: number;
}

const options = JSON.parse(process.argv[2] ?? '{"mode":"count"}') as ReceiverOptions;
const HEC_SUCCESS = Buffer.from('{"text":"Success","code":0}');
const NEWLINE = 10;

let events = 0;
let requests = 0;
let bytes = 0;
let errors = 0;
let firstAtMillis: number | null = null;
let lastAtMillis: number | null = null;
const eventsByPath: Record<string, number> = {};
let latencies: number[] = [];
const latencyNeedle =
  options.latencyField === undefined ? undefined : Buffer.from(`"${options.latencyField}":`);

function nowMillis(): number {
  return performance.timeOrigin + performance.now();
}

function countLines(body: Buffer): number {
  if (body.length === 0) return 0;
  let lines = 0;
  let at = body.indexOf(NEWLINE);
  while (at !== -1) {
    lines++;
    at = body.indexOf(NEWLINE, at + 1);
  }
  return body[body.length - 1] === NEWLINE ? lines : lines + 1;
}

function recordLatencies(body: Buffer, arrival: number, needle: Buffer): void {
  let at = body.indexOf(needle);
  while (at !== -1) {
    let i = at + needle.length;
    let value = 0;
    let fraction = 0;
    let scale = 1;
    for (; i < body.length; i++) {
      const c = body[i] as number;
      if (c >= 48 && c <= 57) {
        if (scale === 1) value = value * 10 + (c - 48);
        else {
          fraction += (c - 48) * scale;
          scale /= 10;
        }
      } else if (c === 46 && scale === 1) scale = 0.1;
      else break;
    }
    latencies.push(arrival - (value + (scale === 1 ? 0 : fraction)));
    at = body.indexOf(needle, i);
  }
}

function onBody(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  const arrival = nowMillis();
  requests++;
  bytes += raw.length;
  let body = raw;
  if (req.headers['content-encoding'] === 'gzip') {
    try {
      body = gunzipSync(raw);
    } catch {
      errors++;
      res.writeHead(400).end();
      return;
    }
  }
  const n = countLines(body);
  events += n;
  const path = req.url ?? '/';
  eventsByPath[path] = (eventsByPath[path] ?? 0) + n;
  firstAtMillis ??= arrival;
  lastAtMillis = arrival;
  if (latencyNeedle !== undefined) recordLatencies(body, arrival, latencyNeedle);
  if (options.mode === 'stall') return;
  if (options.mode === 'hec') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': HEC_SUCCESS.length });
    res.end(HEC_SUCCESS);
  } else {
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  }
}

const sockets = new Set<Socket>();
const server = createServer(
  { requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 120_000 },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      onBody(req, res, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
  },
);
server.on('connection', (socket: Socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

function stats(): ReceiverStats {
  return { events, requests, bytes, firstAtMillis, lastAtMillis, eventsByPath: { ...eventsByPath }, errors };
}

process.on('message', (message: { type: string; id: number }) => {
  if (message.type === 'stats') process.send?.({ type: 'stats', id: message.id, stats: stats() });
  else if (message.type === 'latencies') {
    process.send?.({ type: 'latencies', id: message.id, values: latencies });
    latencies = [];
  }
});
// The parent went away (or closed us): stop at once, stalled sockets included.
process.on('disconnect', () => {
  for (const socket of sockets) socket.destroy();
  server.close();
  process.exit(0);
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port });
});
