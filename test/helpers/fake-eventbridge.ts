import { createHash, createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1:0 that speaks Amazon EventBridge's PutEvents over the AWS JSON 1.1
 * protocol, so the real `@aws-sdk/client-eventbridge` client (with `endpoint` pointing here) talks
 * to it exactly as it talks to AWS:
 *
 * - `POST /` with `X-Amz-Target: AWSEvents.PutEvents` and `Content-Type: application/x-amz-json-1.1`.
 * - Signature Version 4 is verified against the configured credentials (access key id, secret,
 *   session token, region, service `events`): an unknown key id gets `UnrecognizedClientException`,
 *   a wrong secret `InvalidSignatureException`, a missing signature `MissingAuthenticationTokenException`.
 * - Request limits (PutEvents API reference): 1 to 10 entries, else `ValidationException`; the sum of
 *   entry sizes (Time 14 bytes when present + UTF-8 bytes of Source, DetailType, Detail and each
 *   Resource) at most `maxRequestEntryBytes` (default 1 MiB), else `ValidationException` "Total size
 *   of the entries in the request is over the limit.".
 * - Per entry: missing Source/DetailType → `InvalidArgument`; Detail that is not a JSON object →
 *   `MalformedDetail`; a Source starting with `aws.` → `NotAuthorizedForSourceException`. An
 *   `EventBusName` (name or ARN) that is not one of `buses` → `ResourceNotFoundException` for the
 *   whole request.
 * - Answers `{"FailedEntryCount": n, "Entries": [{"EventId"} | {"ErrorCode", "ErrorMessage"}]}`, in
 *   request order; errors are `{"__type": "<Code>", "message": "..."}` with HTTP 400 (500/503 for
 *   server faults), as AWS JSON 1.1 services answer.
 *
 * Scripted trouble: `failEntry(text, error, times)` fails the next `times` entries whose Detail
 * contains `text` (e.g. an idempotency key) with that ErrorCode; `failRequest(...)` answers the
 * next whole requests with an AWS error (`ThrottlingException`, `AccessDeniedException` ...).
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface EntryError {
  readonly ErrorCode: string;
  readonly ErrorMessage: string;
}

export interface AwsError {
  /** HTTP status; default 400. */
  readonly status?: number;
  /** The `__type`, e.g. `ThrottlingException`. */
  readonly type: string;
  readonly message: string;
  /** Which key carries the message; AWS services use both. Default `message`. */
  readonly messageKey?: 'message' | 'Message';
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ReceivedEvent {
  readonly EventId: string;
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  /** The bus name (an ARN is reduced to its name). */
  readonly EventBusName: string;
  /** The wire value: epoch seconds. */
  readonly Time?: number;
  readonly Resources?: readonly string[];
}

export interface PutEventsRecord {
  readonly headers: IncomingHttpHeaders;
  readonly bodyText: string;
  readonly entryCount: number;
  readonly status: number;
  readonly responseText: string;
}

export interface FakeEventBridgeOptions {
  readonly credentials: AwsCredentials;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** Existing bus names. Default `['default']`. */
  readonly buses?: readonly string[];
  /** Default 1 MiB (the PutEvents limit since January 2026; before, 256 KiB). */
  readonly maxRequestEntryBytes?: number;
  /** Record every request (tests); off for benchmarks. Default true. */
  readonly record?: boolean;
  /** Wait this long before answering each request, like a service across a network. Default 0. */
  readonly latencyMillis?: number;
}

export interface FakeEventBridge {
  /** The endpoint to give the client (`endpoint` setting). */
  readonly url: string;
  readonly requests: readonly PutEventsRecord[];
  /** Accepted events, in arrival order. */
  readonly events: readonly ReceivedEvent[];
  failEntry(detailContains: string, error: EntryError, times?: number): void;
  failRequest(...errors: AwsError[]): void;
  close(): Promise<void>;
}

export const MAX_ENTRIES = 10;

/** PutEventsRequestEntry size as EventBridge computes it ("Calculating PutEvents event entry size"). */
export function entrySize(entry: {
  readonly Time?: unknown;
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
}): number {
  let size = entry.Time === undefined || entry.Time === null ? 0 : 14;
  for (const value of [entry.Source, entry.DetailType, entry.Detail]) {
    if (typeof value === 'string') size += Buffer.byteLength(value, 'utf8');
  }
  if (Array.isArray(entry.Resources)) {
    for (const resource of entry.Resources)
      if (typeof resource === 'string') size += Buffer.byteLength(resource, 'utf8');
  }
  return size;
}

export async function startFakeEventBridge(options: FakeEventBridgeOptions): Promise<FakeEventBridge> {
  const region = options.region ?? 'us-east-1';
  const buses = new Set(options.buses ?? ['default']);
  const maxRequestEntryBytes = options.maxRequestEntryBytes ?? 1024 * 1024;
  const record = options.record ?? true;
  const latencyMillis = options.latencyMillis ?? 0;
  const requests: PutEventsRecord[] = [];
  const events: ReceivedEvent[] = [];
  const entryFailures: { text: string; error: EntryError; remaining: number }[] = [];
  const requestFailures: AwsError[] = [];
  const sockets = new Set<Socket>();

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    bodyText: string,
    entryCount: number,
    status: number,
    body: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): void => {
    const responseText = JSON.stringify(body);
    if (record) requests.push({ headers: req.headers, bodyText, entryCount, status, responseText });
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...headers,
    });
    res.end(responseText);
  };
  const fail = (
    req: IncomingMessage,
    res: ServerResponse,
    bodyText: string,
    entryCount: number,
    error: AwsError,
  ): void => {
    answer(
      req,
      res,
      bodyText,
      entryCount,
      error.status ?? 400,
      { __type: error.type, [error.messageKey ?? 'message']: error.message },
      error.headers,
    );
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const bodyText = raw.toString('utf8');
    if (req.method !== 'POST' || req.url !== '/') {
      fail(req, res, bodyText, 0, { type: 'UnknownOperationException', message: `${req.method} ${req.url}` });
      return;
    }
    const authError = verifySignature(req, raw, options.credentials, region);
    if (authError !== undefined) {
      fail(req, res, bodyText, 0, authError);
      return;
    }
    if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
      fail(req, res, bodyText, 0, {
        type: 'UnknownOperationException',
        message: String(req.headers['x-amz-target']),
      });
      return;
    }
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      fail(req, res, bodyText, 0, {
        type: 'SerializationException',
        message: `unexpected content type ${req.headers['content-type']}`,
      });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      fail(req, res, bodyText, 0, {
        type: 'SerializationException',
        message: 'Start of structure or map found where not expected.',
      });
      return;
    }
    const entries = isObject(body) && Array.isArray(body.Entries) ? (body.Entries as unknown[]) : undefined;
    const entryCount = entries?.length ?? 0;
    const scripted = requestFailures.shift();
    if (scripted !== undefined) {
      fail(req, res, bodyText, entryCount, scripted);
      return;
    }
    if (entries === undefined || entries.length < 1 || entries.length > MAX_ENTRIES) {
      fail(req, res, bodyText, entryCount, {
        type: 'ValidationException',
        message: `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      });
      return;
    }
    let total = 0;
    for (const entry of entries) total += isObject(entry) ? entrySize(entry) : 0;
    if (total > maxRequestEntryBytes) {
      fail(req, res, bodyText, entryCount, {
        type: 'ValidationException',
        message: 'Total size of the entries in the request is over the limit.',
      });
      return;
    }
    for (const entry of entries) {
      const bus =
        isObject(entry) && typeof entry.EventBusName === 'string' ? busName(entry.EventBusName) : 'default';
      if (!buses.has(bus)) {
        fail(req, res, bodyText, entryCount, {
          type: 'ResourceNotFoundException',
          message: `Event bus ${bus} does not exist.`,
        });
        return;
      }
    }
    const results: Record<string, string>[] = [];
    let failed = 0;
    for (const entry of entries) {
      const outcome = acceptEntry(isObject(entry) ? entry : {});
      if ('ErrorCode' in outcome) failed++;
      results.push(outcome);
    }
    answer(req, res, bodyText, entryCount, 200, { FailedEntryCount: failed, Entries: results });
  };

  const acceptEntry = (entry: Record<string, unknown>): Record<string, string> => {
    const detail = typeof entry.Detail === 'string' ? entry.Detail : undefined;
    const scripted = detail === undefined ? -1 : entryFailures.findIndex((f) => detail.includes(f.text));
    if (scripted >= 0) {
      const failure = entryFailures[scripted];
      if (failure !== undefined) {
        failure.remaining--;
        if (failure.remaining <= 0) entryFailures.splice(scripted, 1);
        return { ErrorCode: failure.error.ErrorCode, ErrorMessage: failure.error.ErrorMessage };
      }
    }
    const source = entry.Source;
    if (typeof source !== 'string' || source.length < 1 || source.length > 256) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
      };
    }
    if (
      typeof entry.DetailType !== 'string' ||
      entry.DetailType.length < 1 ||
      entry.DetailType.length > 128
    ) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
      };
    }
    if (source.startsWith('aws.')) {
      return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    }
    let parsed: unknown;
    try {
      parsed = detail === undefined ? undefined : JSON.parse(detail);
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    if (entry.Time !== undefined && typeof entry.Time !== 'number') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
    }
    const eventId = randomUUID();
    const received: ReceivedEvent = {
      EventId: eventId,
      Source: source,
      DetailType: entry.DetailType,
      Detail: detail ?? '',
      EventBusName: typeof entry.EventBusName === 'string' ? busName(entry.EventBusName) : 'default',
      ...(typeof entry.Time === 'number' ? { Time: entry.Time } : {}),
      ...(Array.isArray(entry.Resources) ? { Resources: entry.Resources.map(String) } : {}),
    };
    events.push(received);
    return { EventId: eventId };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (latencyMillis > 0) setTimeout(() => handle(req, res, body), latencyMillis).unref();
      else handle(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    events,
    failEntry: (text, error, times = 1) => {
      entryFailures.push({ text, error, remaining: times });
    },
    failRequest: (...errors) => {
      requestFailures.push(...errors);
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/** `arn:aws:events:us-east-1:123456789012:event-bus/orders` → `orders`. */
function busName(nameOrArn: string): string {
  const match = /^arn:aws[\w-]*:events:[\w-]+:\d{12}:event-bus\/(.+)$/.exec(nameOrArn);
  return match?.[1] ?? nameOrArn;
}

/**
 * Signature Version 4 verification (AWS General Reference, "Create a signed AWS API request"), for
 * a POST to `/` with no query string.
 */
function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  credentials: AwsCredentials,
  region: string,
): AwsError | undefined {
  const authorization = req.headers.authorization;
  const amzDate = req.headers['x-amz-date'];
  if (authorization === undefined || typeof amzDate !== 'string') {
    return {
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  }
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (match === null) {
    return {
      type: 'IncompleteSignatureException',
      message: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.`,
    };
  }
  const [, accessKeyId, date, scopeRegion, service, signedHeaderList, signature] =
    match as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) {
    return {
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (
    credentials.sessionToken !== undefined &&
    req.headers['x-amz-security-token'] !== credentials.sessionToken
  ) {
    return {
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (scopeRegion !== region || service !== 'events') {
    return {
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and service 'events', not '${scopeRegion}/${service}'.`,
    };
  }
  const signedHeaders = (signedHeaderList ?? '').split(';');
  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalRequest = [
    'POST',
    '/',
    '',
    canonicalHeaders,
    signedHeaders.join(';'),
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const hmac = (key: string | Buffer, data: string): Buffer =>
    createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date ?? ''), scopeRegion ?? ''), service ?? ''),
    'aws4_request',
  );
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  if (expected !== signature) {
    return {
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
