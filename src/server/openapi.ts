import type { RouteOptions } from 'fastify';
import { scopeOf } from './auth.js';
import { HANDLER_VALIDATES, SHARED_SCHEMAS } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the routes as registered (an `onRoute`
 * hook in app.ts collects them), so it cannot drift from what the server does: every route is in
 * it (a test checks), with its params, query, body and responses from the route's JSON Schemas,
 * and its required scope from its authentication hook.
 */

/** What the generator needs of a route: Fastify's route options. */
export type DocumentedRoute = Pick<RouteOptions, 'method' | 'url' | 'schema' | 'onRequest'>;

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

type Json = Record<string, unknown>;

declare module 'fastify' {
  /** The documentation fields of a route schema (the names @fastify/swagger uses). */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
    operationId?: string;
    /** Request content types, when not only application/json. */
    consumes?: string[];
  }
}

interface RouteSchema {
  summary?: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  params?: Json;
  querystring?: Json;
  body?: Json;
  response?: Record<string, Json>;
  consumes?: string[];
}

/** `/api/v1/logStreams/:id` → `/api/v1/logStreams/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function buildOpenApiDocument(routes: readonly DocumentedRoute[], info: OpenApiInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    // Pages that are not API (the console) mark themselves hidden.
    if ((route.schema as { hide?: boolean } | undefined)?.hide === true) continue;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) =>
      String(m).toLowerCase(),
    );
    for (const method of methods) {
      if (method === 'head' || method === 'options') continue;
      const path = openApiPath(route.url);
      paths[path] ??= {};
      paths[path][method] = operation(route, method, path);
    }
  }
  const sortedPaths = Object.fromEntries(
    Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const schemas: Json = {};
  for (const schema of SHARED_SCHEMAS) {
    const { $id, ...rest } = toJson(schema) as Json;
    schemas[String($id)] = rest;
  }
  return {
    openapi: '3.1.0',
    info,
    paths: sortedPaths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <token>`' },
        ssws: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: "Okta's scheme: `Authorization: SSWS <token>`",
        },
      },
    },
  };
}

function operation(route: DocumentedRoute, method: string, path: string): Json {
  const schema = (route.schema ?? {}) as RouteSchema;
  const scope = scopeOf(route);
  const parameters: Json[] = [];
  for (const [location, part] of [
    ['path', schema.params],
    ['query', schema.querystring],
  ] as const) {
    if (part === undefined) continue;
    const json = toJson(part) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      parameters.push({
        name,
        in: location,
        required: location === 'path' || (json.required ?? []).includes(name),
        ...(description === undefined ? {} : { description }),
        schema: rest,
      });
    }
  }
  const responses: Json = {};
  for (const [status, response] of Object.entries(schema.response ?? {})) {
    const json = toJson(response) as Json;
    const description = typeof json.description === 'string' ? json.description : defaultDescription(status);
    responses[status] =
      status === '204'
        ? { description }
        : { description, content: { [contentTypeOf(path, status)]: { schema: json } } };
  }
  if (Object.keys(responses).length === 0) responses.default = { description: 'See docs/http-api.md.' };
  const op: Json = {
    operationId:
      schema.operationId ??
      `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(schema.summary === undefined ? {} : { summary: schema.summary }),
    ...(schema.description === undefined ? {} : { description: schema.description }),
    ...(schema.tags === undefined ? {} : { tags: schema.tags }),
    ...(parameters.length === 0 ? {} : { parameters }),
    responses,
  };
  if (schema.body !== undefined) {
    const body = toJson(schema.body) as Json;
    const types = schema.consumes ?? ['application/json'];
    op.requestBody = {
      required: body[HANDLER_VALIDATES] !== true || path === '/api/v1/events',
      content: Object.fromEntries(types.map((t) => [t, { schema: body }])),
    };
  }
  op.security = scope === undefined ? [] : [{ bearer: [] }, { ssws: [] }];
  if (scope !== undefined) op['x-required-scope'] = scope;
  return op;
}

function contentTypeOf(path: string, status: string): string {
  return path === '/metrics' && status === '200' ? 'text/plain' : 'application/json';
}

function defaultDescription(status: string): string {
  if (status.startsWith('2')) return 'Success.';
  return 'Error.';
}

/**
 * A schema as plain JSON: TypeBox's symbol keys dropped, `$ref`s to shared schemas pointed at
 * `#/components/schemas/`.
 */
function toJson(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    key === '$ref' && typeof value === 'string' && !value.startsWith('#')
      ? `#/components/schemas/${value}`
      : value,
  );
}
