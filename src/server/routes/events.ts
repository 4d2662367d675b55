import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { bodyKind, decodeBody } from '../../ingest/decode-body.js';
import { ingestEvents, type ValidationMode } from '../../ingest/ingest.js';
import { parseEvents } from '../../ingest/parse-events.js';
import { type EventLog, StorageFullError } from '../../log/event-log.js';
import type { Authenticator } from '../../security/authenticator.js';
import type { IngestRateLimiter, RateDecision } from '../../security/rate-limit.js';
import { principalOf, requireScope } from '../auth.js';
import { ApiError } from '../errors.js';
import { errorResponses, IngestBodySchema, IngestOutcomeSchema } from '../schemas.js';

export interface EventsRouteOptions {
  readonly log: EventLog;
  readonly authenticator: Authenticator;
  readonly metrics: Registry;
  readonly validation: ValidationMode;
  /** Largest body as sent, bytes. */
  readonly bodyLimitBytes: number;
  /** Largest body after gzip decompression, bytes. */
  readonly decompressedLimitBytes: number;
  /** True once shutdown began: ingest answers 503 so producers retry elsewhere or later. */
  readonly isShuttingDown: () => boolean;
  /** Per-token limits, counted in events. Default: none. */
  readonly rateLimiter?: IngestRateLimiter;
}

/** Okta's rate limit headers (`X-Rate-Limit-*`), and `Retry-After` on a refusal. */
function rateHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'x-rate-limit-limit': String(decision.limit),
    'x-rate-limit-remaining': String(decision.remaining),
  };
  if (!decision.admitted) {
    headers['retry-after'] = String(decision.retryAfterSeconds);
    headers['x-rate-limit-reset'] = String(Math.ceil(Date.now() / 1000) + decision.retryAfterSeconds);
  }
  return headers;
}

/** Seconds a producer should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = '5';

/** `POST /api/v1/events` (SPEC §3). */
export async function eventsRoutes(app: FastifyInstance, options: EventsRouteOptions): Promise<void> {
  const events = new Counter({
    name: 'flowstream_ingest_events_total',
    help: 'Events received by ingest, by outcome (accepted, duplicate, rejected, rate_limited).',
    labelNames: ['outcome'],
    registers: [options.metrics],
  });
  const latency = new Histogram({
    name: 'flowstream_ingest_request_duration_seconds',
    help: 'Time from request to answer for ingest requests, including the durable commit.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [options.metrics],
  });

  // Ingest reads every body as raw bytes: it handles the content type, gzip and limits itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes },
    (_req, body, done) => {
      done(null, body);
    },
  );

  app.post(
    '/api/v1/events',
    {
      onRequest: requireScope(options.authenticator, 'events:write'),
      bodyLimit: options.bodyLimitBytes,
      schema: {
        summary: 'Ingest events',
        description:
          'Validates each event, checks its org against the token, and stores the valid ones in one durable ' +
          "commit before answering. Events count against the token's ingest rate limit.",
        tags: ['events'],
        consumes: ['application/json', 'application/x-ndjson'],
        body: IngestBodySchema,
        response: {
          202: IngestOutcomeSchema,
          ...errorResponses(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const stop = latency.startTimer();
      if (options.isShuttingDown()) {
        throw new ApiError('FS_SHUTTING_DOWN', { headers: { 'retry-after': RETRY_AFTER_SECONDS } });
      }
      const principal = principalOf(request);
      const kind = bodyKind(request.headers['content-type']);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const contentEncoding = request.headers['content-encoding'];
      const decoded = await decodeBody(raw, contentEncoding, options.decompressedLimitBytes);
      const items = parseEvents(decoded, kind);
      if (options.rateLimiter !== undefined) {
        const decision = options.rateLimiter.take(principal.tokenId, items.length, principal.ingestRateLimit);
        reply.headers(rateHeaders(decision));
        if (!decision.admitted) {
          events.inc({ outcome: 'rate_limited' }, items.length);
          throw new ApiError('FS_RATE_LIMITED', {
            headers: rateHeaders(decision),
            causes: [
              `This token may send ${decision.limit} events at once; retry in ${decision.retryAfterSeconds} s.`,
            ],
          });
        }
      }
      try {
        const outcome = await ingestEvents(items, principal, options.log, options.validation);
        events.inc({ outcome: 'accepted' }, outcome.accepted);
        events.inc({ outcome: 'duplicate' }, outcome.duplicates);
        events.inc({ outcome: 'rejected' }, outcome.rejected.length);
        stop();
        return reply.code(202).send(outcome);
      } catch (err: unknown) {
        if (err instanceof StorageFullError) {
          throw new ApiError('FS_STORAGE_FULL', { headers: { 'retry-after': '30' } });
        }
        if (err instanceof ApiError && err.code === 'FS_NO_VALID_EVENTS')
          events.inc({ outcome: 'rejected' }, items.length);
        throw err;
      }
    },
  );
}
