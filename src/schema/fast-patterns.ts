/**
 * A RegExp engine for Ajv (`code.regExp`) that answers the contract's own patterns with hand-written
 * char-code scanners and everything else with `RegExp`. The schemas keep their portable `pattern`
 * strings (what schemas/ publishes); only the runtime check is faster (a UUID or ULID regex test was
 * most of the cost of a strict validation). Each scanner matches exactly what its pattern matches: a
 * property test compares them on generated near-miss strings.
 */
import {
  BOOLEAN_STRING_PATTERN,
  FOLDER_ID_PATH_PATTERN,
  HOSTNAME_PATTERN,
  IDENTIFIER_PATTERN,
  NUMBER_STRING_PATTERN,
  STRICT_TIMESTAMP_PATTERN,
  ULID_PATTERN,
  UUID_PATTERN,
} from './definitions.js';

export interface RegExpLike {
  test(s: string): boolean;
  toString(): string;
}

// Lookup tables indexed by char code (0–127); anything ≥ 128 is never in these classes.
function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  return t;
}
const DIGITS = '0123456789';
const HEX = table(`${DIGITS}abcdefABCDEF`);
const CROCKFORD = table(`${DIGITS}ABCDEFGHJKMNPQRSTVWXYZ`);
const ALNUM = table(`${DIGITS}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ`);
const IDENTIFIER_REST = table(`${DIGITS}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.:-`);

function inTable(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$` */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!inTable(HEX, c)) return false;
  }
  return true;
}

function isUlidAt(s: string, from: number): boolean {
  const first = s.charCodeAt(from);
  if (first < 48 || first > 55) return false; // [0-7]
  for (let i = from + 1; i < from + 26; i++) if (!inTable(CROCKFORD, s.charCodeAt(i))) return false;
  return true;
}

/** `^[0-7][0-9A-HJKMNP-TV-Z]{25}$` */
export function isUlid(s: string): boolean {
  return s.length === 26 && isUlidAt(s, 0);
}

/** ULIDs joined by "/": `^ULID(?:/ULID)*$` */
export function isFolderIdPath(s: string): boolean {
  const n = s.length;
  if (n < 26 || (n + 1) % 27 !== 0) return false;
  for (let at = 0; at < n; at += 27) {
    if (!isUlidAt(s, at)) return false;
    if (at + 26 < n && s.charCodeAt(at + 26) !== 47) return false;
  }
  return true;
}

/** `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$` */
export function isStrictTimestampForm(s: string): boolean {
  if (s.length !== 24) return false;
  for (let i = 0; i < 24; i++) {
    const c = s.charCodeAt(i);
    switch (i) {
      case 4:
      case 7:
        if (c !== 45) return false;
        break;
      case 10:
        if (c !== 84) return false;
        break;
      case 13:
      case 16:
        if (c !== 58) return false;
        break;
      case 19:
        if (c !== 46) return false;
        break;
      case 23:
        if (c !== 90) return false;
        break;
      default:
        if (!isDigit(c)) return false;
    }
  }
  return true;
}

/**
 * `^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`:
 * 1–253 chars; dot-separated labels of 1–63 chars, letters/digits/hyphens, no hyphen at either end.
 * (`.` in the lookahead excludes line terminators, which the label classes exclude anyway.)
 */
export function isHostname(s: string): boolean {
  const n = s.length;
  if (n < 1 || n > 253) return false;
  let labelStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : s.charCodeAt(i);
    if (c === 46) {
      const len = i - labelStart;
      if (len < 1 || len > 63) return false;
      if (s.charCodeAt(labelStart) === 45 || s.charCodeAt(i - 1) === 45) return false;
      labelStart = i + 1;
    } else if (c !== 45 && !inTable(ALNUM, c)) return false;
  }
  return true;
}

/** `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$` */
export function isIdentifier(s: string): boolean {
  const n = s.length;
  if (n < 1 || n > 128 || !inTable(ALNUM, s.charCodeAt(0))) return false;
  for (let i = 1; i < n; i++) if (!inTable(IDENTIFIER_REST, s.charCodeAt(i))) return false;
  return true;
}

/** `^[0-9]{1,16}(?:\.[0-9]{1,16})?$` */
export function isNumberString(s: string): boolean {
  const n = s.length;
  let i = 0;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i < 1 || i > 16) return false;
  if (i === n) return true;
  if (s.charCodeAt(i) !== 46) return false;
  const fractionStart = ++i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  return i === n && i - fractionStart >= 1 && i - fractionStart <= 16;
}

/** `^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$` */
export function isBooleanString(s: string): boolean {
  // (c | 32) === lower-case letter holds exactly for that letter in either case.
  const is = (i: number, lower: string) => (s.charCodeAt(i) | 32) === lower.charCodeAt(0);
  if (s.length === 4) return is(0, 't') && is(1, 'r') && is(2, 'u') && is(3, 'e');
  return s.length === 5 && is(0, 'f') && is(1, 'a') && is(2, 'l') && is(3, 's') && is(4, 'e');
}

const SCANNERS: ReadonlyMap<string, (s: string) => boolean> = new Map([
  [UUID_PATTERN, isUuid],
  [ULID_PATTERN, isUlid],
  [FOLDER_ID_PATH_PATTERN, isFolderIdPath],
  [STRICT_TIMESTAMP_PATTERN, isStrictTimestampForm],
  [HOSTNAME_PATTERN, isHostname],
  [IDENTIFIER_PATTERN, isIdentifier],
  [NUMBER_STRING_PATTERN, isNumberString],
  [BOOLEAN_STRING_PATTERN, isBooleanString],
]);

/** Ajv's `code.regExp` option: scanners for the contract's patterns, RegExp for any other. */
export const fastRegExpEngine = Object.assign(
  (pattern: string, flags: string): RegExpLike => {
    const scan = SCANNERS.get(pattern);
    if (scan === undefined) return new RegExp(pattern, flags);
    // Ajv keys compiled patterns by toString(): keep it the regex's own text.
    return { test: scan, toString: () => `/${pattern}/${flags}` };
  },
  // Only used when Ajv generates standalone code, which flowstream does not do.
  { code: 'new RegExp' },
);

/** The patterns that have a scanner (for the equivalence test). */
export function scannedPatterns(): ReadonlyMap<string, (s: string) => boolean> {
  return SCANNERS;
}
