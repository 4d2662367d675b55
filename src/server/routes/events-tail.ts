import type { FastifyInstance } from 'fastify';
import type { EventLog, StoredEvent } from '../../log/event-log.js';
import type { Authenticator } from '../../security/authenticator.js';
import { coversOrg } from '../../security/tokens.js';
import { principalOf, requireScope } from '../auth.js';
import { ApiError } from '../errors.js';

export interface EventsTailRouteOptions {
  readonly log: EventLog;
  readonly authenticator: Authenticator;
}

/** At most this many stored events are scanned per request (filters may skip most of them). */
const MAX_SCAN = 10_000;
/** Longest long-poll wait, ms. */
const MAX_WAIT_MILLIS = 30_000;

function integerParam(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new ApiError('FS_VALIDATION', { causes: [`${name} must be an integer from ${min} to ${max}`] });
  }
  return n;
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
  app.get(
    '/api/v1/events',
    { preHandler: requireScope(options.authenticator, 'streams:read') },
    async (request) => {
      const principal = principalOf(request);
      const query = request.query as Record<string, unknown>;
      const limit = integerParam(query.limit, 'limit', 1, 1000, 100);
      const waitMillis = integerParam(query.waitMillis, 'waitMillis', 0, MAX_WAIT_MILLIS, 0);
      let after =
        query.after === 'end'
          ? log.lastSeq()
          : integerParam(query.after, 'after', -10_000, Number.MAX_SAFE_INTEGER, 0);
      const eventType = typeof query.eventType === 'string' ? query.eventType : undefined;
      const flowId = typeof query.flowId === 'string' ? query.flowId : undefined;
      if (after < 0) after = Math.max(0, log.lastSeq() + after);
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
