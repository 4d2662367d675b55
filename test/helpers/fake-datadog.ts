import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Behaviour, MisbehavingServer, RecordedRequest } from './misbehaving-server.js';
import { custom, respondJson, startMisbehavingServer } from './misbehaving-server.js';

/**
 * The Datadog Logs intake (`POST /api/v2/logs`, Datadog API reference "Send logs") on
 * 127.0.0.1:0, with its documented limits and answers:
 *
 * - `DD-API-KEY` missing: 401; unknown: 403.
 * - Body (gzip-decoded when `Content-Encoding: gzip`): a JSON array of log objects, or one object.
 *   Not JSON, or entries that are not objects: 400.
 * - Over 5 MB uncompressed (`maxPayloadBytes`) or over 1000 entries (`maxEntries`): 413.
 * - An entry over 1 MB (`maxEntryBytes`) is accepted and truncated, as Datadog does; it is
 *   recorded with `truncated: true`.
 * - Otherwise 202 `{}`, and every entry is recorded in `logs`.
 *
 * Error bodies follow the v2 API's shape, `{"errors":[{"status","title","detail"}]}`. Misbehaviour
 * (429 with Retry-After, 5xx, resets, stalls) comes from the underlying MisbehavingServer:
 * `dd.script(datadogAnswer(429, { 'retry-after': '3' }), reset())`.
 */

export interface FakeDatadogOptions {
  /** Default `0123456789abcdef0123456789abcdef`. */
  readonly apiKey?: string;
  readonly maxPayloadBytes?: number;
  readonly maxEntries?: number;
  readonly maxEntryBytes?: number;
}

export interface ReceivedLog {
  readonly log: Readonly<Record<string, unknown>>;
  readonly truncated: boolean;
}

export interface FakeDatadog {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Every accepted log entry, in order. */
  readonly logs: readonly ReceivedLog[];
  readonly requests: readonly RecordedRequest[];
  readonly server: MisbehavingServer;
  /** The protocol behaviour (the server's default), to restore after `server.always(...)`. */
  readonly protocol: Behaviour;
  script(...behaviours: Behaviour[]): void;
  close(): Promise<void>;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An answer in the intake's error shape, for scripting (`datadogAnswer(429, {'retry-after': '3'})`). */
export function datadogAnswer(
  status: number,
  headers?: Readonly<Record<string, string>>,
  detail?: string,
): Behaviour {
  if (status === 202) return respondJson(202, {}, headers);
  const title = TITLES[status] ?? 'Error';
  return respondJson(
    status,
    { errors: [{ status: String(status), title, ...(detail === undefined ? {} : { detail }) }] },
    headers,
  );
}

export async function startFakeDatadog(options: FakeDatadogOptions = {}): Promise<FakeDatadog> {
  const apiKey = options.apiKey ?? '0123456789abcdef0123456789abcdef';
  const maxPayloadBytes = options.maxPayloadBytes ?? 5_000_000;
  const maxEntries = options.maxEntries ?? 1000;
  const maxEntryBytes = options.maxEntryBytes ?? 1_000_000;
  const logs: ReceivedLog[] = [];

  const fail = (res: ServerResponse, status: number, detail: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ errors: [{ status: String(status), title: TITLES[status] ?? 'Error', detail }] }),
    );
  };

  const handle = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest): void => {
    const path = new URL(recorded.url, 'http://fake-datadog').pathname;
    if (req.method !== 'POST' || path !== '/api/v2/logs') {
      fail(res, 404, 'Not found');
      return;
    }
    const key = req.headers['dd-api-key'];
    if (typeof key !== 'string' || key === '') {
      fail(res, 401, 'API key is missing');
      return;
    }
    if (key !== apiKey) {
      fail(res, 403, 'Forbidden: invalid API key');
      return;
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'gzip' && encoding !== 'identity') {
      fail(res, 400, `unsupported content encoding ${encoding}`);
      return;
    }
    if (encoding === 'gzip' && recorded.body === recorded.rawBody && recorded.rawBody.byteLength > 0) {
      fail(res, 400, 'the body is not gzip');
      return;
    }
    if (recorded.body.byteLength > maxPayloadBytes) {
      fail(res, 413, `payload of ${recorded.body.byteLength} bytes is above ${maxPayloadBytes}`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(recorded.bodyText);
    } catch {
      fail(res, 400, 'the body is not JSON');
      return;
    }
    const entries = Array.isArray(parsed) ? parsed : [parsed];
    if (entries.length > maxEntries) {
      fail(res, 413, `${entries.length} entries is above ${maxEntries}`);
      return;
    }
    if (!entries.every((entry) => typeof entry === 'object' && entry !== null && !Array.isArray(entry))) {
      fail(res, 400, 'every log must be a JSON object');
      return;
    }
    for (const entry of entries as Record<string, unknown>[]) {
      logs.push({ log: entry, truncated: Buffer.byteLength(JSON.stringify(entry)) > maxEntryBytes });
    }
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end('{}');
  };

  const protocol = custom(handle);
  const server = await startMisbehavingServer({ default: protocol });
  return {
    url: server.url,
    port: server.port,
    apiKey,
    logs,
    get requests() {
      return server.requests;
    },
    server,
    protocol,
    script: (...behaviours) => server.script(...behaviours),
    close: () => server.close(),
  };
}
