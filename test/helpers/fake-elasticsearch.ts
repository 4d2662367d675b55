import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A real HTTP server on 127.0.0.1:0 that speaks enough of the Elasticsearch Bulk API
 * (`POST /_bulk`, `POST /{index}/_bulk`) for destination tests and benchmarks, the way a real
 * cluster answers:
 *
 * - NDJSON action/metadata lines (`create`, `index`, `delete`) each followed by a source line
 *   (except `delete`); the body must end with a newline, else 400 `illegal_argument_exception`;
 *   `Content-Type` must be JSON or NDJSON, else 406; `Content-Encoding: gzip` is accepted.
 * - Documents are stored by index and `_id`. `create` of an existing `_id` fails that item with
 *   409 `version_conflict_engine_exception`; `index` replaces it (`result: updated`).
 * - A source line that is not a JSON object fails its item with 400 `document_parsing_exception`;
 *   so does a field that does not fit the optional `mappings` (`long`, `boolean`, `date`).
 * - Indices named in `dataStreams` accept only `create` and require `@timestamp`, as data streams do.
 * - Authentication (when `users`/`apiKeys` are given): `Authorization: Basic` or `ApiKey`, else 401
 *   `security_exception` with `WWW-Authenticate`, in Elasticsearch's error shape.
 * - A body longer than `maxContentLength` (as received, before gunzip) gets 413 with no body, as
 *   `http.max_content_length` does.
 * - `filter_path` on the bulk response is honoured for plain and `*` path segments.
 *
 * Scripted trouble: `failItem(id, failure, times)` fails that `_id`'s next `times` items (429
 * `es_rejected_execution_exception`, 400 `mapper_parsing_exception` ...); `failRequest(...)` answers
 * the next whole requests with a status and body (429, 503 ...).
 */

export interface ItemFailure {
  readonly status: number;
  readonly type: string;
  readonly reason: string;
}

export interface RequestFailure {
  readonly status: number;
  /** JSON body; default Elasticsearch's error shape built from `type`/`reason`. */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface BulkRequestRecord {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Bytes on the wire (compressed when gzip). */
  readonly rawBytes: number;
  /** The body after gunzip, as text. */
  readonly bodyText: string;
  readonly status: number;
  /** The response body as sent. */
  readonly responseText: string;
}

export interface StoredDocument {
  readonly source: Record<string, unknown>;
  /** The source line exactly as received. */
  readonly sourceText: string;
  readonly version: number;
  readonly pipeline?: string;
}

export interface FakeElasticsearchOptions {
  /** Accepted basic-auth users (username → password). With neither users nor apiKeys, no auth. */
  readonly users?: Readonly<Record<string, string>>;
  /** Accepted API keys (id → key); the client sends `ApiKey base64(id:key)`. */
  readonly apiKeys?: Readonly<Record<string, string>>;
  /** Largest request body accepted, in bytes as received. Default 100 MiB (Elasticsearch's default). */
  readonly maxContentLength?: number;
  /** Field types checked on every document. */
  readonly mappings?: Readonly<Record<string, 'long' | 'boolean' | 'date' | 'keyword'>>;
  /** Index names that behave as data streams. */
  readonly dataStreams?: readonly string[];
  /** Record every request (tests); off for benchmarks. Default true. */
  readonly record?: boolean;
}

export interface FakeElasticsearch {
  readonly url: string;
  readonly requests: readonly BulkRequestRecord[];
  /** index → _id → document */
  readonly indices: ReadonlyMap<string, ReadonlyMap<string, StoredDocument>>;
  /** How many documents are stored, over all indices. */
  documentCount(): number;
  /** The next `times` items for `_id` fail with `failure` (before any other check). */
  failItem(id: string, failure: ItemFailure, times?: number): void;
  /** The next requests (one per argument) get these answers instead of being processed. */
  failRequest(...failures: RequestFailure[]): void;
  close(): Promise<void>;
}

export const REJECTED_EXECUTION: ItemFailure = {
  status: 429,
  type: 'es_rejected_execution_exception',
  reason:
    'rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=512, max_coordinating_and_primary_bytes=107374182]',
};

export const MAPPER_PARSING: ItemFailure = {
  status: 400,
  type: 'mapper_parsing_exception',
  reason: "failed to parse field [duration] of type [long] in document. Preview of field's value: 'slow'",
};

/** Elasticsearch's error body for a whole request. */
export function esErrorBody(
  status: number,
  type: string,
  reason: string,
  extra: Record<string, unknown> = {},
): string {
  const cause = { type, reason, ...extra };
  return JSON.stringify({ error: { root_cause: [cause], ...cause }, status });
}

export async function startFakeElasticsearch(
  options: FakeElasticsearchOptions = {},
): Promise<FakeElasticsearch> {
  const maxContentLength = options.maxContentLength ?? 100 * 1024 * 1024;
  const record = options.record ?? true;
  const users = options.users ?? {};
  const apiKeys = options.apiKeys ?? {};
  const authRequired = Object.keys(users).length > 0 || Object.keys(apiKeys).length > 0;
  const dataStreams = new Set(options.dataStreams ?? []);
  const requests: BulkRequestRecord[] = [];
  const indices = new Map<string, Map<string, StoredDocument>>();
  const itemFailures = new Map<string, { failure: ItemFailure; remaining: number }>();
  const requestFailures: RequestFailure[] = [];
  const sockets = new Set<Socket>();
  let seqNo = 0;

  const finish = (
    req: IncomingMessage,
    res: ServerResponse,
    rawBytes: number,
    bodyText: string,
    status: number,
    responseText: string,
    headers: Readonly<Record<string, string>> = {},
  ): void => {
    if (record) {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawBytes,
        bodyText,
        status,
        responseText,
      });
    }
    const responseHeaders: Record<string, string> = { 'x-elastic-product': 'Elasticsearch', ...headers };
    if (responseText !== '') responseHeaders['content-type'] = 'application/json';
    res.writeHead(status, responseHeaders);
    res.end(responseText);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathMatch = /^\/(?:([^/_][^/]*)\/)?_bulk\/?$/.exec(url.pathname);
    if (req.method !== 'POST' && req.method !== 'PUT') {
      finish(
        req,
        res,
        raw.byteLength,
        '',
        405,
        esErrorBody(405, 'method_not_allowed', `Incorrect HTTP method for uri [${req.url}]`),
      );
      return;
    }
    if (pathMatch === null) {
      finish(
        req,
        res,
        raw.byteLength,
        '',
        404,
        esErrorBody(404, 'index_not_found_exception', `no such index [${url.pathname}]`),
      );
      return;
    }
    if (raw.byteLength > maxContentLength) {
      finish(req, res, raw.byteLength, '', 413, '');
      return;
    }
    const scripted = requestFailures.shift();
    if (scripted !== undefined) {
      finish(req, res, raw.byteLength, '', scripted.status, scripted.body ?? '', scripted.headers);
      return;
    }
    if (authRequired) {
      const refusal = checkAuth(req.headers.authorization, users, apiKeys, req.url ?? '');
      if (refusal !== undefined) {
        finish(req, res, raw.byteLength, '', 401, refusal, {
          'www-authenticate': 'Basic realm="security", charset="UTF-8", ApiKey',
        });
        return;
      }
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (contentType !== 'application/x-ndjson' && contentType !== 'application/json') {
      finish(
        req,
        res,
        raw.byteLength,
        '',
        406,
        JSON.stringify({
          error: `Content-Type header [${req.headers['content-type'] ?? ''}] is not supported`,
          status: 406,
        }),
      );
      return;
    }
    let body: Buffer;
    try {
      body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    } catch {
      finish(
        req,
        res,
        raw.byteLength,
        '',
        400,
        esErrorBody(400, 'parse_exception', 'request body is not valid gzip'),
      );
      return;
    }
    const text = body.toString('utf8');
    const result = bulk(
      text,
      pathMatch[1] ? decodeURIComponent(pathMatch[1]) : undefined,
      url.searchParams.get('pipeline') ?? undefined,
    );
    if (result.kind === 'error') {
      finish(req, res, raw.byteLength, text, 400, esErrorBody(400, result.type, result.reason));
      return;
    }
    const filterPath = url.searchParams.get('filter_path');
    const response =
      filterPath === null ? result.response : filterResponse(result.response, filterPath.split(','));
    finish(req, res, raw.byteLength, text, 200, JSON.stringify(response));
  };

  type BulkOutcome =
    | { kind: 'error'; type: string; reason: string }
    | { kind: 'ok'; response: { took: number; errors: boolean; items: Record<string, unknown>[] } };

  const bulk = (text: string, pathIndex: string | undefined, pipeline: string | undefined): BulkOutcome => {
    const started = Date.now();
    if (text.length > 0 && !text.endsWith('\n')) {
      return {
        kind: 'error',
        type: 'illegal_argument_exception',
        reason: 'The bulk request must be terminated by a newline [\\n]',
      };
    }
    const lines = text.split('\n');
    lines.pop();
    if (lines.length === 0) {
      return {
        kind: 'error',
        type: 'action_request_validation_exception',
        reason: 'Validation Failed: 1: no requests added;',
      };
    }
    const items: Record<string, unknown>[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      const lineNumber = i + 1;
      let action: unknown;
      try {
        action = JSON.parse(lines[i] ?? '');
      } catch {
        return {
          kind: 'error',
          type: 'x_content_parse_exception',
          reason: `[${lineNumber}:1] Malformed action/metadata line [${lineNumber}], expected START_OBJECT`,
        };
      }
      const keys = isObject(action) ? Object.keys(action) : [];
      const op = keys[0];
      const meta = op !== undefined && isObject(action) ? action[op] : undefined;
      if (
        keys.length !== 1 ||
        op === undefined ||
        !['create', 'index', 'delete', 'update'].includes(op) ||
        !isObject(meta)
      ) {
        return {
          kind: 'error',
          type: 'illegal_argument_exception',
          reason: `Malformed action/metadata line [${lineNumber}], expected field [create], [delete], [index] or [update] but found [${String(op)}]`,
        };
      }
      const index = typeof meta._index === 'string' ? meta._index : pathIndex;
      if (index === undefined) {
        return {
          kind: 'error',
          type: 'action_request_validation_exception',
          reason: 'Validation Failed: 1: index is missing;',
        };
      }
      let sourceText: string | undefined;
      if (op !== 'delete') {
        i++;
        sourceText = lines[i];
        if (sourceText === undefined) {
          return {
            kind: 'error',
            type: 'illegal_argument_exception',
            reason: `The bulk request must be terminated by a newline [\\n]`,
          };
        }
      }
      const id = typeof meta._id === 'string' ? meta._id : randomUUID().replaceAll('-', '').slice(0, 20);
      const item = applyItem(op, index, id, sourceText, pipeline);
      if (item.status >= 300) errors = true;
      items.push({ [op]: item });
    }
    return { kind: 'ok', response: { took: Date.now() - started, errors, items } };
  };

  const applyItem = (
    op: string,
    index: string,
    id: string,
    sourceText: string | undefined,
    pipeline: string | undefined,
  ): Record<string, unknown> & { status: number } => {
    const failed = (failure: ItemFailure, extra: Record<string, unknown> = {}) => ({
      _index: index,
      _id: id,
      status: failure.status,
      error: { type: failure.type, reason: failure.reason, ...extra },
    });
    const scripted = itemFailures.get(id);
    if (scripted !== undefined) {
      scripted.remaining--;
      if (scripted.remaining <= 0) itemFailures.delete(id);
      return failed(scripted.failure);
    }
    if (op === 'update') {
      return failed({
        status: 400,
        type: 'illegal_argument_exception',
        reason: 'update is not supported by this fake',
      });
    }
    if (dataStreams.has(index) && op !== 'create') {
      return failed({
        status: 400,
        type: 'illegal_argument_exception',
        reason: `only write ops with an op_type of create are allowed in data streams`,
      });
    }
    let docs = indices.get(index);
    const existing = docs?.get(id);
    if (op === 'delete') {
      if (existing === undefined) return { _index: index, _id: id, result: 'not_found', status: 404 };
      docs?.delete(id);
      return { _index: index, _id: id, _version: existing.version + 1, result: 'deleted', status: 200 };
    }
    let source: unknown;
    try {
      source = JSON.parse(sourceText ?? '');
    } catch (err: unknown) {
      return failed({
        status: 400,
        type: 'document_parsing_exception',
        reason: `[1:1] failed to parse: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    if (!isObject(source)) {
      return failed({
        status: 400,
        type: 'document_parsing_exception',
        reason: '[1:1] failed to parse: not an object',
      });
    }
    const mappingError = checkMappings(source, options.mappings ?? {}, id);
    if (mappingError !== undefined) return failed(mappingError);
    if (dataStreams.has(index) && source['@timestamp'] === undefined) {
      return failed({
        status: 400,
        type: 'document_parsing_exception',
        reason: `[1:1] failed to parse: data stream timestamp field [@timestamp] is missing`,
      });
    }
    if (op === 'create' && existing !== undefined) {
      return failed(
        {
          status: 409,
          type: 'version_conflict_engine_exception',
          reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
        },
        { index_uuid: 'fAkEeLaStIcSeArCh0000', shard: '0', index },
      );
    }
    if (docs === undefined) {
      docs = new Map();
      indices.set(index, docs);
    }
    const version = (existing?.version ?? 0) + 1;
    const stored: StoredDocument =
      pipeline === undefined
        ? { source, sourceText: sourceText ?? '', version }
        : { source, sourceText: sourceText ?? '', version, pipeline };
    docs.set(id, stored);
    return {
      _index: index,
      _id: id,
      _version: version,
      result: existing === undefined ? 'created' : 'updated',
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: seqNo++,
      _primary_term: 1,
      status: existing === undefined ? 201 : 200,
    };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
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
    indices,
    documentCount: () => {
      let count = 0;
      for (const docs of indices.values()) count += docs.size;
      return count;
    },
    failItem: (id, failure, times = 1) => {
      itemFailures.set(id, { failure, remaining: times });
    },
    failRequest: (...failures) => {
      requestFailures.push(...failures);
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

function checkAuth(
  header: string | undefined,
  users: Readonly<Record<string, string>>,
  apiKeys: Readonly<Record<string, string>>,
  url: string,
): string | undefined {
  if (header === undefined) {
    return esErrorBody(
      401,
      'security_exception',
      `missing authentication credentials for REST request [${url}]`,
      {
        header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] },
      },
    );
  }
  const [scheme, credentials = ''] = header.split(' ', 2);
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const name = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (scheme === 'Basic' && colon > 0 && users[name] === secret) return undefined;
  if (scheme === 'ApiKey' && colon > 0 && apiKeys[name] === secret) return undefined;
  const reason =
    scheme === 'Basic'
      ? `unable to authenticate user [${name}] for REST request [${url}]`
      : 'unable to authenticate with provided credentials and anonymous access is not allowed for this request';
  return esErrorBody(401, 'security_exception', reason, {
    header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] },
  });
}

function checkMappings(
  source: Record<string, unknown>,
  mappings: Readonly<Record<string, string>>,
  id: string,
): ItemFailure | undefined {
  for (const [field, type] of Object.entries(mappings)) {
    const value = source[field];
    if (value === undefined || value === null) continue;
    const ok =
      type === 'long'
        ? (typeof value === 'number' && Number.isInteger(value)) ||
          (typeof value === 'string' && /^-?\d+$/.test(value))
        : type === 'boolean'
          ? typeof value === 'boolean' || value === 'true' || value === 'false'
          : type === 'date'
            ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
            : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    if (!ok) {
      return {
        status: 400,
        type: 'document_parsing_exception',
        reason: `[1:2] failed to parse field [${field}] of type [${type}] in document with id '${id}'. Preview of field's value: '${String(value)}'`,
      };
    }
  }
  return undefined;
}

/** `filter_path` for dotted paths whose segments are names or `*` (what bulk clients use). */
export function filterResponse(value: unknown, paths: readonly string[]): unknown {
  const filters = paths.map((path) => path.split('.'));
  return filterValue(value, filters) ?? {};
}

function filterValue(value: unknown, filters: readonly (readonly string[])[]): unknown {
  if (filters.some((segments) => segments.length === 0)) return value;
  if (Array.isArray(value)) {
    const out = value
      .map((element) => filterValue(element, filters))
      .filter((element) => element !== undefined);
    return out.length === 0 ? undefined : out;
  }
  if (!isObject(value)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const rest = filters
      .filter((segments) => segments[0] === key || segments[0] === '*')
      .map((segments) => segments.slice(1));
    if (rest.length === 0) continue;
    const filtered = filterValue(child, rest);
    if (filtered !== undefined) out[key] = filtered;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
