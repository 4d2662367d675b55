/**
 * Secret settings are write-only (SPEC §3): responses and logs show this placeholder instead. A
 * client that sends the placeholder back (e.g. a PUT of a stream it just read) keeps the stored
 * secret: `restoreRedacted` puts the stored value back in its place.
 */
export const REDACTED = '********';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Splits a JSON Pointer (`/headers/*`) into its unescaped tokens. */
function tokens(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Calls `visit(parent, key, path)` for every place in `settings` that a secret pointer names and
 * that is present; `*` matches every key of an object. `path` is the keys from the root.
 */
function forEachSecret(
  settings: Json,
  pointers: readonly string[],
  visit: (parent: Json, key: string, path: readonly string[]) => void,
): void {
  const walk = (node: Json, pattern: readonly string[], trail: readonly string[]): void => {
    const [head, ...rest] = pattern;
    if (head === undefined) return;
    const keys = head === '*' ? Object.keys(node) : Object.hasOwn(node, head) ? [head] : [];
    for (const key of keys) {
      if (rest.length === 0) visit(node, key, [...trail, key]);
      else {
        const child = node[key];
        if (isObject(child)) walk(child, rest, [...trail, key]);
      }
    }
  };
  for (const pointer of pointers) walk(settings, tokens(pointer), []);
}

/** A copy of `settings` with every secret value replaced by REDACTED. */
export function redactSettings(settings: Readonly<Json>, secretPointers: readonly string[]): Json {
  const copy = structuredClone(settings) as Json;
  forEachSecret(copy, secretPointers, (parent, key) => {
    if (parent[key] !== undefined && parent[key] !== null && parent[key] !== '') parent[key] = REDACTED;
  });
  return copy;
}

/**
 * A copy of `incoming` where each secret still equal to REDACTED takes the value `stored` has at the
 * same path (and is removed when `stored` has none, so a placeholder is never saved as a secret).
 */
export function restoreRedacted(
  incoming: Readonly<Json>,
  stored: Readonly<Json> | undefined,
  secretPointers: readonly string[],
): Json {
  const copy = structuredClone(incoming) as Json;
  forEachSecret(copy, secretPointers, (parent, key, path) => {
    if (parent[key] !== REDACTED) return;
    const old = stored === undefined ? undefined : lookup(stored, path);
    if (old === undefined) delete parent[key];
    else parent[key] = old;
  });
  return copy;
}

function lookup(root: Readonly<Json>, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}
