import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ulid } from 'ulid';
import { generateToken, hashToken, type Principal, SCOPES, type Scope } from './tokens.js';

/**
 * API tokens created with `flowstream tokens create` (or the API): only their SHA-256 digest is
 * stored, in `<data>/auth.db`. The token itself is shown once, when created. `lastUsedAt` is
 * accurate to a minute.
 */

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly org: string;
  readonly scopes: readonly Scope[];
  readonly created: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  org: string;
  scopes: string;
  created: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    org: row.org,
    scopes: JSON.parse(row.scopes) as Scope[],
    created: row.created,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** `lastUsedAt` is written at most once per this many milliseconds per token (a write is an fsync). */
const LAST_USED_RESOLUTION_MILLIS = 60_000;

export class TokenStore {
  readonly #db: Database.Database;
  readonly #now: () => number;
  /** When `last_used_at` was last written, per token id. */
  readonly #lastUsedWrites = new Map<string, number>();
  #closed = false;

  constructor(directory: string, now: () => number = Date.now) {
    mkdirSync(directory, { recursive: true });
    this.#db = new Database(path.join(directory, 'auth.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      org TEXT NOT NULL,
      scopes TEXT NOT NULL,
      digest TEXT NOT NULL UNIQUE,
      created TEXT NOT NULL,
      expires_at TEXT,
      revoked_at TEXT,
      last_used_at TEXT
    )`);
    this.#now = now;
  }

  /** Creates a token and returns it with its record: the only time the token itself exists. */
  create(input: { name: string; org: string; scopes: readonly Scope[]; expiresAt?: string }): {
    token: string;
    record: TokenRecord;
  } {
    for (const scope of input.scopes) {
      if (!SCOPES.includes(scope)) throw new Error(`unknown scope "${scope}"`);
    }
    const token = generateToken();
    const id = ulid(this.#now());
    const created = new Date(this.#now()).toISOString();
    this.#db
      .prepare(
        'INSERT INTO tokens (id, name, org, scopes, digest, created, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        id,
        input.name,
        input.org,
        JSON.stringify([...new Set(input.scopes)]),
        hashToken(token),
        created,
        input.expiresAt ?? null,
      );
    return { token, record: this.get(id)! };
  }

  get(id: string): TokenRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(): readonly TokenRecord[] {
    return (this.#db.prepare('SELECT * FROM tokens ORDER BY id').all() as TokenRow[]).map(toRecord);
  }

  /** Revokes a token; returns false when there is no such token. Revoking twice is harmless. */
  revoke(id: string): boolean {
    const at = new Date(this.#now()).toISOString();
    const info = this.#db
      .prepare('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(at, id);
    return info.changes > 0;
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n;
  }

  /** The principal of a presented token, or undefined when unknown, revoked or expired. */
  verify(token: string): Principal | undefined {
    const row = this.#db.prepare('SELECT * FROM tokens WHERE digest = ?').get(hashToken(token)) as
      | TokenRow
      | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    const now = this.#now();
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now) return undefined;
    const written = this.#lastUsedWrites.get(row.id) ?? 0;
    if (now - written >= LAST_USED_RESOLUTION_MILLIS) {
      this.#lastUsedWrites.set(row.id, now);
      this.#db
        .prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?')
        .run(new Date(now).toISOString(), row.id);
    }
    return {
      tokenId: row.id,
      name: row.name,
      org: row.org,
      scopes: new Set(JSON.parse(row.scopes) as Scope[]),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
