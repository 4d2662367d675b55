/**
 * Every error code the event contract reports, with its meaning: the ONE list (docs/event-schema.md
 * documents each; a test checks that). Codes are stable: tools match on them, so a code is never
 * renamed or reused for another meaning; new problems get new codes.
 */
export const EVENT_ERROR_CODES = {
  FS_NOT_OBJECT: 'The event is not a JSON object (it is an array, a string, a number, a boolean or null).',
  FS_REQUIRED: 'A field the validation mode requires is missing.',
  FS_NULL:
    'A field is null where a value is required. Strict: "If applicable" fields are omitted, never null. Lenient: null is accepted only on fields lenient mode does not require.',
  FS_TYPE:
    'A field has the wrong JSON type (e.g. an object where a number is expected, or "1827" in strict mode).',
  FS_EMPTY: 'A string or array field is empty where a value is required.',
  FS_RANGE:
    'A number is outside its allowed range (negative counts or durations, HTTP status outside 100–599).',
  FS_ENUM: 'A field is not one of its allowed values (retry_policy: "flow" or "handler").',
  FS_EVENT_TYPE_UNKNOWN: 'event_type is not one of the seven event types or their aliases.',
  FS_EVENT_TYPE_ALIAS:
    'Strict mode: event_type is an alias (e.g. FLOW_FAILED); strict requires the canonical name.',
  FS_FORMAT_UUID: 'Strict mode: the value is not a UUID (8-4-4-4-12 hexadecimal digits).',
  FS_FORMAT_ULID: 'Strict mode: the value is not a ULID (26 characters of upper-case Crockford base32).',
  FS_FORMAT_TIMESTAMP:
    'The timestamp is not an ISO 8601 date-time with a time zone (lenient), or not UTC with milliseconds and "Z", e.g. 2024-04-04T18:30:38.730Z (strict).',
  FS_FORMAT_FOLDER_ID_PATH: 'Strict mode: folder_id_path is not folder ULIDs joined by "/" (parent first).',
  FS_FORMAT_HOSTNAME: 'Strict mode: the value is not a DNS host name such as example.com.',
  FS_FORMAT_IDENTIFIER:
    'Strict mode: an enumeration-like value (engine_mode, error_type, throttling_type, throttling_level) contains spaces or other characters outside letters, digits, "_", ".", ":" and "-", or is longer than 128 characters.',
  FS_FORMAT_NUMBER:
    'Lenient mode: a number given as a string is not a plain non-negative decimal number such as "1827".',
  FS_FORMAT_BOOLEAN: 'Lenient mode: a boolean given as a string is not "true" or "false" (any letter case).',
  FS_UNVALIDATABLE:
    'The value could not be inspected (it is not plain JSON data, e.g. an object whose property access throws).',
  FS_JSON_SYNTAX: 'The input text (an NDJSON line or an array element) is not valid JSON.',
  FS_LINE_TOO_LONG:
    'An NDJSON line or an array element is longer than the limit (1 MiB by default); it is skipped.',
  FS_ARRAY_SYNTAX:
    'The JSON array itself is malformed (a missing comma or bracket, or data after the closing "]"); the rest of the input is not checked.',
} as const;

export type EventErrorCode = keyof typeof EVENT_ERROR_CODES;
