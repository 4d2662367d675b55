import type { StreamDefinition } from './stream.js';

/**
 * Secret settings are write-only (SPEC §3): responses show them as `REDACTED`. A client that
 * reads a stream and writes it back sends `REDACTED` where a secret was; `restoreRedacted` puts the
 * stored value back, so a PUT does not overwrite a secret with the placeholder.
 *
 * Secrets are named by `DestinationDefinition.secretSettings`: JSON Pointers into `settings`; a final
 * `*` means every value of that object (`/headers/*`). The PII key (`transforms.hashUserEmail.key`)
 * is always secret.
 */

export const REDACTED = '********';

type Json = Record<string, unknown>;

/** A copy of `settings` with every secret value that is present replaced by `REDACTED`. */
export function redactSettings(settings: Readonly<Json>, secretPointers: readonly string[]): Json {
  const copy = structuredClone(settings) as Json;
  for (const pointer of secretPointers) {
    for (const [parent, key] of locate(copy, pointer)) {
      if (parent[key] !== undefined && parent[key] !== null) parent[key] = REDACTED;
    }
  }
  return copy;
}

/** `next` with each secret that equals `REDACTED` replaced by the value at the same place in `previous`. */
export function restoreRedacted(
  next: Readonly<Json>,
  previous: Readonly<Json>,
  secretPointers: readonly string[],
): Json {
  const copy = structuredClone(next) as Json;
  for (const pointer of secretPointers) {
    for (const [parent, key, path] of locate(copy, pointer)) {
      if (parent[key] !== REDACTED) continue;
      const old = valueAt(previous, path);
      if (old !== undefined) parent[key] = structuredClone(old);
    }
  }
  return copy;
}

/** The stream as an API response shows it: secret settings and the PII key redacted. */
export function redactStream(stream: StreamDefinition, secretPointers: readonly string[]): StreamDefinition {
  const hash = stream.transforms.hashUserEmail;
  return {
    ...stream,
    settings: redactSettings(stream.settings, secretPointers),
    transforms:
      hash === undefined ? stream.transforms : { ...stream.transforms, hashUserEmail: { key: REDACTED } },
  };
}

/** [parent object, key, path segments] for each existing location the pointer names. */
function locate(root: Json, pointer: string): [Json, string, string[]][] {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = segments.pop();
  if (last === undefined) return [];
  let node: unknown = root;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object') return [];
    node = (node as Json)[segment];
  }
  if (node === null || typeof node !== 'object') return [];
  const parent = node as Json;
  const keys = last === '*' ? Object.keys(parent) : Object.hasOwn(parent, last) ? [last] : [];
  return keys.map((key) => [parent, key, [...segments, key]]);
}

function valueAt(root: Readonly<Json>, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Json)[segment];
  }
  return node;
}
