import type { FastifyInstance } from 'fastify';
import type { EventLog, StoredEvent } from '../../log/event-log.js';
import type { Authenticator } from '../../security/authenticator.js';
import { coversOrg } from '../../security/tokens.js';
import { principalOf, requireScope } from '../auth.js';
import { errorResponses, TailAnswerSchema, TailQuerySchema } from '../schemas.js';

export interface EventsTailRouteOptions {
  readonly log: EventLog;
  readonly authenticator: Authenticator;
}

/** At most this many stored events are scanned per request (filters may skip most of them). */
const MAX_SCAN = 10_000;
/** Longest long-poll wait, ms. */
const MAX_WAIT_MILLIS = 30_000;

interface TailQuery {
  after?: string;
  limit?: number;
  waitMillis?: number;
  eventType?: string;
  flowId?: string;
}

/** Resolves after the next append or after `waitMillis`, whichever comes first. */
function nextAppend(log: EventLog, waitMillis: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, waitMillis);
    timer.unref();
    const unsubscribe = log.onAppend(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * `GET /api/v1/events?after=SEQ&limit=N&eventType=T&flowId=F&waitMillis=W` — the stored events of
 * the token's org after a sequence number, for `flowstream tail` and the console. `after` below 0
 * means "the last -after events", `end` means "only events stored from now on". With `waitMillis`, an empty answer waits (long poll) for new events.
 * Answers `{"events": [{"seq", "ingestedAt", "event"}], "next": SEQ}`; pass `next` as `after`.
 */
export async function eventsTailRoutes(app: FastifyInstance, options: EventsTailRouteOptions): Promise<void> {
  const { log } = options;
  app.get<{ Querystring: TailQuery }>(
    '/api/v1/events',
    {
      onRequest: requireScope(options.authenticator, 'streams:read'),
      schema: {
        summary: 'Read stored events (tail)',
        description:
          "The token's org's stored events after a sequence number, oldest first; pass `next` as `after` for " +
          'the next page. With `waitMillis`, an empty answer waits for new events (long poll).',
        tags: ['events'],
        querystring: TailQuerySchema,
        response: { 200: TailAnswerSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const query = request.query;
      const limit = query.limit ?? 100;
      const waitMillis = Math.min(query.waitMillis ?? 0, MAX_WAIT_MILLIS);
      // `after` below 0: the last -after events (at most 10,000 back).
      let after = query.after === 'end' ? log.lastSeq() : Number(query.after ?? 0);
      const { eventType, flowId } = query;
      if (after < 0) after = Math.max(0, log.lastSeq() + Math.max(after, -10_000));
      const matches = (e: StoredEvent): boolean =>
        coversOrg(principal, e.orgId) &&
        (eventType === undefined || e.eventType === eventType) &&
        (flowId === undefined || e.flowId === flowId);

      const abort = new AbortController();
      request.raw.once('close', () => abort.abort());
      const deadline = Date.now() + waitMillis;
      for (;;) {
        const found: StoredEvent[] = [];
        let cursor = after;
        let scanned = 0;
        while (found.length < limit && scanned < MAX_SCAN) {
          const page = await log.readAfter(cursor, Math.min(1000, MAX_SCAN - scanned));
          if (page.length === 0) break;
          for (const e of page) {
            cursor = e.seq;
            if (matches(e)) {
              found.push(e);
              if (found.length === limit) break;
            }
          }
          scanned += page.length;
        }
        const remaining = deadline - Date.now();
        if (found.length > 0 || remaining <= 0 || abort.signal.aborted) {
          return {
            events: found.map((e) => ({
              seq: e.seq,
              ingestedAt: new Date(e.ingestedAtMillis).toISOString(),
              event: JSON.parse(e.json) as unknown,
            })),
            next: cursor,
          };
        }
        after = cursor;
        await nextAppend(log, remaining, abort.signal);
      }
    },
  );
}
