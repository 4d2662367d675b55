import { createHmac } from 'node:crypto';

/**
 * PII hashing of `user_email` (StreamTransforms.hashUserEmail), as Okta's execution log streaming
 * does by default: a keyed HMAC-SHA256 of the address, base64url without padding (43 characters).
 *
 * The address is hashed exactly as received (no trimming or case folding): normalizing would be a
 * guess about what the producer meant, and the same producer sends the same spelling every time.
 * An address that is already hashed is hashed again; the two cannot be told apart reliably.
 * Without the key the hash cannot be reversed by hashing candidate addresses (unlike a bare SHA-256).
 */
export function hashEmail(email: string, key: string): string {
  return createHmac('sha256', key).update(email, 'utf8').digest('base64url');
}
