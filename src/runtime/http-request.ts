import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { networkError } from '../destinations/classify.js';
import { headerValue } from '../destinations/http-send.js';
import type { NetworkPolicy } from '../net/network-policy.js';
import type { HttpMethod } from './flow-definition.js';

/**
 * One exchange of an HTTP card with a third party, through the network policy's dispatcher.
 * Never throws: the outcome is an answer (any status), a failure without an answer, or `aborted`
 * (the execution was canceled). At most `MAX_BODY_BYTES` of the answer are read.
 */

const MAX_BODY_BYTES = 256 * 1024;

export type HttpExchange =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      /** Parsed when the answer is JSON, else the text. */
      readonly body: unknown;
      readonly retryAfter: string | undefined;
    }
  | { readonly kind: 'failure'; readonly code: string; readonly message: string; readonly timedOut: boolean }
  | { readonly kind: 'aborted' };

export interface HttpExchangeRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** A string is sent as is; anything else as JSON. Undefined: no body. */
  readonly body: unknown;
  readonly timeoutMillis: number;
  /** The execution's signal (cancel). */
  readonly signal: AbortSignal;
  readonly network: NetworkPolicy;
}

export async function exchange(req: HttpExchangeRequest): Promise<HttpExchange> {
  const headers: Record<string, string> = { 'user-agent': 'flowstream-runtime' };
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  let body: string | undefined;
  if (req.body !== undefined && req.method !== 'GET') {
    if (typeof req.body === 'string') body = req.body;
    else {
      body = JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const timeout = AbortSignal.timeout(req.timeoutMillis);
  const signal = AbortSignal.any([req.signal, timeout]);
  try {
    const response = await request(req.url, {
      method: req.method,
      headers,
      ...(body === undefined ? {} : { body }),
      dispatcher: req.network.dispatcher,
      signal,
    });
    const text = await readLimited(response.body);
    const type = headerValue(response.headers['content-type']) ?? '';
    let parsed: unknown = text;
    if (/\bjson\b/i.test(type)) {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        // A JSON content type with a broken body: the card gets the text.
      }
    }
    return {
      kind: 'answer',
      status: response.statusCode,
      headers: response.headers,
      body: parsed,
      retryAfter: headerValue(response.headers['retry-after']),
    };
  } catch (err: unknown) {
    if (req.signal.aborted) return { kind: 'aborted' };
    if (timeout.aborted) {
      return {
        kind: 'failure',
        code: 'TIMEOUT',
        message: `${req.url.host} did not answer within ${req.timeoutMillis} ms`,
        timedOut: true,
      };
    }
    const error = networkError(err);
    return { kind: 'failure', code: error.code, message: error.message, timedOut: false };
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
