import type { IncomingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { request } from 'undici';
import type { NetworkPolicy } from '../net/network-policy.js';
import { VERSION } from '../version.js';
import { classifyConnectError, classifyHttpStatus, networkError } from './classify.js';
import type { SendResult } from './destination.js';

/**
 * One HTTP exchange for an HTTP destination (webhook, splunk_hec, datadog, elasticsearch ...).
 *
 * Invariants:
 * - Every connection goes through `network.dispatcher` (the SSRF policy), never a global agent.
 * - Redirects are never followed: a 3xx is the peer's answer, classified as fatal for the stream.
 * - At most `maxResponseBytes` of the response body are read; the rest is discarded by destroying
 *   the body (the connection is then closed rather than reused), so a peer that answers with an
 *   endless or huge body cannot exhaust memory.
 * - The whole exchange (connect, send, headers, body) is bounded by `timeoutMillis` and by the
 *   caller's `signal`; either one ending the exchange is reported as `TIMEOUT` (retryable).
 * - Nothing throws for an expected failure: the outcome is in `result`. A network-policy refusal
 *   and a TLS certificate that does not verify are fatal (classifyConnectError); other connection
 *   failures are retryable.
 */

const gzipAsync = promisify(gzipCallback);

/** Sent as `User-Agent` unless the caller's headers have one. */
export const USER_AGENT = `flowstream/${VERSION}`;

/** Default cap on how much of a response body is read: 64 KiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpSendRequest {
  readonly url: string | URL;
  /** Default `POST`. */
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  /**
   * Request headers (names in any case). `content-length` is computed; `content-encoding` is set
   * when `gzip` is true; `user-agent` defaults to USER_AGENT.
   */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /** Compress the body with gzip and send `Content-Encoding: gzip`. Default false. */
  readonly gzip?: boolean;
  readonly network: NetworkPolicy;
  /** The runner's signal (shutdown, stream stopped). */
  readonly signal: AbortSignal;
  /** Limit for the whole exchange, in milliseconds. */
  readonly timeoutMillis: number;
  /**
   * What a `delivered` result reports as `bytes`: by convention the bytes of event JSON in the
   * batch. Default: the uncompressed body length in bytes.
   */
  readonly bytes?: number;
  /**
   * Most response-body bytes read. Default 64 KiB. Destinations whose protocol answer can be
   * larger and must be read whole (an Elasticsearch bulk response) raise it.
   */
  readonly maxResponseBytes?: number;
}

export interface HttpSendResponse {
  /**
   * The classification of the exchange from the status alone (`classifyHttpStatus`) or of the
   * network error (`classifyNetworkError`). A destination with a protocol answer (HEC codes, bulk
   * items) inspects `status`/`responseBody` and may return its own SendResult instead.
   */
  readonly result: SendResult;
  /** Absent when no response arrived (network error, timeout). */
  readonly status?: number;
  /** The response body as UTF-8, at most `maxResponseBytes` bytes of it. */
  readonly responseBody?: string;
  /** True when the body was longer than `maxResponseBytes` and the rest was discarded. */
  readonly responseTruncated?: boolean;
  readonly headers?: IncomingHttpHeaders;
  /** Bytes put on the wire for the body (after gzip). */
  readonly sentBytes: number;
}

/** Sends one request; never throws for network or HTTP failures. */
export async function sendHttp(req: HttpSendRequest): Promise<HttpSendResponse> {
  const raw = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
  const bytes = req.bytes ?? raw.byteLength;
  const maxResponseBytes = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  headers['user-agent'] ??= USER_AGENT;
  let body = raw;
  if (req.gzip === true) {
    body = await gzipAsync(raw);
    headers['content-encoding'] = 'gzip';
  }

  const timeout = AbortSignal.timeout(req.timeoutMillis);
  const signal = AbortSignal.any([req.signal, timeout]);
  if (signal.aborted) return { result: timedOut(), sentBytes: 0 };

  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(req.url, {
      method: req.method ?? 'POST',
      headers,
      body,
      dispatcher: req.network.dispatcher,
      signal,
      // undici's own header/body timeouts default to 300 s; the signal above is the limit.
    });
  } catch (err: unknown) {
    if (signal.aborted) return { result: timedOut(), sentBytes: 0 };
    return { result: classifyConnectError(err), sentBytes: 0 };
  }

  let read: ReadBody;
  try {
    read = await readLimited(response.body, maxResponseBytes);
  } catch (err: unknown) {
    // The status arrived but the body did not (reset or stall mid-body). Nothing can be assumed
    // about the peer having processed the request completely, so this is retryable: at-least-once.
    response.body.destroy();
    const error = signal.aborted ? timedOut().error : networkError(err);
    return {
      result: { outcome: 'retryable', error },
      status: response.statusCode,
      headers: response.headers,
      sentBytes: body.byteLength,
    };
  }

  const retryAfter = headerValue(response.headers['retry-after']);
  const result = classifyHttpStatus(response.statusCode, retryAfter, read.text, bytes);
  return {
    result,
    status: response.statusCode,
    responseBody: read.text,
    responseTruncated: read.truncated,
    headers: response.headers,
    sentBytes: body.byteLength,
  };
}

/** The body parsed as JSON, or undefined when it is absent, truncated or not JSON. */
export function parseJsonResponse(response: HttpSendResponse): unknown {
  if (response.responseBody === undefined || response.responseTruncated === true) return undefined;
  try {
    return JSON.parse(response.responseBody) as unknown;
  } catch {
    return undefined;
  }
}

/** The first value of a header that may repeat. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function timedOut(): Extract<SendResult, { outcome: 'retryable' }> {
  return {
    outcome: 'retryable',
    error: { code: 'TIMEOUT', message: 'the destination did not answer in time' },
  };
}

interface ReadBody {
  readonly text: string;
  readonly truncated: boolean;
}

async function readLimited(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const room = maxBytes - length;
    if (chunk.byteLength > room) {
      chunks.push(chunk.subarray(0, room));
      length += room;
      // Destroying the body discards the rest and closes the connection instead of draining it.
      body.destroy();
      return { text: Buffer.concat(chunks, length).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  return { text: Buffer.concat(chunks, length).toString('utf8'), truncated: false };
}
