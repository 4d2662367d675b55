import { randomUUID } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { batchJsonBytes, eventLine } from '../formats/json-framing.js';
import type {
  Destination,
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from './destination.js';
import { sendHttp } from './http-send.js';
import { waitForAck } from './splunk-hec-ack.js';
import { interpretEventResponse } from './splunk-hec-codes.js';
import { HecEnvelopeEncoder } from './splunk-hec-envelope.js';

/**
 * `splunk_hec`: events to a Splunk HTTP Event Collector, `POST <url>/services/collector/event`,
 * as concatenated HEC envelopes (see splunk-hec-envelope.ts), authenticated with
 * `Authorization: Splunk <token>`, optionally confirmed by indexer acknowledgement
 * (splunk-hec-ack.ts). HEC answers are mapped onto delivery outcomes in splunk-hec-codes.ts.
 * docs/destinations/splunk_hec.md is the user's page.
 */

const GUID_PATTERN = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';

/** Splunk's `max_content_length` default in the versions that still ship 1 MB (limits.conf). */
export const HEC_DEFAULT_MAX_BATCH_BYTES = 1_000_000;
export const HEC_DEFAULT_MAX_BATCH_EVENTS = 1000;
export const HEC_DEFAULT_SOURCE = 'flowstream';
export const HEC_DEFAULT_SOURCETYPE = 'okta:workflows:execution';
export const HEC_DEFAULT_ACK_TIMEOUT_MILLIS = 20_000;
export const HEC_DEFAULT_ACK_POLL_INTERVAL_MILLIS = 1000;
/** A generous estimate of what a CloudEvents envelope adds to one event's JSON, for batch sizing. */
export const CLOUDEVENT_OVERHEAD_BYTES = 512;

export const SplunkHecSettingsSchema = Type.Object(
  {
    /** The collector's base URL, e.g. `https://splunk.example.com:8088`. A URL that already ends in `/services/collector[/event]` is accepted. */
    url: Type.String({ pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+', maxLength: 2048 }),
    /** The HEC token (a GUID in Splunk, not checked). Secret. */
    token: Type.String({ minLength: 1, maxLength: 1024 }),
    /** Target index; default: the token's default index. */
    index: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** HEC `source`. Default `flowstream`. */
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** HEC `sourcetype`. Default `okta:workflows:execution`. */
    sourcetype: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** HEC `host`; default: left to Splunk (the token's host, or the sender's address). */
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** Indexed fields added to every event (HEC `fields`). */
    fields: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 1024 })),
    ),
    /** Report a batch delivered only once Splunk acknowledges it was indexed. Default false. */
    indexerAcknowledgement: Type.Optional(Type.Boolean()),
    /** `X-Splunk-Request-Channel` GUID. Default: a new random GUID each time the stream starts. */
    channel: Type.Optional(Type.String({ pattern: GUID_PATTERN })),
    /** Compress request bodies with gzip. Default true. */
    gzip: Type.Optional(Type.Boolean()),
    /** Most events per request. Default 1000. */
    maxBatchEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    /**
     * Most bytes of one request body before compression (match Splunk's `max_content_length`).
     * Default 1000000; an event that cannot fit is dead-lettered.
     */
    maxBatchBytes: Type.Optional(Type.Integer({ minimum: 4096, maximum: 838_860_800 })),
    /** How long to wait for an indexer acknowledgement before sending the batch again. Default 20000 ms. */
    ackTimeoutMillis: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    /** Longest pause between acknowledgement polls (they start at 100 ms and double). Default 1000 ms. */
    ackPollIntervalMillis: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
  },
  { additionalProperties: false },
);

export type SplunkHecSettings = Static<typeof SplunkHecSettingsSchema>;

/** The collector's base URL: the configured URL without a trailing `/services/collector[/event[/1.0]]` or `/`. */
export function hecBaseUrl(url: string): URL {
  const base = new URL(url);
  base.search = '';
  base.hash = '';
  base.pathname = base.pathname.replace(/\/+$/, '').replace(/\/services\/collector(\/event(\/1\.0)?)?$/i, '');
  return base;
}

function joinPath(base: URL, path: string): string {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url.href;
}

/** The host name of a URL as the network policy wants it (IPv6 without brackets). */
export function urlHost(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}

export class SplunkHecDestination implements Destination {
  readonly maxBatchEvents: number;
  readonly maxBatchBytes: number;
  readonly maxEventBytes: number;
  readonly channel: string;

  readonly #settings: SplunkHecSettings;
  readonly #context: DestinationContext;
  readonly #encoder: HecEnvelopeEncoder;
  readonly #eventUrl: string;
  readonly #ackUrl: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #requestBytesLimit: number;
  /** Aborts sends and ack polls in flight on close(). */
  readonly #closing = new AbortController();

  constructor(settings: SplunkHecSettings, context: DestinationContext) {
    this.#settings = settings;
    this.#context = context;
    this.channel = settings.channel ?? randomUUID();
    const base = hecBaseUrl(settings.url);
    this.#eventUrl = joinPath(base, '/services/collector/event');
    this.#ackUrl = `${joinPath(base, '/services/collector/ack')}?channel=${encodeURIComponent(this.channel)}`;
    this.#headers = {
      authorization: `Splunk ${settings.token}`,
      'content-type': 'application/json',
      'x-splunk-request-channel': this.channel,
    };
    this.#encoder = new HecEnvelopeEncoder({
      ...(settings.host === undefined ? {} : { host: settings.host }),
      source: settings.source ?? HEC_DEFAULT_SOURCE,
      sourcetype: settings.sourcetype ?? HEC_DEFAULT_SOURCETYPE,
      ...(settings.index === undefined ? {} : { index: settings.index }),
      ...(settings.fields === undefined ? {} : { fields: settings.fields }),
    });
    this.#requestBytesLimit = settings.maxBatchBytes ?? HEC_DEFAULT_MAX_BATCH_BYTES;
    this.maxBatchEvents = settings.maxBatchEvents ?? HEC_DEFAULT_MAX_BATCH_EVENTS;
    // A CloudEvents envelope adds its attributes around each event: ids, source, type (~300 bytes).
    const overhead =
      this.#encoder.overheadBytes + (context.format === 'cloudevents' ? CLOUDEVENT_OVERHEAD_BYTES : 0);
    // The runner counts event JSON only; leave room for a full batch's envelopes. The runner also
    // dead-letters any event larger than maxBatchBytes, so maxEventBytes says the same. A batch that
    // still comes out too large (multi-byte text, a tiny limit) is refused before sending and
    // bisected by the runner.
    const single = Math.max(1, this.#requestBytesLimit - overhead);
    const budget = this.#requestBytesLimit - this.maxBatchEvents * overhead;
    this.maxBatchBytes = budget > 0 ? budget : single;
    this.maxEventBytes = Math.min(single, this.maxBatchBytes);
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    const combined = AbortSignal.any([signal, this.#closing.signal]);
    let body = '';
    for (const event of batch) {
      body += `${this.#encoder.envelope(eventLine(event, this.#context.format), event.timestamp)}\n`;
    }
    const eventBytes = batchJsonBytes(batch);
    const bodyBytes = Buffer.byteLength(body, 'utf8');
    if (bodyBytes > this.#requestBytesLimit) {
      return {
        outcome: 'rejected',
        error: {
          code: 'PAYLOAD_TOO_LARGE',
          message: `the request body would be ${bodyBytes} bytes, over maxBatchBytes ${this.#requestBytesLimit}; not sent`,
        },
      };
    }

    const response = await sendHttp({
      url: this.#eventUrl,
      headers: this.#headers,
      body,
      gzip: this.#settings.gzip ?? true,
      network: this.#context.network,
      signal: combined,
      timeoutMillis: this.#context.timeoutMillis,
      bytes: eventBytes,
    });
    const { result, ackId } = interpretEventResponse(response, batch.length, eventBytes);
    if (result.outcome !== 'delivered' || this.#settings.indexerAcknowledgement !== true) return result;
    if (ackId === undefined) {
      return {
        outcome: 'fatal',
        error: {
          code: 'HEC_ACK_MISSING',
          message:
            'Splunk accepted the batch without an ackId: indexer acknowledgement is off for this token; enable it on the token or set `indexerAcknowledgement: false`',
          ...(response.status === undefined ? {} : { status: response.status }),
          ...(response.responseBody === undefined ? {} : { response: response.responseBody.slice(0, 2048) }),
        },
      };
    }
    return waitForAck(ackId, eventBytes, {
      ackUrl: this.#ackUrl,
      headers: this.#headers,
      network: this.#context.network,
      signal: combined,
      requestTimeoutMillis: this.#context.timeoutMillis,
      ackTimeoutMillis: this.#settings.ackTimeoutMillis ?? HEC_DEFAULT_ACK_TIMEOUT_MILLIS,
      maxPollIntervalMillis: this.#settings.ackPollIntervalMillis ?? HEC_DEFAULT_ACK_POLL_INTERVAL_MILLIS,
    });
  }

  /** The connection pool belongs to the network policy; close() only ends sends and polls in flight. */
  async close(): Promise<void> {
    this.#closing.abort();
  }
}

export const splunkHecDestination: DestinationDefinition<SplunkHecSettings> = {
  type: 'splunk_hec',
  settingsSchema: SplunkHecSettingsSchema,
  secretSettings: ['/token'],
  targets: (settings) => [urlHost(settings.url)],
  create: (settings, context) => new SplunkHecDestination(settings, context),
};
