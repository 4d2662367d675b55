/**
 * validateEvent(): checks one parsed event against the contract in lenient or strict mode and reports
 * every problem as { path (JSON Pointer), code (error-codes.ts), message (a sentence) }.
 *
 * Speed: each Ajv validator is compiled once, on first use. The happy path dispatches on
 * event_type to the type's validator compiled without allErrors (stops at the first problem) and
 * returns a preallocated result; only an invalid event pays for the allErrors pass and the messages.
 * Never throws: anything unexpected (e.g. a getter that throws on a non-JSON input) becomes
 * FS_UNVALIDATABLE.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isRfc3339DateTime } from './date-time.js';
import {
  BASE_FIELDS,
  BASE_ONLY_SCHEMAS,
  type FieldDefinition,
  type FieldKind,
  fieldDefinition,
  LENIENT_EVENT_SCHEMAS,
  STRICT_EVENT_SCHEMAS,
  TYPE_FIELDS,
} from './definitions.js';
import type { EventErrorCode } from './error-codes.js';
import { canonicalEventType, EVENT_TYPES, type EventType } from './event-types.js';
import { fastRegExpEngine } from './fast-patterns.js';

export type ValidationMode = 'lenient' | 'strict';

export interface ValidationIssue {
  /** JSON Pointer (RFC 6901) of the offending value: "/duration", "/folder_name/1", "" for the event itself. */
  readonly path: string;
  readonly code: EventErrorCode;
  /** One sentence naming the field, what was expected and what was found. */
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly eventType: EventType }
  | { readonly ok: false; readonly errors: readonly ValidationIssue[] };

export const VALIDATION_MODES: readonly ValidationMode[] = ['lenient', 'strict'];

function newAjv(allErrors: boolean): Ajv {
  const ajv = new Ajv({
    allErrors,
    // The first-error pass only needs a yes/no; the allErrors pass needs the offending data.
    verbose: allErrors,
    messages: false,
    strict: true,
    allowUnionTypes: true,
    // The contract's patterns are ASCII: no Unicode regex mode needed.
    unicodeRegExp: false,
    code: { regExp: fastRegExpEngine },
  });
  ajv.addFormat('date-time', { type: 'string', validate: isRfc3339DateTime });
  return ajv;
}

// Validators are compiled on first use (each mode × type × pass), then kept: compiling all 30 at
// load took a noticeable part of the CLI's start-up, and most processes use one mode only.
let fastAjv: Ajv | undefined;
let fullAjv: Ajv | undefined;
const FAST: Record<ValidationMode, Partial<Record<EventType, ValidateFunction>>> = {
  lenient: {},
  strict: {},
};
const FULL: Record<ValidationMode, Partial<Record<EventType, ValidateFunction>>> = {
  lenient: {},
  strict: {},
};
const BASE_ONLY: Partial<Record<ValidationMode, ValidateFunction>> = {};

function schemaFor(mode: ValidationMode, type: EventType): object {
  return mode === 'strict' ? STRICT_EVENT_SCHEMAS[type] : LENIENT_EVENT_SCHEMAS[type];
}

function fastValidator(mode: ValidationMode, type: EventType): ValidateFunction {
  let v = FAST[mode][type];
  if (v === undefined) {
    fastAjv ??= newAjv(false);
    v = fastAjv.compile(schemaFor(mode, type));
    FAST[mode][type] = v;
  }
  return v;
}

function fullValidator(mode: ValidationMode, type: EventType): ValidateFunction {
  let v = FULL[mode][type];
  if (v === undefined) {
    fullAjv ??= newAjv(true);
    v = fullAjv.compile(schemaFor(mode, type));
    FULL[mode][type] = v;
  }
  return v;
}

function baseOnlyValidator(mode: ValidationMode): ValidateFunction {
  let v = BASE_ONLY[mode];
  if (v === undefined) {
    fullAjv ??= newAjv(true);
    v = fullAjv.compile(BASE_ONLY_SCHEMAS[mode]);
    BASE_ONLY[mode] = v;
  }
  return v;
}

const FIELD_ORDER: Readonly<Record<EventType | 'none', ReadonlyMap<string, number>>> = (() => {
  const orderOf = (fields: readonly string[]) => new Map(['event_type', ...fields].map((f, i) => [f, i]));
  const base = Object.keys(BASE_FIELDS);
  const entries = EVENT_TYPES.map((type) => [type, orderOf([...base, ...Object.keys(TYPE_FIELDS[type])])]);
  return Object.fromEntries([...entries, ['none', orderOf(base)]]);
})();

function firstToken(path: string): string {
  const end = path.indexOf('/', 1);
  return unescapePointerToken(end < 0 ? path.slice(1) : path.slice(1, end));
}

const OK_RESULTS: Readonly<Record<EventType, ValidationResult>> = Object.freeze(
  Object.fromEntries(
    EVENT_TYPES.map((type) => [type, Object.freeze({ ok: true, eventType: type })]),
  ) as Record<EventType, ValidationResult>,
);

/** Validates one parsed JSON value as an event. Reports all problems; never throws. */
export function validateEvent(value: unknown, mode: ValidationMode): ValidationResult {
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return failure([
        {
          path: '',
          code: 'FS_NOT_OBJECT',
          message: `An event must be a JSON object, got ${describeValue(value)}.`,
        },
      ]);
    }
    const rawType = (value as { event_type?: unknown }).event_type;
    const type = typeof rawType === 'string' ? canonicalEventType(rawType) : undefined;
    if (type === undefined) return failure(unknownTypeIssues(value, rawType, mode));
    if (fastValidator(mode, type)(value)) return OK_RESULTS[type];
    const full = fullValidator(mode, type);
    full(value);
    return failure(issuesFromAjv(full.errors ?? [], type, mode));
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message : String(err);
    return failure([
      {
        path: '',
        code: 'FS_UNVALIDATABLE',
        message: `The event could not be inspected as JSON data (${truncate(reason, 120)}).`,
      },
    ]);
  }
}

function failure(errors: ValidationIssue[]): ValidationResult {
  return { ok: false, errors };
}

function unknownTypeIssues(value: object, rawType: unknown, mode: ValidationMode): ValidationIssue[] {
  let first: ValidationIssue;
  if (rawType === undefined) {
    first = { path: '/event_type', code: 'FS_REQUIRED', message: 'event_type is required but is missing.' };
  } else if (rawType === null) {
    first = {
      path: '/event_type',
      code: 'FS_NULL',
      message: 'event_type must be an event type name such as "FLOW_START", got null.',
    };
  } else if (typeof rawType !== 'string') {
    first = {
      path: '/event_type',
      code: 'FS_TYPE',
      message: `event_type must be an event type name such as "FLOW_START", got ${describeValue(rawType)}.`,
    };
  } else {
    first = {
      path: '/event_type',
      code: 'FS_EVENT_TYPE_UNKNOWN',
      message: `event_type must be one of ${EVENT_TYPES.join(', ')} (or an alias such as FLOW_FAILED), got ${describeValue(rawType)}.`,
    };
  }
  // The per-type fields cannot be checked without a type; the Base Schema still can.
  const base = baseOnlyValidator(mode);
  base(value);
  return [first, ...issuesFromAjv(base.errors ?? [], undefined, mode)];
}

function issuesFromAjv(errors: readonly ErrorObject[], type: EventType | undefined, mode: ValidationMode) {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const issue = issueFromAjv(error, type, mode);
    // One issue per pointer: a timestamp failing both its pattern and its calendar check, or a value
    // failing several keywords, is one problem for a person.
    if (seen.has(issue.path)) continue;
    seen.add(issue.path);
    issues.push(issue);
  }
  // Report in the order of the contract's tables (event_type, Base Schema, per-type fields), not in
  // Ajv's order (all missing fields first): a person reads the event top to bottom.
  const order = FIELD_ORDER[type ?? 'none'];
  const rank = (issue: ValidationIssue) => order.get(firstToken(issue.path)) ?? order.size;
  return issues.sort((a, b) => rank(a) - rank(b));
}

function issueFromAjv(
  error: ErrorObject,
  type: EventType | undefined,
  mode: ValidationMode,
): ValidationIssue {
  if (error.keyword === 'required') {
    const field = String((error.params as { missingProperty?: unknown }).missingProperty ?? '');
    const strictNote = mode === 'strict' ? ' in strict validation' : '';
    return {
      path: `${error.instancePath}/${escapePointerToken(field)}`,
      code: 'FS_REQUIRED',
      message: `${field} is required${strictNote} but is missing.`,
    };
  }
  const path = error.instancePath;
  const tokens = path.split('/').slice(1).map(unescapePointerToken);
  const field = tokens[0] ?? '';
  const label = tokens.join('/');
  const data: unknown = error.data;
  if (field === 'event_type') {
    const canonical = typeof data === 'string' ? canonicalEventType(data) : undefined;
    const isAlias = canonical !== undefined && canonical !== data;
    return {
      path,
      code: isAlias && mode === 'strict' ? 'FS_EVENT_TYPE_ALIAS' : 'FS_EVENT_TYPE_UNKNOWN',
      message:
        isAlias && mode === 'strict'
          ? `event_type must be the canonical name "${canonical}" in strict validation, got the alias ${describeValue(data)}.`
          : `event_type must be ${type === undefined ? 'a known event type' : `"${type}"`}, got ${describeValue(data)}.`,
    };
  }
  const def = fieldDefinition(type, field);
  const isItem = tokens.length > 1;
  const expected = isItem ? itemExpectation(mode) : expectation(def, mode);
  const code = codeFor(error.keyword, data, def?.kind, isItem);
  const message =
    code === 'FS_NULL' && mode === 'strict' && def?.ifApplicable === true
      ? `${label} must not be null: omit it when it does not apply (expected ${expected}).`
      : `${label} must be ${expected}, got ${describeValue(data)}.`;
  return { path, code, message };
}

function codeFor(
  keyword: string,
  data: unknown,
  kind: FieldKind | undefined,
  isItem: boolean,
): EventErrorCode {
  switch (keyword) {
    case 'type':
      return data === null ? 'FS_NULL' : 'FS_TYPE';
    case 'minLength':
    case 'minItems':
      return 'FS_EMPTY';
    case 'minimum':
    case 'maximum':
      return 'FS_RANGE';
    case 'enum':
    case 'const':
      return 'FS_ENUM';
    case 'pattern':
    case 'format':
      return isItem || kind === undefined ? 'FS_TYPE' : FORMAT_CODES[kind];
    default:
      return 'FS_TYPE';
  }
}

const FORMAT_CODES: Readonly<Record<FieldKind, EventErrorCode>> = {
  uuid: 'FS_FORMAT_UUID',
  ulid: 'FS_FORMAT_ULID',
  timestamp: 'FS_FORMAT_TIMESTAMP',
  string: 'FS_TYPE',
  hostname: 'FS_FORMAT_HOSTNAME',
  identifier: 'FS_FORMAT_IDENTIFIER',
  'folder-id-path': 'FS_FORMAT_FOLDER_ID_PATH',
  'string-array': 'FS_TYPE',
  integer: 'FS_FORMAT_NUMBER',
  'status-code': 'FS_FORMAT_NUMBER',
  boolean: 'FS_FORMAT_BOOLEAN',
  'retry-policy': 'FS_ENUM',
};

function unitSuffix(def: FieldDefinition): string {
  return def.unit === undefined ? '' : ` of ${def.unit}`;
}

function itemExpectation(mode: ValidationMode): string {
  return mode === 'strict' ? 'a non-empty string (a folder name)' : 'a string (a folder name)';
}

/** What a field must hold, as the end of the sentence "<field> must be …". */
function expectation(def: FieldDefinition | undefined, mode: ValidationMode): string {
  if (def === undefined) return 'valid';
  const example = typeof def.typedExample === 'string' ? ` such as "${def.typedExample}"` : '';
  if (mode === 'lenient') {
    switch (def.kind) {
      case 'timestamp':
        return 'an ISO 8601 date-time with a time zone, such as "2024-04-04T18:30:38.730Z"';
      case 'string-array':
        return 'an array of folder names (strings), or a string';
      case 'integer':
        return `a number${unitSuffix(def)} ≥ 0 or a string holding one, such as ${def.typedExample} or "${def.typedExample}"`;
      case 'status-code':
        return 'an HTTP status code, as a number or a string of digits, such as 429 or "429"';
      case 'boolean':
        return 'true or false, or the string "true" or "false" in any letter case';
      default:
        return def.lenient === 'required' ? 'a non-empty string' : 'a string';
    }
  }
  switch (def.kind) {
    case 'uuid':
      return `a UUID${example}`;
    case 'ulid':
      return `a 26-character ULID (upper-case Crockford base32)${example}`;
    case 'timestamp':
      return `an ISO 8601 UTC timestamp with milliseconds and "Z"${example}`;
    case 'string':
      return 'a non-empty string';
    case 'hostname':
      return `a host name${example}`;
    case 'identifier':
      return `an identifier of letters, digits, "_", ".", ":" or "-" (no spaces, at most 128 characters)${example}`;
    case 'folder-id-path':
      return `folder ULIDs joined by "/", parent first,${example}`;
    case 'string-array':
      return 'a non-empty array of folder names (strings), parent first';
    case 'integer':
      return `a whole number${unitSuffix(def)} ≥ 0 as a JSON number, not a string`;
    case 'status-code':
      return 'an HTTP status code, a whole number from 100 to 599';
    case 'boolean':
      return 'true or false (a JSON boolean, not a string)';
    case 'retry-policy':
      return '"flow" or "handler"';
  }
}

/** A short, safe rendering of a value for messages (long strings are cut, structures are named). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string')
    return value.length === 0 ? 'an empty string' : JSON.stringify(truncate(value, 60));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointerToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}
