import { Pool } from 'undici';
import { BENCH_TOKEN } from './flowstream.js';
import { wallMillis } from './stats.js';

/**
 * Producers for `POST /api/v1/events`: NDJSON bodies over keep-alive connections (one per
 * poster), each request checked for 202 and `accepted` equal to its line count, so a benchmark
 * never times events that were not stored.
 */

export interface PostResult {
  readonly accepted: number;
  readonly duplicates: number;
  readonly requests: number;
  /** wallMillis() of the first request sent and the last answer received. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Per-request time from send to the 202 (milliseconds). */
  readonly requestMillis: number[];
}

export class IngestClient {
  readonly #pool: Pool;
  readonly #path = '/api/v1/events';

  constructor(baseUrl: string, connections: number) {
    this.#pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /** POSTs one NDJSON body; throws unless the answer is 202 with every line accepted. */
  async post(
    body: Buffer | string,
    expectedEvents: number,
  ): Promise<{ accepted: number; duplicates: number }> {
    const res = await this.#pool.request({
      path: this.#path,
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`ingest answered ${res.statusCode}: ${text.slice(0, 500)}`);
    const outcome = JSON.parse(text) as { accepted: number; duplicates: number; rejected: unknown[] };
    if (outcome.accepted + outcome.duplicates !== expectedEvents || outcome.rejected.length > 0) {
      throw new Error(
        `ingest stored ${outcome.accepted}+${outcome.duplicates} of ${expectedEvents}: ${text.slice(0, 500)}`,
      );
    }
    return outcome;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Counts the lines of an NDJSON body whose lines all end with "\n". */
export function lineCount(body: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) n++;
  return n;
}

/** Posts every body as fast as `posters` concurrent producers can, each taking the next body. */
export async function postAll(
  client: IngestClient,
  bodies: readonly Buffer[],
  posters: number,
): Promise<PostResult> {
  const counts = bodies.map(lineCount);
  let next = 0;
  let accepted = 0;
  let duplicates = 0;
  const requestMillis: number[] = [];
  const startedAt = wallMillis();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < bodies.length; i = next++) {
      const t0 = wallMillis();
      const outcome = await client.post(bodies[i] as Buffer, counts[i] as number);
      requestMillis.push(wallMillis() - t0);
      accepted += outcome.accepted;
      duplicates += outcome.duplicates;
    }
  };
  await Promise.all(Array.from({ length: posters }, worker));
  return {
    accepted,
    duplicates,
    requests: bodies.length,
    startedAt,
    finishedAt: wallMillis(),
    requestMillis,
  };
}

/**
 * Posts at a steady rate: every `intervalMillis` one batch made by `makeBody(now)` (called at send
 * time, so it can stamp each event), spread over `posters` connections. A batch whose slot comes
 * while all posters are busy is sent as soon as one is free (the schedule is not skipped), so a
 * service that falls behind shows as latency, not as a lower offered rate.
 */
export async function postPaced(
  client: IngestClient,
  options: {
    readonly batches: number;
    readonly intervalMillis: number;
    readonly posters: number;
    readonly eventsPerBatch: number;
    readonly makeBody: (index: number) => string;
  },
): Promise<PostResult & { readonly lateMillisMax: number }> {
  const start = wallMillis();
  let next = 0;
  let accepted = 0;
  let duplicates = 0;
  let lateMillisMax = 0;
  const requestMillis: number[] = [];
  const worker = async (): Promise<void> => {
    for (let i = next++; i < options.batches; i = next++) {
      const due = start + i * options.intervalMillis;
      const wait = due - wallMillis();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      lateMillisMax = Math.max(lateMillisMax, wallMillis() - due);
      const body = options.makeBody(i);
      const t0 = wallMillis();
      const outcome = await client.post(body, options.eventsPerBatch);
      requestMillis.push(wallMillis() - t0);
      accepted += outcome.accepted;
      duplicates += outcome.duplicates;
    }
  };
  await Promise.all(Array.from({ length: options.posters }, worker));
  return {
    accepted,
    duplicates,
    requests: options.batches,
    startedAt: start,
    finishedAt: wallMillis(),
    requestMillis,
    lateMillisMax,
  };
}
