import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RateLimit } from './rate-limit.js';

/** What a token may do (SPEC §3). */
export const SCOPES = ['events:write', 'streams:read', 'streams:write'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who made a request: the token's name, its org (`*` = every org, the operator) and scopes. */
export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly org: string;
  readonly scopes: ReadonlySet<Scope>;
  /** The token's own ingest limit (a static token's `ingestRateLimit`); absent = the default. */
  readonly ingestRateLimit?: RateLimit;
}

/** Generated tokens: a recognisable prefix and 256 random bits, base64url. */
export function generateToken(): string {
  return `fs_${randomBytes(32).toString('base64url')}`;
}

/**
 * Tokens are stored as SHA-256 digests only. Tokens have 256 bits of entropy, so a fast hash is
 * enough (no password stretching needed) and a digest lookup leaks nothing useful through timing.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two tokens (of any lengths) through their digests. */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** `Authorization: Bearer <token>` or Okta's `SSWS <token>`; anything else is no token. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(Bearer|SSWS)[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[2];
}

/** Whether `principal` may act for `org`. */
export function coversOrg(principal: Principal, org: string): boolean {
  return principal.org === '*' || principal.org === org;
}
