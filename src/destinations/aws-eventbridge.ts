import { Readable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type Static, Type } from '@sinclair/typebox';
import { request as undiciRequest } from 'undici';
import { eventText } from '../formats/json-framing.js';
import type { NetworkPolicy } from '../net/network-policy.js';
import {
  classifyHttpStatus,
  combineItemClasses,
  type ItemClass,
  networkError,
  parseRetryAfterMillis,
} from './classify.js';
import type {
  DeliveryError,
  Destination,
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from './destination.js';

/**
 * `aws_eventbridge`: events onto an Amazon EventBridge event bus with PutEvents, through the AWS
 * SDK v3 (docs/destinations/aws_eventbridge.md).
 *
 * Each event is one entry: `Source` = the `source` setting, `DetailType` = the canonical event type,
 * `Detail` = the event JSON as stored (or its CloudEvents envelope), `Time` = the event timestamp,
 * `EventBusName` = the `eventBusName` setting (name or ARN).
 *
 * Invariants:
 * - PutEvents takes at most 10 entries and at most `maxRequestBytes` of entries (EventBridge's own
 *   measure: Time 14 bytes + UTF-8 bytes of Source, DetailType and Detail). One `send` splits its
 *   batch into such calls, in order, at most MAX_PARALLEL_CALLS in flight; an entry that alone is
 *   over the limit is rejected without being sent (`EVENTBRIDGE_ENTRY_TOO_LARGE`).
 * - The SDK never retries (`maxAttempts: 1`): the runner owns retry and backoff.
 * - Every connection goes through the network policy's dispatcher: the SDK's HTTP handler is
 *   replaced by an undici one (PolicyHttpHandler). Only the credential provider chain (used when no
 *   keys are set) talks to the instance/container metadata endpoints on its own.
 * - Outcomes are per entry (`partial`): an entry with an EventId is delivered; `ThrottlingException`,
 *   `InternalFailure` ... are retried; `MalformedDetail`, `InvalidArgument` ... are rejected (dead
 *   letter); stream problems (`AccessDeniedException`, `NotAuthorizedForSourceException`, missing
 *   bus ...) are never blamed on an event: fatal when nothing got through, else retried.
 * - A call refused as a whole for its content (`ValidationException`) is split in halves until the
 *   refused entry is alone, so one bad event cannot dead-letter its neighbours.
 */

/** PutEvents' limit on entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;
/** Default for `maxRequestBytes`: EventBridge's limit since January 2026 (1 MiB; 256 KiB before). */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BATCH_EVENTS = 100;
export const MAX_BATCH_EVENTS = 1000;
/** PutEvents calls of one `send` in flight at once. */
export const MAX_PARALLEL_CALLS = 10;
export const DEFAULT_SOURCE = 'flowstream.okta-workflows';
export const DEFAULT_EVENT_BUS = 'default';
/** `Time`, when present, counts 14 bytes ("Calculating PutEvents event entry size"). */
export const TIME_ENTRY_BYTES = 14;
/** DetailType's maximum length, 128 characters. */
const MAX_DETAIL_TYPE_BYTES = 128;
/** Most bytes of an answer read; a PutEvents answer for 10 entries is a few KiB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const BUS_NAME = '[/.\\-_A-Za-z0-9]{1,256}';

export const AwsEventBridgeSettingsSchema = Type.Object(
  {
    region: Type.String({
      pattern: '^[a-z]{2,4}(-[a-z]+)+-\\d{1,2}$',
      description: 'AWS region of the event bus, e.g. us-east-1.',
    }),
    eventBusName: Type.Optional(
      Type.String({
        pattern: `^(?:${BUS_NAME}|arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/${BUS_NAME})$`,
        maxLength: 1600,
        description: `Event bus name or ARN. Default "${DEFAULT_EVENT_BUS}".`,
      }),
    ),
    source: Type.Optional(
      Type.String({
        // `aws.` is reserved for AWS services: EventBridge refuses it (NotAuthorizedForSourceException).
        pattern: '^(?!aws\\.)[/.\\-_A-Za-z0-9]+$',
        minLength: 1,
        maxLength: 256,
        description: `The entries' Source. Default "${DEFAULT_SOURCE}".`,
      }),
    ),
    accessKeyId: Type.Optional(
      Type.String({
        pattern: '^[A-Z0-9]{16,128}$',
        description: 'Access key id; omitted = the default credential chain.',
      }),
    ),
    secretAccessKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'Secret access key (secret).' }),
    ),
    sessionToken: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 8192,
        description: 'Session token of temporary credentials (secret).',
      }),
    ),
    endpoint: Type.Optional(
      Type.String({
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+/?$',
        maxLength: 2048,
        description: 'Endpoint URL instead of events.<region>.amazonaws.com (VPC endpoint, tests).',
      }),
    ),
    maxBatchEvents: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_BATCH_EVENTS,
        description: `Most events per send, split into PutEvents calls of ${MAX_ENTRIES_PER_CALL}. Default ${DEFAULT_MAX_BATCH_EVENTS}.`,
      }),
    ),
    maxRequestBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: DEFAULT_MAX_REQUEST_BYTES,
        description: 'Most entry bytes per PutEvents call (and per event). Default 1 MiB.',
      }),
    ),
  },
  {
    additionalProperties: false,
    dependencies: {
      accessKeyId: ['secretAccessKey'],
      secretAccessKey: ['accessKeyId'],
      sessionToken: ['accessKeyId'],
    },
  },
);

export type AwsEventBridgeSettings = Static<typeof AwsEventBridgeSettingsSchema>;

/** A settings problem the schema validator may not have checked. */
export class AwsEventBridgeSettingsError extends Error {
  readonly code = 'EVENTBRIDGE_SETTINGS';
  override readonly name = 'AwsEventBridgeSettingsError';
}

export const awsEventBridgeDestination: DestinationDefinition<AwsEventBridgeSettings> = {
  type: 'aws_eventbridge',
  settingsSchema: AwsEventBridgeSettingsSchema,
  secretSettings: ['/secretAccessKey', '/sessionToken'],
  targets: (settings) => [eventBridgeHost(settings)],
  create: (settings, context) => new AwsEventBridgeDestination(settings, context),
};

/** The host PutEvents goes to: the endpoint's, or EventBridge's regional endpoint. */
export function eventBridgeHost(settings: Pick<AwsEventBridgeSettings, 'region' | 'endpoint'>): string {
  if (settings.endpoint !== undefined) {
    const { hostname } = new URL(settings.endpoint);
    return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  }
  return settings.region.startsWith('cn-')
    ? `events.${settings.region}.amazonaws.com.cn`
    : `events.${settings.region}.amazonaws.com`;
}

/** An entry and its size as EventBridge counts it. */
export interface SizedEntry {
  readonly entry: PutEventsRequestEntry;
  readonly bytes: number;
}

export function toEntry(
  event: OutboundEvent,
  options: {
    readonly source: string;
    readonly eventBusName: string;
    readonly format: DestinationContext['format'];
  },
): SizedEntry {
  const detail = eventText(event, options.format);
  const millis = Date.parse(event.timestamp);
  const entry: PutEventsRequestEntry = {
    Source: options.source,
    DetailType: event.eventType,
    Detail: detail,
    EventBusName: options.eventBusName,
  };
  // Without Time, EventBridge stamps the time of the call; an unparseable timestamp is left out.
  if (!Number.isNaN(millis)) entry.Time = new Date(millis);
  const bytes =
    (entry.Time === undefined ? 0 : TIME_ENTRY_BYTES) +
    Buffer.byteLength(options.source, 'utf8') +
    Buffer.byteLength(event.eventType, 'utf8') +
    Buffer.byteLength(detail, 'utf8');
  return { entry, bytes };
}

/**
 * Consecutive runs of entry indexes, each at most MAX_ENTRIES_PER_CALL long and at most
 * `maxRequestBytes` in total. Entries over the limit on their own are in `oversized`, in no call.
 */
export function planCalls(
  sizes: readonly number[],
  maxRequestBytes: number,
): { calls: number[][]; oversized: number[] } {
  const calls: number[][] = [];
  const oversized: number[] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] ?? 0;
    if (size > maxRequestBytes) {
      oversized.push(i);
      continue;
    }
    if (current.length === MAX_ENTRIES_PER_CALL || currentBytes + size > maxRequestBytes) {
      calls.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(i);
    currentBytes += size;
  }
  if (current.length > 0) calls.push(current);
  return { calls, oversized };
}

/** Per-entry ErrorCodes (PutEventsResultEntry): retryable ones, per the API reference. */
const RETRYABLE_ENTRY_CODES = new Set([
  'InternalFailure',
  'InternalException',
  'ThrottlingException',
  'ServiceUnavailable',
]);
/** Per-entry ErrorCodes that are about the stream's settings or permissions, not the event. */
const STREAM_ENTRY_CODES = new Set([
  'AccessDeniedException',
  'InvalidAccountIdException',
  'NotAuthorizedForSourceException',
  'ResourceNotFoundException',
]);

/** One PutEventsResultEntry: EventId → delivered; else by ErrorCode (unknown codes are rejected). */
export function classifyResultEntry(
  result:
    | {
        readonly EventId?: string | undefined;
        readonly ErrorCode?: string | undefined;
        readonly ErrorMessage?: string | undefined;
      }
    | undefined,
): ItemClass {
  if (result === undefined) {
    return {
      kind: 'retryable',
      error: { code: 'EVENTBRIDGE_BAD_RESPONSE', message: 'no result for this entry' },
    };
  }
  if (result.ErrorCode === undefined || result.ErrorCode === '') {
    if (result.EventId !== undefined && result.EventId !== '') return { kind: 'delivered' };
    return {
      kind: 'retryable',
      error: {
        code: 'EVENTBRIDGE_BAD_RESPONSE',
        message: 'an entry result with neither EventId nor ErrorCode',
      },
    };
  }
  const error: DeliveryError = {
    code: `EVENTBRIDGE_${result.ErrorCode}`,
    message: `${result.ErrorCode}: ${result.ErrorMessage ?? ''}`.trim(),
  };
  if (RETRYABLE_ENTRY_CODES.has(result.ErrorCode)) return { kind: 'retryable', error };
  if (STREAM_ENTRY_CODES.has(result.ErrorCode)) return { kind: 'stream', error };
  return { kind: 'rejected', error };
}

/** Exception names (`__type`) AWS SDKs treat as throttling. */
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
]);
/** Transient service faults; clock-skew errors too (the SDK corrects its clock offset from them). */
const TRANSIENT_ERRORS = new Set([
  'InternalException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestExpired',
  'RequestTimeTooSkewed',
  'RequestInTheFuture',
]);
/** The stream's credentials, permissions or bus are wrong: nothing gets through until fixed. */
const STREAM_ERRORS = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'NotAuthorizedForSourceException',
  'ResourceNotFoundException',
  'InvalidAccountIdException',
  // The SDK found no credentials (default provider chain) or could not load them.
  'CredentialsProviderError',
]);
/** The call's content was refused: the entries, not the stream. */
const CONTENT_ERRORS = new Set([
  'ValidationException',
  'SerializationException',
  'InvalidArgument',
  'MalformedDetail',
]);

interface AwsServiceErrorShape {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Readonly<Record<string, string | undefined>> };
}

/**
 * An answer from the service. The SDK attaches `$metadata` to every error, network ones too; only
 * an answer has an HTTP status.
 */
function isServiceError(err: unknown): err is AwsServiceErrorShape & Error {
  if (!(err instanceof Error)) return false;
  const metadata = (err as { $metadata?: unknown }).$metadata;
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof (metadata as { httpStatusCode?: unknown }).httpStatusCode === 'number'
  );
}

/**
 * An exception from `client.send` as the outcome for every entry of the call: throttling and
 * service faults retryable (with Retry-After when the service sent one); credentials, permissions
 * and a missing bus are the stream's; a refused content is rejected; network failures retryable.
 * Unknown names fall back to their HTTP status (classifyHttpStatus).
 */
export function classifySdkError(err: unknown): ItemClass {
  if (err instanceof Error && (err.name === 'CredentialsProviderError' || err.name === 'ProviderError')) {
    return { kind: 'stream', error: { code: 'EVENTBRIDGE_CredentialsProviderError', message: err.message } };
  }
  if (!isServiceError(err)) return { kind: 'retryable', error: networkError(err) };
  const status = err.$metadata?.httpStatusCode;
  const error: DeliveryError = {
    code: `EVENTBRIDGE_${err.name}`,
    message: `${err.name}: ${err.message}`,
    ...(status === undefined ? {} : { status }),
  };
  const retryAfter = parseRetryAfterMillis(headerOf(err.$response?.headers, 'retry-after'));
  const retryable = (): ItemClass =>
    retryAfter === undefined
      ? { kind: 'retryable', error }
      : { kind: 'retryable', error, retryAfterMillis: retryAfter };
  if (THROTTLING_ERRORS.has(err.name) || TRANSIENT_ERRORS.has(err.name)) return retryable();
  // "Signature expired" is clock skew, which the SDK corrects on the next call; any other
  // InvalidSignatureException is a wrong secret key.
  if (err.name === 'InvalidSignatureException' && /expired|skew/i.test(err.message)) return retryable();
  if (STREAM_ERRORS.has(err.name)) return { kind: 'stream', error };
  if (CONTENT_ERRORS.has(err.name)) return { kind: 'rejected', error };
  const byStatus = classifyHttpStatus(status ?? 500, headerOf(err.$response?.headers, 'retry-after'), '', 0);
  switch (byStatus.outcome) {
    case 'retryable':
      return retryable();
    case 'fatal':
      return { kind: 'stream', error };
    case 'rejected':
      return { kind: 'rejected', error };
    default:
      return retryable();
  }
}

function headerOf(
  headers: Readonly<Record<string, string | undefined>> | undefined,
  name: string,
): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

class AwsEventBridgeDestination implements Destination {
  readonly maxBatchEvents: number;
  readonly maxEventBytes: number;
  private readonly client: EventBridgeClient;
  private readonly maxRequestBytes: number;
  private readonly entryOptions: Parameters<typeof toEntry>[1];
  private closed = false;

  constructor(
    settings: AwsEventBridgeSettings,
    private readonly context: DestinationContext,
  ) {
    if ((settings.accessKeyId === undefined) !== (settings.secretAccessKey === undefined)) {
      throw new AwsEventBridgeSettingsError('aws_eventbridge: accessKeyId and secretAccessKey go together');
    }
    if (settings.sessionToken !== undefined && settings.accessKeyId === undefined) {
      throw new AwsEventBridgeSettingsError(
        'aws_eventbridge: sessionToken needs accessKeyId and secretAccessKey',
      );
    }
    const source = settings.source ?? DEFAULT_SOURCE;
    this.maxBatchEvents = settings.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS;
    this.maxRequestBytes = settings.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    // What the runner can check from the event JSON alone; send() measures each entry exactly
    // (a CloudEvents envelope adds its attributes to Detail).
    this.maxEventBytes =
      this.maxRequestBytes - TIME_ENTRY_BYTES - Buffer.byteLength(source, 'utf8') - MAX_DETAIL_TYPE_BYTES;
    this.entryOptions = {
      source,
      eventBusName: settings.eventBusName ?? DEFAULT_EVENT_BUS,
      format: context.format,
    };
    this.client = new EventBridgeClient({
      region: settings.region,
      maxAttempts: 1,
      // Pinned, not read from AWS_USE_FIPS_ENDPOINT / ~/.aws/config: the host must be the one
      // `targets` gave the network policy. A FIPS endpoint is set with `endpoint`.
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      requestHandler: new PolicyHttpHandler(context.network),
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.accessKeyId === undefined || settings.secretAccessKey === undefined
        ? {}
        : {
            credentials: {
              accessKeyId: settings.accessKeyId,
              secretAccessKey: settings.secretAccessKey,
              ...(settings.sessionToken === undefined ? {} : { sessionToken: settings.sessionToken }),
            },
          }),
    });
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    const sized = batch.map((event) => toEntry(event, this.entryOptions));
    const classes: ItemClass[] = new Array(batch.length);
    const { calls, oversized } = planCalls(
      sized.map((s) => s.bytes),
      this.maxRequestBytes,
    );
    for (const i of oversized) {
      classes[i] = {
        kind: 'rejected',
        error: {
          code: 'EVENTBRIDGE_ENTRY_TOO_LARGE',
          message: `the PutEvents entry is ${sized[i]?.bytes} bytes, over the limit of ${this.maxRequestBytes} bytes (maxRequestBytes)`,
        },
      };
    }
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(this.context.timeoutMillis)]);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < calls.length) {
        const call = calls[next++] ?? [];
        await this.putEvents(call, sized, classes, callSignal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_CALLS, calls.length) }, worker));
    return combineItemClasses(batch, classes);
  }

  /**
   * One PutEvents call for the entries at `indexes`, recording each one's class. A call refused
   * for its content is split in halves until the refused entry is alone.
   */
  private async putEvents(
    indexes: readonly number[],
    sized: readonly SizedEntry[],
    classes: ItemClass[],
    signal: AbortSignal,
  ): Promise<void> {
    let outcome: ItemClass | undefined;
    try {
      const response = await this.client.send(
        new PutEventsCommand({ Entries: indexes.map((i) => sized[i]?.entry ?? {}) }),
        { abortSignal: signal },
      );
      const results = response.Entries ?? [];
      if (results.length === indexes.length) {
        indexes.forEach((index, k) => {
          classes[index] = classifyResultEntry(results[k]);
        });
        return;
      }
      outcome = {
        kind: 'retryable',
        error: {
          code: 'EVENTBRIDGE_BAD_RESPONSE',
          message: `PutEvents answered ${results.length} results for ${indexes.length} entries`,
        },
      };
    } catch (err: unknown) {
      outcome = signal.aborted
        ? { kind: 'retryable', error: { code: 'TIMEOUT', message: 'the destination did not answer in time' } }
        : classifySdkError(err);
    }
    if (outcome.kind === 'rejected' && indexes.length > 1) {
      const half = Math.ceil(indexes.length / 2);
      await this.putEvents(indexes.slice(0, half), sized, classes, signal);
      await this.putEvents(indexes.slice(half), sized, classes, signal);
      return;
    }
    for (const index of indexes) classes[index] = outcome;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }
}

/** The parts of the SDK's HttpRequest this handler reads. */
interface SdkHttpRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[] | null>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

interface SdkHttpResponse {
  readonly statusCode: number;
  readonly reason?: string;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

/**
 * The SDK's HTTP handler, on undici through the network policy's dispatcher (so the SSRF rules
 * hold for AWS calls too). The answer is read whole, at most MAX_RESPONSE_BYTES, before the SDK
 * parses it. Implements the SDK's HttpHandler contract structurally.
 */
export class PolicyHttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly network: NetworkPolicy) {}

  async handle(
    request: SdkHttpRequest,
    options?: { abortSignal?: unknown },
  ): Promise<{ response: SdkHttpResponse }> {
    const host =
      request.hostname.includes(':') && !request.hostname.startsWith('[')
        ? `[${request.hostname}]`
        : request.hostname;
    const query = request.query === undefined ? '' : queryString(request.query);
    const url = `${request.protocol}//${host}${request.port === undefined ? '' : `:${request.port}`}${request.path}${query === '' ? '' : `?${query}`}`;
    const signal = options?.abortSignal instanceof AbortSignal ? options.abortSignal : undefined;
    const body = request.body;
    const response = await undiciRequest(url, {
      method: request.method,
      headers: request.headers,
      body:
        typeof body === 'string' || body instanceof Uint8Array
          ? body
          : body === undefined || body === null
            ? null
            : (body as Readable),
      dispatcher: this.network.dispatcher,
      ...(signal === undefined ? {} : { signal }),
    });
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      length += buffer.byteLength;
      if (length > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        throw Object.assign(new Error(`the answer is over ${MAX_RESPONSE_BYTES} bytes`), {
          code: 'EVENTBRIDGE_RESPONSE_TOO_LARGE',
        });
      }
      chunks.push(buffer);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    return {
      response: {
        statusCode: response.statusCode,
        headers,
        body: Readable.from([Buffer.concat(chunks, length)]),
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    // The dispatcher belongs to the network policy, shared by every stream.
  }
}

/** RFC 3986 query string, as SigV4 canonicalizes it. */
function queryString(query: Readonly<Record<string, string | readonly string[] | null>>): string {
  const encode = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value === null || value === undefined) parts.push(encode(key));
    else if (typeof value === 'string') parts.push(`${encode(key)}=${encode(value)}`);
    else for (const v of value) parts.push(`${encode(key)}=${encode(v)}`);
  }
  return parts.join('&');
}
