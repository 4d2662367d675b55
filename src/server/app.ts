import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ValidationMode } from '../ingest/ingest.js';
import type { EventLog } from '../log/event-log.js';
import type { Authenticator } from '../security/authenticator.js';
import { StreamError } from '../streams/stream-errors.js';
import { ApiError } from './errors.js';
import { eventsRoutes } from './routes/events.js';
import { eventsTailRoutes } from './routes/events-tail.js';
import { operationsRoutes } from './routes/operations.js';

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
  /** Registers further route plugins (the log streams API, the console). */
  readonly plugins?: readonly ((app: FastifyInstance) => Promise<void>)[];
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
      return new ApiError('FS_VALIDATION', { causes: [error.message] });
    default:
      if (error instanceof SyntaxError) return new ApiError('FS_INVALID_JSON', { causes: [error.message] });
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        return new ApiError('FS_BAD_REQUEST', { causes: [error.message] });
      }
      return new ApiError('FS_INTERNAL');
  }
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

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof StreamError) {
      return reply.code(error.httpStatus).send({
        errorCode: error.code,
        errorSummary: error.message,
        errorCauses: error.causes.map((c) => ({ errorSummary: c.path === '' ? c.message : `${c.path}: ${c.message}` })),
      });
    }
    const apiError = error instanceof ApiError ? error : fromFastifyError(error as FastifyError);
    if (apiError.status >= 500 && apiError.code === 'FS_INTERNAL') {
      request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
    }
    return reply.code(apiError.status).headers(apiError.headers).send(apiError.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = new ApiError('FS_NOT_FOUND', {
      causes: [`No route for ${request.method} ${request.url.split('?')[0]}.`],
    });
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
  });
  await app.register(eventsTailRoutes, { log: options.log, authenticator: options.authenticator });
  for (const plugin of options.plugins ?? []) await app.register(plugin);
  return app;
}
