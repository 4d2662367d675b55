import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { batchJsonBytes, eventLine } from '../formats/json-framing.js';
import { combineItemClasses, type ItemClass, truncateResponse } from './classify.js';
import type {
  DeliveryError,
  Destination,
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from './destination.js';
import { parseJsonResponse, sendHttp } from './http-send.js';

/**
 * `elasticsearch`: events as documents through the Bulk API (docs/destinations/elasticsearch.md).
 * Works with Elasticsearch 7.x/8.x/9.x and OpenSearch (same `_bulk` protocol).
 *
 * One `send` is one `POST {url}/_bulk` whose NDJSON body holds, per event, an action line and the
 * event's JSON (built by concatenation around the stored text, never re-serialized):
 *
 *   {"create":{"_index":"flowstream-2024.04.04","_id":"<idempotency_key>"}}\n<event json>\n
 *
 * Invariants:
 * - The action is always `create` with `_id` = the event's `idempotency_key`: a re-delivery (the
 *   runner is at-least-once) cannot make a second document. Elasticsearch answers a `create` of an
 *   existing `_id` with item status 409 `version_conflict_engine_exception`, which therefore means
 *   "already stored" and counts as delivered. `create` is also what data streams require.
 * - A bulk answer of 200 says nothing about the documents: each item has its own status. Items map
 *   to per-event outcomes (`partial`): 2xx and 409 delivered; 408/429/5xx retryable; problems of
 *   the stream's settings (401/403/404, a missing pipeline, an invalid index name, a write block)
 *   are never blamed on an event: they make the whole send `fatal` when nothing got through, else
 *   those events are retried; any other 4xx (`mapper_parsing_exception`, `document_parsing_exception`
 *   ...) rejects that one event (dead letter).
 * - Because re-sending is harmless, an answer that cannot be read item by item (truncated, not
 *   JSON, wrong number of items) is retryable, never delivered.
 */

/** Most events in one bulk request. */
export const MAX_BATCH_EVENTS = 10_000;
/** Default events per bulk request. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;
/** Default event JSON bytes per bulk request (and per event): 5 MiB, the size Elastic suggests starting from. */
export const DEFAULT_MAX_BATCH_BYTES = 5 * 1024 * 1024;
export const DEFAULT_INDEX = 'flowstream-%Y.%m.%d';
/** Elasticsearch refuses `_id`s longer than 512 bytes; longer keys are replaced by their SHA-256. */
export const MAX_ID_BYTES = 512;
/**
 * The bulk answer is read only as far as it tells each item's status: `filter_path` drops
 * `_index`, `_shards`, `_seq_no` ... (as Beats do), which makes it ~25 bytes per successful item.
 */
export const BULK_FILTER_PATH = 'errors,items.*.status,items.*.error.type,items.*.error.reason';

/** Item error types that are about the stream's settings or the cluster, not the event. */
const STREAM_ERROR_TYPES = new Set([
  'index_not_found_exception',
  'invalid_index_name_exception',
  'index_closed_exception',
  'cluster_block_exception',
  'security_exception',
]);
const STREAM_ERROR_STATUSES = new Set([401, 403, 404, 407]);
const PIPELINE_MISSING = /pipeline with id \[[^\]]*\] does not exist/;

/**
 * `%Y` `%m` `%d` `%H` (UTC, from the event's timestamp) in an otherwise valid index name: lower
 * case, digits and `.` `_` `-` `+`, not starting with `-` `_` `+`.
 */
const INDEX_PATTERN = '^(?![-_+])(?:[a-z0-9._+-]|%[YmdH])+$';

export const ElasticsearchSettingsSchema = Type.Object(
  {
    url: Type.String({
      // No user:password@ in the URL: credentials go in username/password or apiKey (secret).
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+(/[^?#\\s]*)?$',
      maxLength: 2048,
      description: 'Base URL of the cluster (or a proxy path prefix), e.g. https://es.example.com:9200.',
    }),
    index: Type.Optional(
      Type.String({
        pattern: INDEX_PATTERN,
        maxLength: 200,
        description: `Index or data stream name; %Y %m %d %H expand from the event timestamp (UTC). Default ${DEFAULT_INDEX}.`,
      }),
    ),
    username: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        pattern: '^[^:]*$',
        description: 'Basic authentication user.',
      }),
    ),
    password: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'Basic authentication password (secret).' }),
    ),
    apiKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: '^[A-Za-z0-9+/=_:-]+$',
        description: 'API key (secret): the `encoded` value, or `id:api_key`.',
      }),
    ),
    pipeline: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: '^[^\\s]+$',
        description: 'Ingest pipeline for every document.',
      }),
    ),
    timestampField: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: '^[^"\\\\\\u0000-\\u001f]+$',
        description:
          'Copy the event timestamp into this field (e.g. @timestamp, which data streams require).',
      }),
    ),
    gzip: Type.Optional(
      Type.Boolean({ description: 'Compress request bodies (Content-Encoding: gzip). Default false.' }),
    ),
    maxBatchEvents: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_BATCH_EVENTS,
        description: `Most events per bulk request. Default ${DEFAULT_MAX_BATCH_EVENTS}.`,
      }),
    ),
    maxBatchBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 100 * 1024 * 1024,
        description: 'Most bytes of event JSON per bulk request, and per event. Default 5 MiB.',
      }),
    ),
  },
  {
    additionalProperties: false,
    // Basic auth needs both halves; it and an API key are alternatives.
    dependencies: {
      username: ['password'],
      password: ['username'],
      apiKey: { properties: { username: false, password: false } },
    },
  },
);

export type ElasticsearchSettings = Static<typeof ElasticsearchSettingsSchema>;

/** A settings problem the schema alone cannot express (JSON Schema validators differ on `not`). */
export class ElasticsearchSettingsError extends Error {
  readonly code = 'ELASTICSEARCH_SETTINGS';
  override readonly name = 'ElasticsearchSettingsError';
}

export const elasticsearchDestination: DestinationDefinition<ElasticsearchSettings> = {
  type: 'elasticsearch',
  settingsSchema: ElasticsearchSettingsSchema,
  secretSettings: ['/password', '/apiKey'],
  targets: (settings) => [urlHost(settings.url)],
  create: (settings, context) => new ElasticsearchDestination(settings, context),
};

/** The `Authorization` header value for the settings, or undefined for none. */
export function authorizationHeader(
  settings: Pick<ElasticsearchSettings, 'username' | 'password' | 'apiKey'>,
): string | undefined {
  if (settings.apiKey !== undefined) {
    // `id:api_key` is encoded here; the `encoded` form from the create-API-key answer has no colon.
    const encoded = settings.apiKey.includes(':')
      ? Buffer.from(settings.apiKey, 'utf8').toString('base64')
      : settings.apiKey;
    return `ApiKey ${encoded}`;
  }
  if (settings.username !== undefined && settings.password !== undefined) {
    return `Basic ${Buffer.from(`${settings.username}:${settings.password}`, 'utf8').toString('base64')}`;
  }
  return undefined;
}

/**
 * The index name for an event: `%Y` `%m` `%d` `%H` from its timestamp in UTC. When the timestamp
 * is not a date (lenient ingest accepts such events), `nowMillis` is used instead.
 */
export function indexName(pattern: string, timestamp: string, nowMillis: number): string {
  if (!pattern.includes('%')) return pattern;
  const parsed = Date.parse(timestamp);
  const date = new Date(Number.isNaN(parsed) ? nowMillis : parsed);
  return pattern.replace(/%([YmdH])/g, (_, spec: string) => {
    switch (spec) {
      case 'Y':
        return String(date.getUTCFullYear()).padStart(4, '0');
      case 'm':
        return String(date.getUTCMonth() + 1).padStart(2, '0');
      case 'd':
        return String(date.getUTCDate()).padStart(2, '0');
      default:
        return String(date.getUTCHours()).padStart(2, '0');
    }
  });
}

/**
 * The document `_id`: the idempotency key; for an event without one, an id from its sequence
 * number (stable across re-deliveries); a key over 512 bytes, its SHA-256 in hex.
 */
export function documentId(event: Pick<OutboundEvent, 'idempotencyKey' | 'seq'>): string {
  const key = event.idempotencyKey !== '' ? event.idempotencyKey : `flowstream-seq-${event.seq}`;
  return Buffer.byteLength(key, 'utf8') <= MAX_ID_BYTES
    ? key
    : createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * `line` (one JSON object on one line) with `"<field>":<timestamp>` as its first member, unless
 * the object already has that member.
 */
export function withTimestampField(
  line: string,
  field: string,
  timestamp: string,
  event: Readonly<Record<string, unknown>>,
): string {
  if (Object.hasOwn(event, field)) return line;
  const open = line.indexOf('{');
  if (open === -1) return line;
  const rest = line.slice(open + 1);
  const member = `${JSON.stringify(field)}:${JSON.stringify(timestamp)}`;
  return `${line.slice(0, open + 1)}${member}${rest.trimStart().startsWith('}') ? '' : ','}${rest}`;
}

/** The NDJSON bulk body for `batch` (every line, the last included, ends with "\n"). */
export function bulkBody(
  batch: readonly OutboundEvent[],
  options: {
    readonly index: string;
    readonly format: DestinationContext['format'];
    readonly timestampField?: string;
  },
  nowMillis: number = Date.now(),
): string {
  const quotedIndex = new Map<string, string>();
  let body = '';
  for (const event of batch) {
    const index = indexName(options.index, event.timestamp, nowMillis);
    let quoted = quotedIndex.get(index);
    if (quoted === undefined) {
      quoted = JSON.stringify(index);
      quotedIndex.set(index, quoted);
    }
    let doc = eventLine(event, options.format);
    if (options.timestampField !== undefined) {
      // In the CloudEvents envelope the field goes on the envelope, the document's root.
      const root = options.format === 'cloudevents' ? {} : event.event;
      doc = withTimestampField(doc, options.timestampField, event.timestamp, root);
    }
    body += `{"create":{"_index":${quoted},"_id":${JSON.stringify(documentId(event))}}}\n${doc}\n`;
  }
  return body;
}

/** One bulk item (`{"create": {"status": 409, "error": {...}}}`) as an outcome for its event. */
export function classifyBulkItem(item: unknown): ItemClass {
  const body = isObject(item) ? Object.values(item)[0] : undefined;
  const status = isObject(body) && typeof body.status === 'number' ? body.status : undefined;
  if (status === undefined) {
    return { kind: 'retryable', error: { code: 'ES_BAD_RESPONSE', message: 'a bulk item without a status' } };
  }
  // 409 on `create`: the document exists, i.e. an earlier delivery stored it.
  if ((status >= 200 && status < 300) || status === 409) return { kind: 'delivered' };
  const cause = isObject(body) && isObject(body.error) ? body.error : {};
  const type = typeof cause.type === 'string' ? cause.type : `status_${status}`;
  const reason = typeof cause.reason === 'string' ? cause.reason : '';
  const error: DeliveryError = {
    code: `ES_${type.toUpperCase()}`,
    message: reason === '' ? `Elasticsearch refused the document (${status} ${type})` : `${type}: ${reason}`,
    status,
    response: truncateResponse(JSON.stringify(cause)),
  };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retryable', error };
  if (STREAM_ERROR_STATUSES.has(status) || STREAM_ERROR_TYPES.has(type) || PIPELINE_MISSING.test(reason)) {
    return { kind: 'stream', error };
  }
  return { kind: 'rejected', error };
}

class ElasticsearchDestination implements Destination {
  readonly maxBatchEvents: number;
  readonly maxBatchBytes: number;
  readonly maxEventBytes: number;
  private readonly bulkUrl: URL;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly index: string;

  constructor(
    private readonly settings: ElasticsearchSettings,
    private readonly context: DestinationContext,
  ) {
    if (
      settings.apiKey !== undefined &&
      (settings.username !== undefined || settings.password !== undefined)
    ) {
      throw new ElasticsearchSettingsError('elasticsearch: set either apiKey or username/password, not both');
    }
    if ((settings.username === undefined) !== (settings.password === undefined)) {
      throw new ElasticsearchSettingsError('elasticsearch: username and password go together');
    }
    this.maxBatchEvents = settings.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS;
    this.maxBatchBytes = settings.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxEventBytes = this.maxBatchBytes;
    this.index = settings.index ?? DEFAULT_INDEX;
    const base = new URL(settings.url);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/_bulk`;
    base.searchParams.set('filter_path', BULK_FILTER_PATH);
    if (settings.pipeline !== undefined) base.searchParams.set('pipeline', settings.pipeline);
    this.bulkUrl = base;
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson',
      accept: 'application/json',
    };
    const authorization = authorizationHeader(settings);
    if (authorization !== undefined) headers.authorization = authorization;
    this.headers = headers;
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    const options =
      this.settings.timestampField === undefined
        ? { index: this.index, format: this.context.format }
        : { index: this.index, format: this.context.format, timestampField: this.settings.timestampField };
    const body = bulkBody(batch, options);
    const response = await sendHttp({
      url: this.bulkUrl,
      headers: this.headers,
      body,
      gzip: this.settings.gzip === true,
      network: this.context.network,
      signal,
      timeoutMillis: this.context.timeoutMillis,
      bytes: batchJsonBytes(batch),
      // The filtered answer is ~25 bytes per stored item; errors carry a reason (a few hundred bytes).
      maxResponseBytes: 64 * 1024 + batch.length * 2048,
    });
    if (response.result.outcome !== 'delivered') return response.result;
    const parsed = parseJsonResponse(response);
    const items = isObject(parsed) && Array.isArray(parsed.items) ? (parsed.items as unknown[]) : undefined;
    if (items === undefined || items.length !== batch.length) {
      return {
        outcome: 'retryable',
        error: {
          code: 'ES_BAD_RESPONSE',
          message:
            items === undefined
              ? 'the bulk answer has no readable items'
              : `the bulk answer has ${items.length} items for ${batch.length} documents`,
          ...(response.status === undefined ? {} : { status: response.status }),
          response: truncateResponse(response.responseBody ?? ''),
        },
      };
    }
    // `errors: false` is Elasticsearch's promise that every item succeeded.
    if (parsed !== undefined && isObject(parsed) && parsed.errors === false) return response.result;
    return combineItemClasses(batch, items.map(classifyBulkItem));
  }

  async close(): Promise<void> {
    // Sockets belong to the network policy's dispatcher, shared by every stream; nothing to release.
  }
}

/** The host part of an http(s) URL, without IPv6 brackets, for the network policy. */
function urlHost(url: string): string {
  const { hostname } = new URL(url);
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
