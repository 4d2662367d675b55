import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretSealer } from '../streams/stream-store.js';

/**
 * Encryption at rest of stream definitions (they hold secret settings): AES-256-GCM with a
 * 96-bit random nonce per seal and a 128-bit tag, under a master key from a keyring.
 *
 * Sealed text format (one line of ASCII, safe in a TEXT column):
 *   `fsenc:v1:<keyId>:<nonce base64url>:<ciphertext+tag base64url>`
 * - `keyId` names the key that sealed it (`keyIdOf`: a fingerprint of the key, not the key), so a
 *   keyring with old and new keys opens everything during a rotation.
 * - The additional authenticated data is the prefix `fsenc:v1:<keyId>`: changing the key id or
 *   version of a blob makes it fail to open.
 * - Text that does not start with `fsenc:` is a definition stored before sealing existed (plain
 *   JSON): it opens as is, and `needsReseal` says so, so it is sealed at the next start.
 */

export const SEALED_PREFIX = 'fsenc:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface MasterKey {
  /** `keyIdOf(key)`. */
  readonly id: string;
  readonly key: Buffer;
}

/** A key that cannot open a sealed text (unknown key id, tampered or truncated text). */
export class SealError extends Error {
  readonly code: 'FS_SECRET_KEY_UNKNOWN' | 'FS_SECRET_CORRUPT';
  constructor(code: 'FS_SECRET_KEY_UNKNOWN' | 'FS_SECRET_CORRUPT', message: string) {
    super(message);
    this.name = 'SealError';
    this.code = code;
  }
}

/** A stable, non-secret name for a key: 16 hex digits of SHA-256 over a label and the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('flowstream master key id\0').update(key).digest('hex').slice(0, 16);
}

export function masterKey(key: Buffer): MasterKey {
  if (key.length !== KEY_BYTES)
    throw new RangeError(`a master key has ${KEY_BYTES} bytes, not ${key.length}`);
  return { id: keyIdOf(key), key: Buffer.from(key) };
}

export function generateMasterKey(): MasterKey {
  return masterKey(randomBytes(KEY_BYTES));
}

/** Seals with the primary key; opens with any key of the ring. */
export class Keyring implements SecretSealer {
  readonly primary: MasterKey;
  readonly #keys: ReadonlyMap<string, MasterKey>;

  constructor(primary: MasterKey, others: readonly MasterKey[] = []) {
    this.primary = primary;
    const keys = new Map<string, MasterKey>();
    for (const k of [primary, ...others]) keys.set(k.id, k);
    this.#keys = keys;
  }

  /** Ids of every key (the primary first). */
  get keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /** The key with this id, if the ring has it. */
  key(id: string): MasterKey | undefined {
    return this.#keys.get(id);
  }

  seal(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const header = `${SEALED_PREFIX}${this.primary.id}`;
    const cipher = createCipheriv('aes-256-gcm', this.primary.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(header, 'ascii'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${header}:${nonce.toString('base64url')}:${body.toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith('fsenc:')) return sealed;
    const parts = sealed.split(':');
    if (parts.length !== 5 || `${parts[0]}:${parts[1]}:` !== SEALED_PREFIX) {
      throw new SealError('FS_SECRET_CORRUPT', 'a sealed secret has an unknown format or version');
    }
    const [, , keyId, nonceText, bodyText] = parts as [string, string, string, string, string];
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new SealError(
        'FS_SECRET_KEY_UNKNOWN',
        `a stored secret is sealed with master key ${keyId}, which is not in the keyring (${this.keyIds.join(', ')}); ` +
          'set FLOWSTREAM_MASTER_KEY (or FLOWSTREAM_MASTER_KEY_PREVIOUS) to that key, or restore keyring.json',
      );
    }
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
      throw new SealError('FS_SECRET_CORRUPT', `a secret sealed with key ${keyId} is truncated`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${SEALED_PREFIX}${keyId}`, 'ascii'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SealError(
        'FS_SECRET_CORRUPT',
        `a secret sealed with key ${keyId} does not authenticate (altered or corrupt)`,
      );
    }
  }

  /** True when `stored` is plain text or sealed with a key other than the primary. */
  needsReseal(stored: string): boolean {
    return !stored.startsWith(`${SEALED_PREFIX}${this.primary.id}:`);
  }
}
