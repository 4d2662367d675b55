import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import {
  generateMasterKey,
  KEY_BYTES,
  Keyring,
  keyIdOf,
  type MasterKey,
  masterKey,
} from './secret-sealer.js';

/**
 * Where the master keys come from (docs/security.md):
 *
 * 1. `FLOWSTREAM_MASTER_KEY` (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) is the
 *    primary key when set. `FLOWSTREAM_MASTER_KEY_PREVIOUS` (comma-separated, same form) lists
 *    retired keys that may still open stored secrets during a rotation.
 * 2. Otherwise `<data>/keyring.json`, created at the first start with a random key, mode 0600,
 *    and refused when group or others may read it. Format:
 *    `{"version": 1, "primary": "<key id>", "keys": [{"id", "key": "<base64>", "created"}]}`.
 *
 * With the environment key, the keys of a keyring.json that exists are also accepted for opening,
 * so moving from the file to the environment is one restart (the start re-seals everything).
 */

export const MASTER_KEY_ENV = 'FLOWSTREAM_MASTER_KEY';
export const PREVIOUS_KEYS_ENV = 'FLOWSTREAM_MASTER_KEY_PREVIOUS';
export const KEYRING_FILE = 'keyring.json';

/** A master key that cannot be used; the message names where it came from and what is wrong. */
export class MasterKeyError extends Error {
  readonly code = 'FS_MASTER_KEY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export interface LoadedKeyring {
  readonly keyring: Keyring;
  /** Where the primary key came from. */
  readonly source: 'env' | 'file';
  /** The keyring file (whether or not it exists). */
  readonly file: string;
  /** True when this call created the keyring file. */
  readonly created: boolean;
}

interface KeyringFile {
  version: 1;
  primary: string;
  keys: { id: string; key: string; created: string }[];
}

/** Decodes a base64 (or base64url) key of exactly 32 bytes. */
export function decodeKey(text: string, where: string): MasterKey {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new MasterKeyError(`${where} is not base64 (generate one with: openssl rand -base64 32)`);
  }
  const bytes = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new MasterKeyError(
      `${where} must be base64 of exactly ${KEY_BYTES} bytes, not ${bytes.length} (generate one with: openssl rand -base64 32)`,
    );
  }
  return masterKey(bytes);
}

/** A new random key in the form FLOWSTREAM_MASTER_KEY takes. */
export function newMasterKeyText(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/**
 * The keyring of a data directory. `create: false` (key rotation's check) never creates the file.
 * Throws MasterKeyError for a malformed key or keyring file.
 */
export function loadKeyring(options: {
  readonly directory: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly create?: boolean;
}): LoadedKeyring {
  const env = options.env ?? process.env;
  const file = path.join(options.directory, KEYRING_FILE);
  const fromFile = existsSync(file) ? readKeyringFile(file) : undefined;
  const envKey = env[MASTER_KEY_ENV];
  if (envKey !== undefined && envKey.trim() !== '') {
    const primary = decodeKey(envKey, MASTER_KEY_ENV);
    const previous = (env[PREVIOUS_KEYS_ENV] ?? '')
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s, i) => decodeKey(s, `${PREVIOUS_KEYS_ENV} (key ${i + 1})`));
    return {
      keyring: new Keyring(primary, [...previous, ...(fromFile?.keys ?? [])]),
      source: 'env',
      file,
      created: false,
    };
  }
  if (fromFile !== undefined) {
    return { keyring: new Keyring(fromFile.primary, fromFile.keys), source: 'file', file, created: false };
  }
  if (options.create === false) {
    throw new MasterKeyError(`no master key: ${MASTER_KEY_ENV} is not set and ${file} does not exist`);
  }
  const key = generateMasterKey();
  mkdirSync(options.directory, { recursive: true });
  writeKeyringFile(file, [key], key, true);
  return { keyring: new Keyring(key), source: 'file', file, created: true };
}

function readKeyringFile(file: string): { primary: MasterKey; keys: MasterKey[] } {
  const mode = statSync(file).mode;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new MasterKeyError(
      `${file} may be read by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  }
  let parsed: KeyringFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyringFile;
  } catch {
    throw new MasterKeyError(`${file} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.version !== 1 || !Array.isArray(parsed.keys)) {
    throw new MasterKeyError(`${file} is not a flowstream keyring (version 1)`);
  }
  const keys = parsed.keys.map((entry, i) => {
    const key = decodeKey(String(entry?.key ?? ''), `${file} keys[${i}].key`);
    if (entry.id !== key.id) throw new MasterKeyError(`${file} keys[${i}].id does not match its key`);
    return key;
  });
  const primary = keys.find((k) => k.id === parsed.primary);
  if (primary === undefined)
    throw new MasterKeyError(`${file}: the primary key ${String(parsed.primary)} is not in keys`);
  return { primary, keys };
}

/**
 * Writes the keyring file atomically (a temporary file, mode 0600, fsynced, renamed over the old one,
 * and the directory fsynced), so a crash leaves the old or the new keyring, never half of one.
 */
export function writeKeyringFile(
  file: string,
  keys: readonly MasterKey[],
  primary: MasterKey,
  exclusive = false,
): void {
  const now = new Date().toISOString();
  const createdAt = new Map<string, string>();
  try {
    const previous = JSON.parse(readFileSync(file, 'utf8')) as KeyringFile;
    for (const k of previous.keys) createdAt.set(k.id, k.created);
  } catch {
    // No previous keyring (or an unreadable one): every key is new.
  }
  const content: KeyringFile = {
    version: 1,
    primary: primary.id,
    keys: keys.map((k) => {
      const id = keyIdOf(k.key);
      return { id, key: k.key.toString('base64'), created: createdAt.get(id) ?? now };
    }),
  };
  const text = `${JSON.stringify(content, null, 2)}\n`;
  if (exclusive) {
    // First start: never overwrite a keyring another process just created.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } else {
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, file);
    } catch (err: unknown) {
      unlinkSync(temp);
      throw err;
    }
  }
  syncDirectory(path.dirname(file));
}

function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
