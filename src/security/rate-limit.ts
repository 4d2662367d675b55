/**
 * Per-token ingest rate limits: a token bucket per token id that counts events, not requests
 * (a request of 1000 events costs 1000).
 *
 * - The bucket holds at most `burst` events and refills at `eventsPerSecond`.
 * - A request of n events is admitted when the bucket holds at least min(n, burst); it then takes
 *   all n, so the balance may go negative: a batch larger than the burst is admitted when the bucket
 *   is full and paid for by the requests after it. Otherwise it is refused whole, with the seconds
 *   until it would be admitted (the `Retry-After`), and takes nothing.
 * - `eventsPerSecond: 0` turns the limit off for that token.
 * - Buckets exist only for tokens that authenticated, so their number is bounded by the tokens.
 */

export interface RateLimit {
  /** Sustained events per second. 0 = no limit. */
  readonly eventsPerSecond: number;
  /** Most events admitted at once after a quiet period. */
  readonly burst: number;
}

/** Default: generous enough for any single producer the embedded log can absorb. */
export const DEFAULT_INGEST_RATE_LIMIT: RateLimit = Object.freeze({
  eventsPerSecond: 50_000,
  burst: 100_000,
});

export type RateDecision =
  | { readonly admitted: true; readonly remaining: number; readonly limit: number }
  | {
      readonly admitted: false;
      readonly retryAfterSeconds: number;
      readonly remaining: number;
      readonly limit: number;
    };

export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  #tokens: number;
  #updatedMillis: number;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    this.#limit = limit;
    this.#now = now;
    this.#tokens = limit.burst;
    this.#updatedMillis = now();
  }

  /** Takes `n` events when admitted (see the module comment). */
  take(n: number): RateDecision {
    const { eventsPerSecond, burst } = this.#limit;
    if (eventsPerSecond <= 0) return { admitted: true, remaining: burst, limit: burst };
    this.#refill();
    const needed = Math.min(Math.max(n, 1), burst);
    if (this.#tokens >= needed) {
      this.#tokens -= n;
      return { admitted: true, remaining: Math.max(0, Math.floor(this.#tokens)), limit: burst };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((needed - this.#tokens) / eventsPerSecond));
    return {
      admitted: false,
      retryAfterSeconds,
      remaining: Math.max(0, Math.floor(this.#tokens)),
      limit: burst,
    };
  }

  #refill(): void {
    const now = this.#now();
    const elapsedSeconds = Math.max(0, now - this.#updatedMillis) / 1000;
    this.#updatedMillis = now;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + elapsedSeconds * this.#limit.eventsPerSecond);
  }
}

/** One bucket per token id; a token's own limit (a static token's override) or the default. */
export class IngestRateLimiter {
  readonly #default: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { limit: RateLimit; bucket: TokenBucket }>();

  constructor(defaultLimit: RateLimit = DEFAULT_INGEST_RATE_LIMIT, now: () => number = Date.now) {
    checkRateLimit(defaultLimit, 'auth.ingestRateLimit');
    this.#default = defaultLimit;
    this.#now = now;
  }

  take(tokenId: string, events: number, own?: RateLimit): RateDecision {
    const limit = own ?? this.#default;
    let entry = this.#buckets.get(tokenId);
    if (entry === undefined || entry.limit !== limit) {
      entry = { limit, bucket: new TokenBucket(limit, this.#now) };
      this.#buckets.set(tokenId, entry);
    }
    return entry.bucket.take(events);
  }

  /** Forgets a token's bucket (revoked tokens). */
  forget(tokenId: string): void {
    this.#buckets.delete(tokenId);
  }
}

/** Throws with a message naming `where` when the limit is not usable. */
export function checkRateLimit(limit: RateLimit, where: string): void {
  if (!Number.isFinite(limit.eventsPerSecond) || limit.eventsPerSecond < 0) {
    throw new RangeError(`${where}.eventsPerSecond must be a number >= 0 (0 = no limit)`);
  }
  if (!Number.isInteger(limit.burst) || limit.burst < 1) {
    throw new RangeError(`${where}.burst must be an integer >= 1`);
  }
}
