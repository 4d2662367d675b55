import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
  type RouteOptions,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ValidationMode } from '../ingest/ingest.js';
import type { EventLog } from '../log/event-log.js';
import type { Authenticator } from '../security/authenticator.js';
import type { IngestRateLimiter } from '../security/rate-limit.js';
import { StreamError } from '../streams/stream-errors.js';
import { VERSION } from '../version.js';
import { ApiError } from './errors.js';
import { buildOpenApiDocument, type DocumentedRoute } from './openapi.js';
import { eventsRoutes } from './routes/events.js';
import { eventsTailRoutes } from './routes/events-tail.js';
import { operationsRoutes } from './routes/operations.js';
import { HANDLER_VALIDATES, SHARED_SCHEMAS } from './schemas.js';

export interface AppOptions {
  readonly log: EventLog;
  readonly authenticator: Authenticator;
  readonly metrics: Registry;
  readonly logger: Logger;
  readonly validation: ValidationMode;
  readonly bodyLimitBytes: number;
  readonly decompressedLimitBytes: number;
  readonly isShuttingDown: () => boolean;
  readonly isReady: () => boolean;
  /** Per-token ingest limits. Default: none. */
  readonly rateLimiter?: IngestRateLimiter;
  /** Registers further route plugins (the log streams API, the console). */
  readonly plugins?: readonly ((app: FastifyInstance) => Promise<void>)[];
}

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/**
 * Validators of route schemas. Query strings and path params arrive as text: their validator
 * converts `"20"` to 20 for an integer parameter. Bodies are JSON: no conversion (a string is not a
 * number), and unknown properties are an error, never silently removed.
 */
function validatorCompiler(): (route: {
  schema: unknown;
  httpPart?: string;
}) => ValidateFunction | (() => boolean) {
  const textParts = addFormats(
    new Ajv({ coerceTypes: true, allErrors: true, strict: false, useDefaults: false }),
  );
  const bodies = addFormats(
    new Ajv({ coerceTypes: false, allErrors: true, strict: false, useDefaults: false }),
  );
  for (const schema of SHARED_SCHEMAS) {
    textParts.addSchema(schema);
    bodies.addSchema(schema);
  }
  return ({ schema, httpPart }) => {
    if ((schema as Record<string, unknown>)[HANDLER_VALIDATES] === true) return () => true;
    return (httpPart === 'body' ? bodies : textParts).compile(schema as object);
  };
}

/** One cause per validation problem, naming the field: `querystring.limit must be <= 200`. */
function validationCauses(error: FastifyError): string[] {
  const context = (error as { validationContext?: string }).validationContext ?? 'request';
  const problems = (error as { validation?: ErrorObject[] }).validation ?? [];
  if (problems.length === 0) return [error.message];
  return problems.slice(0, 20).map((e) => {
    const field = [context, ...e.instancePath.split('/').slice(1)].join('.');
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties')
      return `${field}.${String(params.additionalProperty)} is not a known field`;
    if (e.keyword === 'required') return `${field}.${String(params.missingProperty)} is required`;
    if (e.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      return `${field} must be one of: ${params.allowedValues.join(', ')}`;
    }
    return `${field} ${e.message ?? 'is invalid'}`;
  });
}

/** Fastify's own client-error codes, mapped onto ours. */
function fromFastifyError(error: FastifyError): ApiError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('FS_PAYLOAD_TOO_LARGE', { causes: [error.message] });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('FS_UNSUPPORTED_MEDIA_TYPE', { causes: [error.message] });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('FS_INVALID_JSON', { causes: [error.message] });
    case 'FST_ERR_VALIDATION':
      return new ApiError('FS_VALIDATION', { causes: validationCauses(error) });
    default:
      if (error instanceof SyntaxError) return new ApiError('FS_INVALID_JSON', { causes: [error.message] });
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        return new ApiError('FS_BAD_REQUEST', { causes: [error.message] });
      }
      return new ApiError('FS_INTERNAL');
  }
}

/** A matcher of concrete paths for a route URL (`/a/:id/b` matches `/a/x/b`). */
function pathMatcher(url: string): RegExp {
  const pattern = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}/?$`);
}

/** The HTTP API (SPEC §3). Routes are tested with `inject()`; `serve` adds a socket. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One log line per request would dominate the log at ingest rates; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuses `__proto__` and `constructor.prototype` keys in JSON bodies of the admin API.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.setValidatorCompiler(validatorCompiler());
  // Response schemas document; they do not filter (fast-json-stringify would drop what they omit).
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    routes.push(route);
  });
  let document: Record<string, unknown> | undefined;

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof StreamError) {
      return reply.code(error.httpStatus).send({
        errorCode: error.code,
        errorSummary: error.message,
        errorCauses: error.causes.map((c) => ({
          errorSummary: c.path === '' ? c.message : `${c.path}: ${c.message}`,
        })),
      });
    }
    const apiError = error instanceof ApiError ? error : fromFastifyError(error as FastifyError);
    if (apiError.status >= 500 && apiError.code === 'FS_INTERNAL') {
      request.log.error(
        { err: error, url: request.url.split('?')[0], method: request.method },
        'request failed',
      );
    }
    return reply.code(apiError.status).headers(apiError.headers).send(apiError.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = new Set<string>();
    for (const route of routes) {
      if (!pathMatcher(route.url).test(path)) continue;
      for (const m of Array.isArray(route.method) ? route.method : [route.method]) allowed.add(String(m));
    }
    if (allowed.size > 0) {
      const apiError = new ApiError('FS_METHOD_NOT_ALLOWED', {
        causes: [`${path} answers ${[...allowed].sort().join(', ')}, not ${request.method}.`],
      });
      return reply
        .code(405)
        .header('allow', [...allowed].sort().join(', '))
        .send(apiError.body());
    }
    const apiError = new ApiError('FS_NOT_FOUND', { causes: [`No route for ${request.method} ${path}.`] });
    return reply.code(404).send(apiError.body());
  });

  await app.register(operationsRoutes, { metrics: options.metrics, isReady: options.isReady });
  await app.register(eventsRoutes, {
    log: options.log,
    authenticator: options.authenticator,
    metrics: options.metrics,
    validation: options.validation,
    bodyLimitBytes: options.bodyLimitBytes,
    decompressedLimitBytes: options.decompressedLimitBytes,
    isShuttingDown: options.isShuttingDown,
    ...(options.rateLimiter === undefined ? {} : { rateLimiter: options.rateLimiter }),
  });
  await app.register(eventsTailRoutes, { log: options.log, authenticator: options.authenticator });
  for (const plugin of options.plugins ?? []) await app.register(plugin);

  app.get(
    '/api/v1/openapi.json',
    {
      schema: {
        summary: 'This API as an OpenAPI 3.1 document',
        description: 'Generated from the routes as registered. No token needed.',
        tags: ['operations'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => {
      // Built on first request: by then every plugin has registered its routes.
      document ??= buildOpenApiDocument(routes, {
        title: 'flowstream',
        version: VERSION,
        description:
          'Execution log streaming: ingest workflow execution events, deliver them to log streams (SIEMs). See docs/http-api.md.',
      });
      return document;
    },
  );
  return app;
}
