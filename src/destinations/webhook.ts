import { createHmac } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { batchJsonBytes, encodeJsonBatch, type JsonFraming } from '../formats/json-framing.js';
import type {
  Destination,
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from './destination.js';
import { sendHttp } from './http-send.js';

/**
 * `webhook`: events as HTTP POSTs to any URL (docs/destinations/webhook.md).
 *
 * - `format: object` (the default) sends one event per request, as Okta Workflows does; `array`
 *   and `ndjson` send up to MAX_BATCH_EVENTS events per request.
 * - Every request carries `User-Agent: flowstream/<version>`; a single-event request also carries
 *   `X-Flowstream-Idempotency-Key`; with `signingSecret`, `X-Flowstream-Signature` (Stripe-style:
 *   `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, body before any gzip).
 * - The answer is classified by status alone (classify.ts): any 2xx acknowledges the whole request.
 */

/** Most events in one `array`/`ndjson` request. */
export const MAX_BATCH_EVENTS = 1000;
/** Default cap on event JSON bytes per request, and on one event: 5 MiB. */
export const DEFAULT_MAX_BATCH_BYTES = 5 * 1024 * 1024;

export const SIGNATURE_HEADER = 'x-flowstream-signature';
export const IDEMPOTENCY_KEY_HEADER = 'x-flowstream-idempotency-key';

/** Headers flowstream computes itself; setting them would break framing or signing. */
const RESERVED_HEADERS = [
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'host',
  SIGNATURE_HEADER,
  IDEMPOTENCY_KEY_HEADER,
];

/**
 * A regular expression source matching `word` (letters and `-` only) in any letter case: JSON
 * Schema patterns have no flags.
 */
function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('');
}

/** An RFC 9110 token that is not a reserved header name. */
const HEADER_NAME = `^(?!(?:${RESERVED_HEADERS.map(anyCase).join('|')})$)[!#$%&'*+.^_\`|~0-9A-Za-z-]+$`;

export const WebhookSettingsSchema = Type.Object(
  {
    url: Type.String({
      // http(s) only; no user:password@ (credentials belong in `headers`, where they are secret).
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+([/?#]\\S*)?$',
      maxLength: 2048,
      description: 'The receiving endpoint, http:// or https://.',
    }),
    headers: Type.Optional(
      Type.Record(
        Type.String({ pattern: HEADER_NAME }),
        Type.String({ pattern: '^[^\\r\\n\\u0000]*$', maxLength: 8192 }),
        {
          additionalProperties: false,
          description:
            'Extra request headers (all values secret). Content-Length, Content-Encoding, Host, ... are refused.',
        },
      ),
    ),
    format: Type.Optional(
      Type.Union([Type.Literal('object'), Type.Literal('array'), Type.Literal('ndjson')], {
        description:
          'object (default): one event per request; array: a JSON array; ndjson: one event per line.',
      }),
    ),
    signingSecret: Type.Optional(
      Type.String({ minLength: 16, maxLength: 1024, description: 'Signs each request with HMAC-SHA256.' }),
    ),
    gzip: Type.Optional(
      Type.Boolean({ description: 'Compress request bodies (Content-Encoding: gzip). Default false.' }),
    ),
    maxBatchBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 64 * 1024 * 1024,
        description: 'Most bytes of event JSON per request, and per event. Default 5 MiB.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type WebhookSettings = Static<typeof WebhookSettingsSchema>;

/**
 * The signature header value for `body` at `timestampSeconds`: `t=<t>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" keyed with the UTF-8 bytes of secret>`.
 */
export function webhookSignature(secret: string, body: string | Buffer, timestampSeconds: number): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestampSeconds}.`);
  hmac.update(body);
  return `t=${timestampSeconds},v1=${hmac.digest('hex')}`;
}

/** The host part of an http(s) URL, without IPv6 brackets, for the network policy. */
export function urlHost(url: string): string {
  const { hostname } = new URL(url);
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

export const webhookDestination: DestinationDefinition<WebhookSettings> = {
  type: 'webhook',
  settingsSchema: WebhookSettingsSchema,
  secretSettings: ['/headers/*', '/signingSecret'],
  targets: (settings) => [urlHost(settings.url)],
  create: (settings, context) => new WebhookDestination(settings, context),
};

class WebhookDestination implements Destination {
  readonly maxBatchEvents: number;
  readonly maxBatchBytes: number;
  readonly maxEventBytes: number;
  private readonly url: URL;
  private readonly framing: JsonFraming;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly context: DestinationContext,
  ) {
    this.url = new URL(settings.url);
    this.framing = settings.format ?? 'object';
    this.maxBatchEvents = this.framing === 'object' ? 1 : MAX_BATCH_EVENTS;
    this.maxBatchBytes = settings.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxEventBytes = this.maxBatchBytes;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(settings.headers ?? {})) headers[name.toLowerCase()] = value;
    this.headers = headers;
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    const { body, contentType } = encodeJsonBatch(batch, this.framing, this.context.format);
    const payload = Buffer.from(body, 'utf8');
    // A user-set Content-Type wins: some collectors insist on application/json for NDJSON.
    const headers: Record<string, string> = { 'content-type': contentType, ...this.headers };
    const [only] = batch;
    if (batch.length === 1 && only !== undefined && this.framing === 'object') {
      headers[IDEMPOTENCY_KEY_HEADER] = only.idempotencyKey;
    }
    if (this.settings.signingSecret !== undefined) {
      // A fresh timestamp on every attempt: receivers reject stale ones to stop replays.
      headers[SIGNATURE_HEADER] = webhookSignature(
        this.settings.signingSecret,
        payload,
        Math.floor(Date.now() / 1000),
      );
    }
    const response = await sendHttp({
      url: this.url,
      headers,
      body: payload,
      gzip: this.settings.gzip === true,
      network: this.context.network,
      signal,
      timeoutMillis: this.context.timeoutMillis,
      bytes: batchJsonBytes(batch),
    });
    return response.result;
  }

  async close(): Promise<void> {
    // Sockets belong to the network policy's dispatcher, shared by every stream; nothing to release.
  }
}
