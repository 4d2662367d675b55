import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { ApiError } from '../errors.js';
import { errorResponses } from '../schemas.js';

export interface OperationsRouteOptions {
  readonly metrics: Registry;
  /** Storage open and not shutting down. */
  readonly isReady: () => boolean;
}

/** `GET /healthz` (alive), `GET /readyz` (ready to accept), `GET /metrics` (Prometheus). Unauthenticated. */
export async function operationsRoutes(app: FastifyInstance, options: OperationsRouteOptions): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: storage open and accepting events',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.Literal('ready') }), ...errorResponses(503) },
      },
    },
    async () => {
      if (!options.isReady()) throw new ApiError('FS_NOT_READY', { headers: { 'retry-after': '5' } });
      return { status: 'ready' };
    },
  );
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        response: { 200: Type.String({ description: 'Prometheus text exposition format.' }) },
      },
    },
    async (_request, reply) => {
      const text = await options.metrics.metrics();
      return reply.type(options.metrics.contentType).send(text);
    },
  );
}
