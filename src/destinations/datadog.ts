import { type Static, Type } from '@sinclair/typebox';
import { batchJsonBytes, eventLine } from '../formats/json-framing.js';
import type {
  Destination,
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from './destination.js';
import type { HttpSendResponse } from './http-send.js';
import { parseJsonResponse, sendHttp } from './http-send.js';
import { parseIsoMillis } from './splunk-hec-envelope.js';

/**
 * `datadog`: events to the Datadog Logs intake, `POST https://http-intake.logs.<site>/api/v2/logs`
 * (Datadog API reference, "Send logs"), authenticated with the `DD-API-KEY` header, as a JSON
 * array of log entries, gzip-compressed by default as Datadog recommends.
 *
 * One log entry per event (docs/destinations/datadog.md):
 *
 *   {"ddsource":"okta-workflows","ddtags":"env:prod","hostname":"…","service":"flowstream",
 *    "status":"info","timestamp":1712255438730,"message":"FLOW_START …","event":{…the event…}}
 *
 * The event is nested under `event`, inserted as its stored JSON text (never re-serialized), rather
 * than spread at the top level: Datadog reserves top-level names the events also use with another
 * meaning (`hostname` of a FLOW_RATE_LIMIT is the third party's host, not the log's; `duration` is
 * read as nanoseconds, the events' are milliseconds). Facets work on nested attributes
 * (`@event.flow_name`). `timestamp` (epoch ms) makes the event's own time the log's date; it is
 * left out when Datadog would refuse the date (older than ~18 h, e.g. on replay, or more than 2 h
 * ahead) so the log is kept with its arrival time instead of being dropped.
 *
 * Intake limits, enforced here: at most 1000 entries and 5 MB (uncompressed) per request, 1 MB per
 * entry (Datadog would truncate a larger one; flowstream dead-letters it instead). Answers: 202
 * delivered; 400 and 413 rejected (the runner bisects); 401 and 403 fatal; 408, 429 (Retry-After
 * honoured) and 5xx retryable.
 */

export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'uk1.datadoghq.com',
  'ddog-gov.com',
  'us2.ddog-gov.com',
] as const;

export type DatadogSite = (typeof DATADOG_SITES)[number];

/** Intake limits (Datadog API reference, "Send logs"). */
export const DATADOG_MAX_ENTRIES = 1000;
export const DATADOG_MAX_PAYLOAD_BYTES = 5_000_000;
export const DATADOG_MAX_ENTRY_BYTES = 1_000_000;
/** Datadog accepts log dates up to 18 h in the past; keep a margin for the time in flight. */
export const DATADOG_MAX_PAST_MILLIS = 18 * 3_600_000 - 10 * 60_000;
export const DATADOG_MAX_FUTURE_MILLIS = 2 * 3_600_000;
export const DATADOG_DEFAULT_SERVICE = 'flowstream';
/** Not the name of a Datadog integration, so no integration pipeline rewrites the logs. */
export const DATADOG_DEFAULT_SOURCE = 'okta-workflows';

/** The longest `message` summary, in UTF-16 units. */
const MAX_MESSAGE_CHARS = 256;
/** What `status`, `timestamp` and a typical `message` add to an entry, for batch sizing. */
const TYPICAL_VARIABLE_OVERHEAD_BYTES = 320;
/** The most they can add: a message of escaped characters (6 bytes each), a status, a timestamp. */
const MAX_VARIABLE_OVERHEAD_BYTES = MAX_MESSAGE_CHARS * 6 + 128;
/** A generous estimate of what a CloudEvents envelope adds to one event's JSON. */
const CLOUDEVENT_OVERHEAD_BYTES = 512;

export const DatadogSettingsSchema = Type.Object(
  {
    /** The Datadog site of the organization. Default `datadoghq.com` (US1). */
    site: Type.Optional(Type.Union(DATADOG_SITES.map((site) => Type.Literal(site)))),
    /**
     * Replaces the site's intake URL (a proxy, a private link): the base URL, to which
     * `/api/v2/logs` is added unless it already ends with it.
     */
    url: Type.Optional(Type.String({ pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+', maxLength: 2048 })),
    /** A Datadog API key. Secret. */
    apiKey: Type.String({ minLength: 1, maxLength: 256 }),
    /** `service` of every log. Default `flowstream`. */
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** `ddsource` of every log. Default `okta-workflows`. */
    ddsource: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Tags of every log: `"env:prod,team:iam"` or `["env:prod", "team:iam"]`. */
    ddtags: Type.Optional(
      Type.Union([
        Type.String({ maxLength: 4096 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^,]*$' }), { maxItems: 100 }),
      ]),
    ),
    /** `hostname` of every log; default: none (Datadog shows no host). */
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Compress request bodies with gzip. Default true. */
    gzip: Type.Optional(Type.Boolean()),
    /** Most log entries per request. Default and maximum 1000. */
    maxBatchEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: DATADOG_MAX_ENTRIES })),
    /** Most bytes of one request body before compression. Default and maximum 5000000. */
    maxBatchBytes: Type.Optional(Type.Integer({ minimum: 16_384, maximum: DATADOG_MAX_PAYLOAD_BYTES })),
  },
  { additionalProperties: false },
);

export type DatadogSettings = Static<typeof DatadogSettingsSchema>;

/** The logs intake URL for the settings: `url` when given, else the site's intake. */
export function datadogIntakeUrl(settings: Pick<DatadogSettings, 'site' | 'url'>): string {
  if (settings.url === undefined) {
    return `https://http-intake.logs.${settings.site ?? 'datadoghq.com'}/api/v2/logs`;
  }
  const url = new URL(settings.url);
  url.search = '';
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = /\/api\/v2\/logs$/i.test(path) ? path : `${path}/api/v2/logs`;
  return url.href;
}

/** Datadog log status: what an operator filters on. */
export function logStatus(event: OutboundEvent): 'error' | 'warning' | 'info' {
  switch (event.eventType) {
    case 'FLOW_FAIL':
      return isTrue(event.event.fatal) ? 'error' : 'warning';
    case 'FLOW_RATE_LIMIT':
    case 'FLOW_THROTTLE':
      return 'warning';
    default:
      return 'info';
  }
}

/** A one-line summary for the log list: type, flow, execution and, for a failure, its message. */
export function logMessage(event: OutboundEvent): string {
  const fields = event.event;
  const flow =
    typeof fields.flow_name === 'string' && fields.flow_name !== '' ? ` "${fields.flow_name.trim()}"` : '';
  const execution = event.executionId === '' ? '' : ` execution ${event.executionId}`;
  let detail = '';
  if (event.eventType === 'FLOW_FAIL' && typeof fields.error_message === 'string') {
    detail = `: ${fields.error_message.split(/\r?\n/, 1)[0] ?? ''}`;
  }
  return truncate(`${event.eventType}${flow}${execution}${detail}`, MAX_MESSAGE_CHARS);
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let cut = text.slice(0, maxChars - 1);
  // Do not leave half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

export class DatadogDestination implements Destination {
  readonly maxBatchEvents: number;
  readonly maxBatchBytes: number;
  readonly maxEventBytes: number;

  readonly #settings: DatadogSettings;
  readonly #context: DestinationContext;
  readonly #url: string;
  readonly #headers: Readonly<Record<string, string>>;
  /** `{"ddsource":…,"ddtags":…,"hostname":…,"service":…` — the fixed start of every entry. */
  readonly #head: string;
  readonly #payloadLimit: number;
  readonly #now: () => number;
  readonly #closing = new AbortController();

  constructor(settings: DatadogSettings, context: DestinationContext, now: () => number = Date.now) {
    this.#settings = settings;
    this.#context = context;
    this.#now = now;
    this.#url = datadogIntakeUrl(settings);
    this.#headers = { 'dd-api-key': settings.apiKey, 'content-type': 'application/json' };
    const tags = Array.isArray(settings.ddtags) ? settings.ddtags.join(',') : settings.ddtags;
    let head = `{"ddsource":${JSON.stringify(settings.ddsource ?? DATADOG_DEFAULT_SOURCE)}`;
    if (tags !== undefined && tags !== '') head += `,"ddtags":${JSON.stringify(tags)}`;
    if (settings.hostname !== undefined) head += `,"hostname":${JSON.stringify(settings.hostname)}`;
    head += `,"service":${JSON.stringify(settings.service ?? DATADOG_DEFAULT_SERVICE)}`;
    this.#head = head;

    this.#payloadLimit = settings.maxBatchBytes ?? DATADOG_MAX_PAYLOAD_BYTES;
    this.maxBatchEvents = settings.maxBatchEvents ?? DATADOG_MAX_ENTRIES;
    const fixed =
      Buffer.byteLength(head, 'utf8') +
      ',"event":}'.length +
      1 + // the comma between entries
      (context.format === 'cloudevents' ? CLOUDEVENT_OVERHEAD_BYTES : 0);
    const single =
      Math.min(DATADOG_MAX_ENTRY_BYTES, this.#payloadLimit - 2) - fixed - MAX_VARIABLE_OVERHEAD_BYTES;
    // The runner counts event JSON only; leave room for a full batch's typical wrapping. A batch that
    // still comes out too large is refused before sending and bisected by the runner.
    const budget = this.#payloadLimit - 2 - this.maxBatchEvents * (fixed + TYPICAL_VARIABLE_OVERHEAD_BYTES);
    this.maxBatchBytes = budget > 0 ? budget : single;
    // The runner dead-letters any event larger than maxBatchBytes too.
    this.maxEventBytes = Math.min(single, this.maxBatchBytes);
  }

  /** One log entry: the fixed attributes, status, date, summary, then the event. */
  entry(event: OutboundEvent): string {
    let out = `${this.#head},"status":"${logStatus(event)}"`;
    const millis = parseIsoMillis(event.timestamp);
    const now = this.#now();
    if (
      millis !== undefined &&
      millis >= now - DATADOG_MAX_PAST_MILLIS &&
      millis <= now + DATADOG_MAX_FUTURE_MILLIS
    ) {
      out += `,"timestamp":${millis}`;
    }
    out += `,"message":${JSON.stringify(logMessage(event))}`;
    out += `,"event":${eventLine(event, this.#context.format)}}`;
    return out;
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    let body = '[';
    for (let i = 0; i < batch.length; i++) {
      const entry = this.entry(batch[i] as OutboundEvent);
      const entryBytes = Buffer.byteLength(entry, 'utf8');
      if (entryBytes > DATADOG_MAX_ENTRY_BYTES) {
        return tooLarge(
          `log entry ${i} would be ${entryBytes} bytes, over Datadog's ${DATADOG_MAX_ENTRY_BYTES}`,
        );
      }
      if (i > 0) body += ',';
      body += entry;
    }
    body += ']';
    const bodyBytes = Buffer.byteLength(body, 'utf8');
    if (bodyBytes > this.#payloadLimit) {
      return tooLarge(
        `the request body would be ${bodyBytes} bytes, over maxBatchBytes ${this.#payloadLimit}`,
      );
    }

    const response = await sendHttp({
      url: this.#url,
      headers: this.#headers,
      body,
      gzip: this.#settings.gzip ?? true,
      network: this.#context.network,
      signal: AbortSignal.any([signal, this.#closing.signal]),
      timeoutMillis: this.#context.timeoutMillis,
      bytes: batchJsonBytes(batch),
    });
    return withDatadogDetail(response);
  }

  /** The connection pool belongs to the network policy; close() only ends sends in flight. */
  async close(): Promise<void> {
    this.#closing.abort();
  }
}

function tooLarge(message: string): SendResult {
  return { outcome: 'rejected', error: { code: 'PAYLOAD_TOO_LARGE', message: `${message}; not sent` } };
}

/**
 * The classified result, with Datadog's own explanation (`{"errors":[{"detail":…}]}` or
 * `{"errors":["…"]}`) added to the message when there is one.
 */
function withDatadogDetail(response: HttpSendResponse): SendResult {
  const result = response.result;
  if (result.outcome !== 'retryable' && result.outcome !== 'rejected' && result.outcome !== 'fatal')
    return result;
  if (response.status === undefined) return result;
  const parsed = parseJsonResponse(response);
  const errors =
    typeof parsed === 'object' && parsed !== null ? (parsed as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) return result;
  const details = errors
    .map((item: unknown) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'object' && item !== null) {
        const { title, detail } = item as { title?: unknown; detail?: unknown };
        return [title, detail].filter((part) => typeof part === 'string' && part !== '').join(': ');
      }
      return '';
    })
    .filter((text) => text !== '')
    .join('; ');
  if (details === '') return result;
  return { ...result, error: { ...result.error, message: `${result.error.message}: ${details}` } };
}

export const datadogDestination: DestinationDefinition<DatadogSettings> = {
  type: 'datadog',
  settingsSchema: DatadogSettingsSchema,
  secretSettings: ['/apiKey'],
  targets: (settings) => [new URL(datadogIntakeUrl(settings)).hostname.replace(/^\[(.*)\]$/, '$1')],
  create: (settings, context) => new DatadogDestination(settings, context),
};
