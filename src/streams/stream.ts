import type { StreamFormat } from '../destinations/destination.js';

/**
 * A log stream: one destination, with its own cursor, filter, transforms and delivery settings.
 * The API shape is Okta's `/api/v1/logStreams` object, extended (SPEC §3).
 */

/** INACTIVE is set by an admin; PAUSED by the failure policy (resumable by activating again). */
export type StreamStatus = 'ACTIVE' | 'INACTIVE';
export type HealthStatus = 'ACTIVE' | 'DEGRADED' | 'PAUSED' | 'INACTIVE';

export interface StreamFilter {
  /** Canonical event types to deliver; omitted = all. */
  readonly eventTypes?: readonly string[];
  /** Flow ids to deliver (Okta's per-flow "stream execution logs" toggle); omitted = all. */
  readonly flowIds?: readonly string[];
}

export interface StreamTransforms {
  /**
   * Replace `user_email` with a keyed HMAC-SHA256 of it (base64url), as Okta does by default.
   * The key is a secret setting; an event whose email is already hashed is hashed again (no guess).
   */
  readonly hashUserEmail?: { readonly key: string };
}

export interface DeliverySettings {
  /** Most events per batch (capped by the destination's own limit). Default 500. */
  readonly batchMaxEvents: number;
  /** How long a partial batch waits for more events before it is sent. Default 1000 ms. */
  readonly batchTimeoutMillis: number;
  /** Batches in flight at once; events of one execution are never in two of them. Default 1. */
  readonly concurrency: number;
  /** One send's time limit. Default 30000 ms. */
  readonly requestTimeoutMillis: number;
  /** First retry delay; doubles up to `retryMaxMillis`, with full jitter. Default 1000 ms. */
  readonly retryInitialMillis: number;
  /** Longest retry delay (a longer Retry-After is honoured as given). Default 60000 ms. */
  readonly retryMaxMillis: number;
  /** Continuous failure time after which the stream is PAUSED. Default 24 h; 0 = never pause. */
  readonly pauseAfterMillis: number;
}

export interface StreamDefinition {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  /** The org whose events this stream receives; `*` for every org (operator streams). */
  readonly org: string;
  readonly status: StreamStatus;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly filter: StreamFilter;
  readonly format: StreamFormat;
  readonly transforms: StreamTransforms;
  readonly delivery: DeliverySettings;
  /**
   * `insecureSkipVerify: true` turns TLS certificate verification off for this stream's HTTPS
   * connections (a lab SIEM with a self-signed certificate). Absent: verified. Health flags it.
   */
  readonly tls?: { readonly insecureSkipVerify: boolean };
  /** ISO 8601 timestamps. */
  readonly created: string;
  readonly lastUpdated: string;
}

export const DEFAULT_DELIVERY: DeliverySettings = Object.freeze({
  batchMaxEvents: 500,
  batchTimeoutMillis: 1000,
  concurrency: 1,
  requestTimeoutMillis: 30_000,
  retryInitialMillis: 1000,
  retryMaxMillis: 60_000,
  pauseAfterMillis: 24 * 60 * 60 * 1000,
});

export interface StreamHealth {
  readonly status: HealthStatus;
  readonly lagEvents: number;
  /** Age of the oldest undelivered event that passes the filter, in seconds (0 when caught up). */
  readonly lagSeconds: number;
  readonly deliveredTotal: number;
  readonly deadLetteredTotal: number;
  /** Events retention deleted before this stream delivered them. */
  readonly expiredTotal: number;
  readonly consecutiveFailures: number;
  readonly lastDeliveredAt: string | null;
  readonly lastError: {
    readonly code: string;
    readonly message: string;
    readonly at: string;
    readonly status?: number;
  } | null;
  readonly cursor: number;
}
