import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * The audit trail of admin actions, in `<data>/audit.db` (SQLite, WAL, synchronous=FULL).
 *
 * Each record says who (the token's id, name and org), when, what (the action, the target stream
 * or token, the JSON Pointers of the fields that changed) and a few non-secret details (a replay's
 * cursor, a test's outcome, a new token's scopes). Values of settings are never recorded, so a
 * secret cannot reach the trail: changed secrets show only as the pointer (`/settings/token`).
 *
 * Records are append-only; ids increase (the paging key). An org's token reads the records whose
 * `org` is its own (actions on its streams and tokens, whoever made them); the operator reads all.
 */

export const AUDIT_ACTIONS = [
  'logStream.create',
  'logStream.update',
  'logStream.delete',
  'logStream.activate',
  'logStream.deactivate',
  'logStream.test',
  'logStream.replay',
  'logStream.deadLetters.redeliver',
  'token.create',
  'token.revoke',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditActor {
  readonly tokenId: string;
  readonly name: string;
  readonly org: string;
}

export interface NewAuditRecord {
  readonly actor: AuditActor;
  readonly action: AuditAction;
  /** The org of the target (`*` for operator streams and tokens). */
  readonly org: string;
  readonly target: { readonly type: 'logStream' | 'token'; readonly id: string };
  /** JSON Pointers of the fields that changed (never their values). */
  readonly changes?: readonly string[];
  /** Non-secret facts about the action. */
  readonly details?: Readonly<Record<string, string | number | boolean | null | readonly string[]>>;
}

export interface AuditRecord extends NewAuditRecord {
  readonly id: number;
  /** ISO 8601. */
  readonly at: string;
  readonly changes: readonly string[];
  readonly details: Readonly<Record<string, string | number | boolean | null | readonly string[]>>;
}

export interface AuditQuery {
  /** Only records of this org; undefined = every org (the operator). */
  readonly org?: string;
  /** Records with an id above this. */
  readonly after?: number;
  readonly limit: number;
  readonly action?: string;
  readonly targetId?: string;
  readonly actorId?: string;
  /** ISO 8601 bounds on `at`: since inclusive, until exclusive. */
  readonly since?: string;
  readonly until?: string;
}

interface Row {
  id: number;
  at: string;
  actor_id: string;
  actor_name: string;
  actor_org: string;
  action: string;
  org: string;
  target_type: string;
  target_id: string;
  changes: string;
  details: string;
}

export class AuditLog {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #insert: Database.Statement;
  #closed = false;

  private constructor(db: Database.Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#insert = db.prepare(
      `INSERT INTO audit (at, actor_id, actor_name, actor_org, action, org, target_type, target_id, changes, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  static open(directory: string, now: () => number = Date.now): AuditLog {
    mkdirSync(directory, { recursive: true });
    const db = new Database(path.join(directory, 'audit.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(`CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        actor_org TEXT NOT NULL,
        action TEXT NOT NULL,
        org TEXT NOT NULL,
        target_type TEXT NOT NULL,
        target_id TEXT NOT NULL,
        changes TEXT NOT NULL,
        details TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS audit_org ON audit (org, id);`);
    } catch (err: unknown) {
      db.close();
      throw err;
    }
    return new AuditLog(db, now);
  }

  /** Appends a record (one durable commit) and returns it. */
  record(input: NewAuditRecord): AuditRecord {
    const at = new Date(this.#now()).toISOString();
    const changes = [...(input.changes ?? [])];
    const details = { ...(input.details ?? {}) };
    const info = this.#insert.run(
      at,
      input.actor.tokenId,
      input.actor.name,
      input.actor.org,
      input.action,
      input.org,
      input.target.type,
      input.target.id,
      JSON.stringify(changes),
      JSON.stringify(details),
    );
    return { ...input, id: Number(info.lastInsertRowid), at, changes, details };
  }

  /** A page of records, oldest first, and the `after` of the next page (null on the last). */
  list(query: AuditQuery): { items: AuditRecord[]; nextAfter: number | null } {
    const where: string[] = ['id > ?'];
    const params: (string | number)[] = [query.after ?? 0];
    const eq = (column: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    eq('org', query.org);
    eq('action', query.action);
    eq('target_id', query.targetId);
    eq('actor_id', query.actorId);
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('at < ?');
      params.push(query.until);
    }
    const limit = Math.max(1, Math.floor(query.limit));
    const rows = this.#db
      .prepare(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
      .all(...params, limit + 1) as Row[];
    const items = rows.slice(0, limit).map(toRecord);
    const last = items.at(-1);
    return { items, nextAfter: rows.length > limit && last !== undefined ? last.id : null };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

function toRecord(row: Row): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: { tokenId: row.actor_id, name: row.actor_name, org: row.actor_org },
    action: row.action as AuditAction,
    org: row.org,
    target: { type: row.target_type as 'logStream' | 'token', id: row.target_id },
    changes: JSON.parse(row.changes) as string[],
    details: JSON.parse(row.details) as AuditRecord['details'],
  };
}

/**
 * JSON Pointers of what differs between two JSON values: objects are compared key by key (an
 * object present on one side only as if the other side were `{}`), anything else (arrays
 * included) as a whole. `ignore` lists top-level keys left out (`lastUpdated`).
 */
export function changedPaths(before: unknown, after: unknown, ignore: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, pointer: string, depth: number): void => {
    // An object that appeared or disappeared is compared with an empty one: its leaves are named.
    const left = a === undefined && isPlainObject(b) ? {} : a;
    const right = b === undefined && isPlainObject(a) ? {} : b;
    if (isPlainObject(left) && isPlainObject(right)) {
      const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
      for (const key of keys) {
        if (depth === 0 && ignore.includes(key)) continue;
        walk(
          left[key],
          right[key],
          `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
          depth + 1,
        );
      }
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(pointer === '' ? '/' : pointer);
  };
  walk(before, after, '', 0);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
