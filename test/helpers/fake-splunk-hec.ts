import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Behaviour, MisbehavingServer, RecordedRequest } from './misbehaving-server.js';
import { custom, respondJson, startMisbehavingServer } from './misbehaving-server.js';

/**
 * A Splunk HTTP Event Collector on 127.0.0.1:0 that speaks the protocol as Splunk documents it
 * (REST API reference `services/collector/*`, "Format events for HTTP Event Collector",
 * "About HTTP Event Collector Indexer Acknowledgment", the table of HEC status codes):
 *
 * - `POST /services/collector/event` (also `/services/collector`, `/services/collector/event/1.0`):
 *   a body of JSON envelopes concatenated with or without whitespace, `Content-Encoding: gzip`
 *   accepted; `Authorization: Splunk <token>` (missing: 401 code 2; other scheme: 401 code 3;
 *   unknown token: 403 code 4; disabled token: 403 code 1); with acknowledgement on, the channel
 *   (`X-Splunk-Request-Channel` header or `?channel=`) is required (400 code 10) and must be a GUID
 *   (400 code 11); a body over `maxContentLength` as received: 413; an empty body: 400 code 5;
 *   an unparseable envelope: 400 code 6; no `event`: 400 code 12; a blank `event`: 400 code 13;
 *   an index the token may not write: 400 code 7; bad `fields`: 400 code 15 — each refusal of one
 *   event names it with `invalid-event-number` (0-based). Success: `{"text":"Success","code":0}`,
 *   plus `"ackId":n` (per channel, from 0) with acknowledgement on.
 * - `POST /services/collector/ack?channel=<guid>` with `{"acks":[n,...]}`:
 *   `{"acks":{"n":true|false}}`; an id answered `true` is forgotten (later polls say false), as in
 *   Splunk. With acknowledgement off: 400 code 14.
 * - `GET /services/collector/health[/1.0]`: 200 code 17, or 503 code 18 after `setHealthy(false)`.
 *
 * A rejected request indexes nothing (the fake is all-or-nothing; real HEC may keep the events
 * before the refused one, which is why the destination re-sends them rather than assuming them).
 *
 * Misbehaviour comes from the underlying MisbehavingServer: `hec.script(hecAnswer(9), reset())`
 * makes the next two requests (to any endpoint, polls included) get "Server is busy" and a reset.
 */

/** HEC codes as Splunk documents them: HTTP status and text. */
const HEC: Readonly<Record<number, readonly [number, string]>> = {
  0: [200, 'Success'],
  1: [403, 'Token disabled'],
  2: [401, 'Token is required'],
  3: [401, 'Invalid authorization'],
  4: [403, 'Invalid token'],
  5: [400, 'No data'],
  6: [400, 'Invalid data format'],
  7: [400, 'Incorrect index'],
  8: [500, 'Internal server error'],
  9: [503, 'Server is busy'],
  10: [400, 'Data channel is missing'],
  11: [400, 'Invalid data channel'],
  12: [400, 'Event field is required'],
  13: [400, 'Event field cannot be blank'],
  14: [400, 'ACK is disabled'],
  15: [400, 'Error in handling indexed fields'],
  16: [400, 'Query string authorization is not enabled'],
  17: [200, 'HEC is healthy'],
  18: [503, 'HEC is unhealthy, queues are full'],
  19: [503, 'HEC is unhealthy, ack service unavailable'],
  20: [503, 'HEC is unhealthy, queues are full, ack service unavailable'],
  21: [400, 'Invalid token'],
  22: [400, 'Token disabled'],
  23: [503, 'Server is shutting down'],
  24: [200, 'HEC queue is approaching its capacity limit'],
  25: [200, 'HEC ACK is approaching its capacity limit'],
  26: [429, 'HEC queue is at capacity and cannot process any more requests'],
  27: [429, 'HEC ACK channel is at capacity and cannot process any more requests'],
};

/** Splunk's answer for `code`, exactly (status and `{"text","code"}` body), for scripting. */
export function hecAnswer(
  code: number,
  extra: Readonly<Record<string, unknown>> = {},
  headers?: Readonly<Record<string, string>>,
): Behaviour {
  const known = HEC[code];
  if (known === undefined) throw new RangeError(`no HEC code ${code}`);
  return respondJson(known[0], { text: known[1], code, ...extra }, headers);
}

export type AckMode =
  /** Acknowledged by the first poll. */
  | { readonly kind: 'immediate' }
  /** Acknowledged `millis` after the batch was accepted. */
  | { readonly kind: 'after'; readonly millis: number }
  /** Never acknowledged. */
  | { readonly kind: 'never' };

export interface FakeSplunkHecOptions {
  /** Default `00000000-0000-4000-8000-000000000000`. */
  readonly token?: string;
  /** The token's "Enable indexer acknowledgement". Default false. */
  readonly indexerAcknowledgement?: boolean;
  /** Indexes the token may write; omitted: any. */
  readonly allowedIndexes?: readonly string[];
  /** `max_content_length` (limits.conf), on the body as received. Default 1000000. */
  readonly maxContentLength?: number;
  readonly tokenDisabled?: boolean;
}

export interface IndexedEvent {
  /** The whole envelope, parsed. */
  readonly envelope: Readonly<Record<string, unknown>>;
  /** The envelope's text as received. */
  readonly text: string;
  readonly channel: string | undefined;
  readonly ackId: number | undefined;
}

export interface FakeSplunkHec {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Events accepted, in order (with acknowledgement on, whether acked yet or not). */
  readonly events: readonly IndexedEvent[];
  /** Every request received (event posts, ack polls, health checks), in order. */
  readonly requests: readonly RecordedRequest[];
  readonly eventRequests: readonly RecordedRequest[];
  readonly ackRequests: readonly RecordedRequest[];
  readonly server: MisbehavingServer;
  /** The protocol behaviour (the server's default), to restore after `server.always(...)`. */
  readonly protocol: Behaviour;
  /** Scripted misbehaviour for the next requests (see MisbehavingServer.script). */
  script(...behaviours: Behaviour[]): void;
  setAckMode(mode: AckMode): void;
  setHealthy(healthy: boolean): void;
  close(): Promise<void>;
}

const DEFAULT_TOKEN = '00000000-0000-4000-8000-000000000000';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_PATHS = new Set([
  '/services/collector',
  '/services/collector/event',
  '/services/collector/event/1.0',
]);
const ACK_PATHS = new Set(['/services/collector/ack', '/services/collector/ack/1.0']);
const HEALTH_PATHS = new Set(['/services/collector/health', '/services/collector/health/1.0']);

export async function startFakeSplunkHec(options: FakeSplunkHecOptions = {}): Promise<FakeSplunkHec> {
  const token = options.token ?? DEFAULT_TOKEN;
  const ackEnabled = options.indexerAcknowledgement === true;
  const maxContentLength = options.maxContentLength ?? 1_000_000;
  const events: IndexedEvent[] = [];
  /** Per channel: the next ack id and, per pending id, when it becomes acknowledged. */
  const channels = new Map<string, { next: number; pending: Map<number, number> }>();
  let ackMode: AckMode = { kind: 'immediate' };
  let healthy = true;

  const send = (res: ServerResponse, code: number, extra: Record<string, unknown> = {}): void => {
    const [status, text] = HEC[code] ?? [500, 'Internal server error'];
    const body = JSON.stringify({ text, code, ...extra });
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(body);
  };

  const authorize = (req: IncomingMessage, res: ServerResponse): boolean => {
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      send(res, 2);
      return false;
    }
    const match = /^Splunk (.+)$/.exec(header);
    if (match === null) {
      send(res, 3);
      return false;
    }
    if (match[1] !== token) {
      send(res, 4);
      return false;
    }
    if (options.tokenDisabled === true) {
      send(res, 1);
      return false;
    }
    return true;
  };

  const channelOf = (req: IncomingMessage, url: URL): string | undefined => {
    const header = req.headers['x-splunk-request-channel'];
    if (typeof header === 'string' && header !== '') return header;
    return url.searchParams.get('channel') ?? undefined;
  };

  const handleEvents = (
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
    url: URL,
  ): void => {
    if (!authorize(req, res)) return;
    const channel = channelOf(req, url);
    if (ackEnabled) {
      if (channel === undefined) {
        send(res, 10);
        return;
      }
      if (!GUID.test(channel)) {
        send(res, 11);
        return;
      }
    }
    if (recorded.rawBody.byteLength > maxContentLength) {
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end(`Content-Length of ${recorded.rawBody.byteLength} too large (maximum is ${maxContentLength})`);
      return;
    }
    const text = recorded.bodyText;
    if (text.trim() === '') {
      send(res, 5);
      return;
    }
    const split = splitConcatenatedJson(text);
    if ('errorAt' in split) {
      send(res, 6, { 'invalid-event-number': split.errorAt });
      return;
    }
    const accepted: { envelope: Record<string, unknown>; text: string }[] = [];
    for (let i = 0; i < split.values.length; i++) {
      const part = split.values[i] as { value: unknown; text: string };
      const envelope = part.value;
      if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
        send(res, 6, { 'invalid-event-number': i });
        return;
      }
      const record = envelope as Record<string, unknown>;
      if (!('event' in record)) {
        send(res, 12, { 'invalid-event-number': i });
        return;
      }
      const event = record.event;
      if (event === null || (typeof event === 'string' && event.trim() === '')) {
        send(res, 13, { 'invalid-event-number': i });
        return;
      }
      const time = record.time;
      if (
        time !== undefined &&
        typeof time !== 'number' &&
        !(typeof time === 'string' && /^\d+(\.\d+)?$/.test(time))
      ) {
        send(res, 6, { 'invalid-event-number': i });
        return;
      }
      const index = record.index;
      if (index !== undefined && options.allowedIndexes !== undefined) {
        if (typeof index !== 'string' || !options.allowedIndexes.includes(index)) {
          send(res, 7, { 'invalid-event-number': i });
          return;
        }
      }
      if (record.fields !== undefined && !validFields(record.fields)) {
        send(res, 15, { 'invalid-event-number': i });
        return;
      }
      accepted.push({ envelope: record, text: part.text });
    }
    let ackId: number | undefined;
    if (ackEnabled && channel !== undefined) {
      let state = channels.get(channel);
      if (state === undefined) {
        state = { next: 0, pending: new Map() };
        channels.set(channel, state);
      }
      ackId = state.next++;
      const readyAt =
        ackMode.kind === 'immediate'
          ? 0
          : ackMode.kind === 'after'
            ? Date.now() + ackMode.millis
            : Number.POSITIVE_INFINITY;
      state.pending.set(ackId, readyAt);
    }
    for (const one of accepted) events.push({ envelope: one.envelope, text: one.text, channel, ackId });
    send(res, 0, ackId === undefined ? {} : { ackId });
  };

  const handleAck = (
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
    url: URL,
  ): void => {
    if (!authorize(req, res)) return;
    if (!ackEnabled) {
      send(res, 14);
      return;
    }
    const channel = channelOf(req, url);
    if (channel === undefined) {
      send(res, 10);
      return;
    }
    if (!GUID.test(channel)) {
      send(res, 11);
      return;
    }
    let ids: unknown;
    try {
      ids = (JSON.parse(recorded.bodyText) as { acks?: unknown }).acks;
    } catch {
      send(res, 6);
      return;
    }
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && (id as number) >= 0)) {
      send(res, 6);
      return;
    }
    const state = channels.get(channel);
    const acks: Record<string, boolean> = {};
    for (const id of ids as number[]) {
      const readyAt = state?.pending.get(id);
      const done = readyAt !== undefined && Date.now() >= readyAt;
      if (done) state?.pending.delete(id);
      acks[String(id)] = done;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ acks }));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest): void => {
    const url = new URL(recorded.url, 'http://fake-hec');
    const path = url.pathname.replace(/\/+$/, '');
    if (HEALTH_PATHS.has(path) && req.method === 'GET') {
      send(res, healthy ? 17 : 18);
      return;
    }
    if (EVENT_PATHS.has(path) && req.method === 'POST') {
      handleEvents(req, res, recorded, url);
      return;
    }
    if (ACK_PATHS.has(path) && req.method === 'POST') {
      handleAck(req, res, recorded, url);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ text: 'The requested URL was not found on this server.', code: 404 }));
  };

  const protocol = custom(handle);
  const server = await startMisbehavingServer({ default: protocol });
  const byPath = (paths: ReadonlySet<string>) =>
    server.requests.filter((r) => paths.has(new URL(r.url, 'http://fake-hec').pathname.replace(/\/+$/, '')));

  return {
    url: server.url,
    port: server.port,
    token,
    events,
    get requests() {
      return server.requests;
    },
    get eventRequests() {
      return byPath(EVENT_PATHS);
    },
    get ackRequests() {
      return byPath(ACK_PATHS);
    },
    server,
    protocol,
    script: (...behaviours) => server.script(...behaviours),
    setAckMode(mode) {
      ackMode = mode;
    },
    setHealthy(value) {
      healthy = value;
    },
    close: () => server.close(),
  };
}

function validFields(fields: unknown): boolean {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return false;
  return Object.values(fields).every(
    (value) =>
      typeof value === 'string' ||
      typeof value === 'number' ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')),
  );
}

/**
 * JSON values concatenated with optional whitespace between them (how HEC batches events), or the
 * 0-based position of the first one that does not parse.
 */
export function splitConcatenatedJson(
  text: string,
): { readonly values: readonly { value: unknown; text: string }[] } | { readonly errorAt: number } {
  // Fast path for the common layout, one envelope per line; anything else takes the scanner.
  const lines = text.split('\n');
  const quick: { value: unknown; text: string }[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('{')) break;
    try {
      quick.push({ value: JSON.parse(trimmed) as unknown, text: trimmed });
    } catch {
      break;
    }
  }
  if (quick.length === lines.filter((line) => line.trim() !== '').length) return { values: quick };
  return scanConcatenatedJson(text);
}

function scanConcatenatedJson(
  text: string,
): { readonly values: readonly { value: unknown; text: string }[] } | { readonly errorAt: number } {
  const values: { value: unknown; text: string }[] = [];
  let i = 0;
  const n = text.length;
  while (true) {
    while (i < n && /\s/.test(text[i] as string)) i++;
    if (i >= n) return { values };
    const start = i;
    const open = text[i];
    if (open !== '{' && open !== '[') return { errorAt: values.length };
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
    if (depth !== 0) return { errorAt: values.length };
    const slice = text.slice(start, i);
    try {
      values.push({ value: JSON.parse(slice) as unknown, text: slice });
    } catch {
      return { errorAt: values.length };
    }
  }
}
