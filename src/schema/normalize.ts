/**
 * normalizeEvent(): a lenient-valid event in its typed form (the `FlowEvent` flowstream produces):
 * - numbers given as strings become numbers ("1827" → 1827), booleans given as strings become
 *   booleans ("TRUE" → true), an alias event_type becomes its canonical name;
 * - `folder_name` given as one string becomes a one-element array ("" → []); it is not split on "/",
 *   because folder names may contain "/";
 * - `folder_id_path` loses whitespace around its "/" separators (the seed prints "ULID/ ULID");
 * - `timestamp` becomes UTC with milliseconds and "Z" (`toISOString()`; sub-millisecond digits are
 *   cut); a leap second, which JavaScript dates cannot hold, is left as received;
 * - `retry_policy` "Flow"/"handler (try/catch)" become "flow"/"handler" (the seed's two values);
 * - null on an optional field means absent: the field is dropped;
 * - ids are kept as received (a non-ULID id cannot be turned into one), unknown fields are kept.
 * The input is never mutated. The result is not necessarily strict-valid (e.g. ids, missing fields);
 * it is typed so that consumers can rely on JSON types.
 */
import {
  BASE_FIELDS,
  type FieldDefinition,
  type FieldTable,
  type FlowEvent,
  TYPE_FIELDS,
} from './definitions.js';
import { canonicalEventType } from './event-types.js';
import { type ValidationIssue, validateEvent } from './validate.js';

/** Thrown by normalizeEvent() for an input that is not lenient-valid (a caller's mistake: validate first). */
export class EventValidationError extends Error {
  readonly code = 'FS_INVALID_EVENT';
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    super(`the event is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join(' ')}`);
    this.name = 'EventValidationError';
    this.issues = issues;
  }
}

/** The typed form of a lenient-valid event. Throws EventValidationError when `raw` is not lenient-valid. */
export function normalizeEvent(raw: unknown): FlowEvent {
  const result = validateEvent(raw, 'lenient');
  if (!result.ok) throw new EventValidationError(result.errors);
  const source = raw as Readonly<Record<string, unknown>>;
  const own: FieldTable = TYPE_FIELDS[result.eventType];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (key === 'event_type') {
      set(out, key, canonicalEventType(value as string));
      continue;
    }
    const def = Object.hasOwn(own, key)
      ? own[key]
      : Object.hasOwn(BASE_FIELDS, key)
        ? (BASE_FIELDS as FieldTable)[key]
        : undefined;
    if (def === undefined) {
      set(out, key, value);
      continue;
    }
    if (value === null) continue;
    set(out, key, normalizeValue(def, value));
  }
  return out as FlowEvent;
}

// An own "__proto__" key (JSON.parse creates one) must stay a plain data property, not set the prototype.
function set(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function normalizeValue(def: FieldDefinition, value: unknown): unknown {
  switch (def.kind) {
    case 'integer':
    case 'status-code':
      return typeof value === 'string' ? Number(value) : value;
    case 'boolean':
      return typeof value === 'string' ? value.toLowerCase() === 'true' : value;
    case 'string-array':
      return typeof value === 'string' ? (value === '' ? [] : [value]) : [...(value as readonly string[])];
    case 'folder-id-path':
      return typeof value === 'string' && /\s/.test(value)
        ? value
            .split(/\s*\/\s*/)
            .join('/')
            .trim()
        : value;
    case 'timestamp':
      return typeof value === 'string' ? normalizeTimestamp(value) : value;
    case 'retry-policy':
      return typeof value === 'string' ? normalizeRetryPolicy(value) : value;
    default:
      return value;
  }
}

const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function normalizeTimestamp(value: string): string {
  if (CANONICAL_TIMESTAMP.test(value)) return value;
  // Lenient accepts "t"/" " as the separator, "z" and an hours-only offset; Date.parse wants ISO.
  const iso = `${value.slice(0, 10)}T${value.slice(11)}`.replace(/z$/, 'Z').replace(/([+-]\d{2})$/, '$1:00');
  const millis = Date.parse(iso);
  if (Number.isNaN(millis)) return value;
  const year = new Date(millis).getUTCFullYear();
  return year >= 0 && year <= 9999 ? new Date(millis).toISOString() : value;
}

function normalizeRetryPolicy(value: string): string {
  const lower = value.trim().toLowerCase();
  if (lower === 'flow') return 'flow';
  if (lower === 'handler' || lower.startsWith('handler ') || lower === 'try/catch') return 'handler';
  return value;
}
