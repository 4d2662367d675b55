import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { ApiError } from '../errors.js';

export interface OperationsRouteOptions {
  readonly metrics: Registry;
  /** Storage open and not shutting down. */
  readonly isReady: () => boolean;
}

/** `GET /healthz` (alive), `GET /readyz` (ready to accept), `GET /metrics` (Prometheus). Unauthenticated. */
export async function operationsRoutes(app: FastifyInstance, options: OperationsRouteOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (!options.isReady()) throw new ApiError('FS_NOT_READY', { headers: { 'retry-after': '5' } });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.metrics();
    return reply.type(options.metrics.contentType).send(text);
  });
}
