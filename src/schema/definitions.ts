/**
 * The event contract's one source of truth (SPEC §1): every Base Schema field and every per-type field
 * of Okta's "Event metadata for Execution Log Streaming" (seed document), with its description and
 * example copied from the seed, its kind, and whether strict and lenient validation require it.
 *
 * Everything else is derived from these tables: the TypeBox schemas (strict and lenient, per type and
 * for the union), the TypeScript event types (`Static<>` of the strict schemas), the published JSON
 * Schemas under `schemas/`, the validator's error messages and the field list in docs/event-schema.md.
 *
 * Decisions the seed leaves open are recorded in docs/event-schema.md ("Decisions"); the short form:
 * - Strict = what flowstream produces: every field not marked "If applicable" is required, in its
 *   documented type and format. "If applicable" fields are omitted when they do not apply, never null.
 * - Lenient = what real producers send (the seed's own examples): only the fields that delivery needs
 *   are required (event_type, execution_id, timestamp, flow_id, org_id, idempotency_key), numbers and
 *   booleans may be strings, ids need not be UUIDs/ULIDs, null stands for "absent" on optional fields.
 * - Unknown extra fields are allowed in both modes (forward compatibility).
 */
import {
  type Static,
  type TArray,
  type TBoolean,
  type TInteger,
  type TObject,
  type TOptional,
  type TSchema,
  type TString,
  type TUnsafe,
  Type,
} from '@sinclair/typebox';
import { aliasesOf, EVENT_TYPES, type EventType } from './event-types.js';

/** How a field's value is checked. Each kind has one strict and one lenient schema (below). */
export type FieldKind =
  | 'uuid'
  | 'ulid'
  | 'timestamp'
  | 'string'
  | 'hostname'
  | 'identifier'
  | 'folder-id-path'
  | 'string-array'
  | 'integer'
  | 'status-code'
  | 'boolean'
  | 'retry-policy';

export type Presence = 'required' | 'optional';

export interface FieldDefinition {
  readonly kind: FieldKind;
  /** The seed's description, verbatim. */
  readonly description: string;
  /**
   * The seed table's example value exactly as printed there (numbers and booleans are strings in the
   * seed's tables); `undefined` where the seed gives none (throttling_type, throttling_level).
   */
  readonly seedExample: string | readonly string[] | undefined;
  /** A value of this field as flowstream produces it (strict-valid). */
  readonly typedExample: string | number | boolean | readonly string[];
  readonly strict: Presence;
  readonly lenient: Presence;
  /** The seed marks the field "If applicable": it is omitted (never null) when it does not apply. */
  readonly ifApplicable: boolean;
  readonly unit?: 'milliseconds' | 'seconds';
}

export type FieldTable = Readonly<Record<string, FieldDefinition>>;

// Crockford base32 as the ULID spec writes it: 26 characters, upper case, the first at most "7"
// (a ULID is 128 bits). Lower case is refused in strict mode: ULIDs are canonically upper case.
const ULID_BODY = '[0-7][0-9A-HJKMNP-TV-Z]{25}';
export const ULID_PATTERN = `^${ULID_BODY}$`;
/** Any RFC 4122/9562 UUID (any version), either letter case. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** The one timestamp form flowstream produces: `Date.prototype.toISOString()` of a date in years 0–9999. */
export const STRICT_TIMESTAMP_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$';
/** Folder ULIDs joined by "/", parent first; at least one folder. */
export const FOLDER_ID_PATH_PATTERN = `^${ULID_BODY}(?:/${ULID_BODY})*$`;
/** A DNS host name (or IPv4 address): dot-separated labels of letters, digits and inner hyphens, ≤ 253 chars. */
export const HOSTNAME_PATTERN =
  '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';
/** Enumeration-like values (engine_mode, error_type, throttling_type/level): no spaces, ≤ 128 chars. */
export const IDENTIFIER_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
/** Lenient string form of a non-negative number: "1827", "0", "12.5". */
export const NUMBER_STRING_PATTERN = '^[0-9]{1,16}(?:\\.[0-9]{1,16})?$';
/** Lenient string form of a boolean, any letter case: "true", "FALSE", "True". */
export const BOOLEAN_STRING_PATTERN = '^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$';
export const RETRY_POLICIES = ['flow', 'handler'] as const;
export type RetryPolicy = (typeof RETRY_POLICIES)[number];

/** `event_type` is described here for the docs; its schema is built per type (a literal), not by kind. */
export const EVENT_TYPE_FIELD = {
  description: 'The event type. For example, FLOW_START indicates that the flow started.',
  seedExample: '"FLOW_START"',
} as const;

/** The Base Schema without `event_type`, in the seed's order. */
export const BASE_FIELDS = {
  execution_id: {
    kind: 'uuid',
    description: 'A Universally Unique Identifier (UUID) for this execution of the flow.',
    seedExample: '4632dc20-6989-4c57-9b5f-c17528474086',
    typedExample: '4632dc20-6989-4c57-9b5f-c17528474086',
    strict: 'required',
    lenient: 'required',
    ifApplicable: false,
  },
  timestamp: {
    kind: 'timestamp',
    description: 'The time the event fired, denoted with a standard ISO8601 UTC timestamp.',
    seedExample: '2024-04-04T18:30:38.730Z',
    typedExample: '2024-04-04T18:30:38.730Z',
    strict: 'required',
    lenient: 'required',
    ifApplicable: false,
  },
  flow_id: {
    kind: 'ulid',
    description:
      'The 26-character Universally Unique Lexicographically Sortable Identifier (ULID) for this flow.',
    seedExample: '01J29TGKQERR78AD3VN0P9DPSW',
    typedExample: '01J29TGKQERR78AD3VN0P9DPSW',
    strict: 'required',
    lenient: 'required',
    ifApplicable: false,
  },
  flow_name: {
    kind: 'string',
    description: 'A human-readable name for this flow.',
    seedExample: 'Log Stream Example',
    typedExample: 'Log Stream Example',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  org_id: {
    kind: 'ulid',
    description: 'The ULID for the org where the flow ran.',
    seedExample: '01J29TH3XHECT79M257GG2QTKJ',
    typedExample: '01J29TH3XHECT79M257GG2QTKJ',
    strict: 'required',
    lenient: 'required',
    ifApplicable: false,
  },
  org_name: {
    kind: 'string',
    description: 'A human-readable name for the Okta org.',
    seedExample: 'logstream-01',
    typedExample: 'logstream-01',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  org_hostname: {
    kind: 'hostname',
    description: "The domain for the org's Okta Workflows tenant.",
    seedExample: 'atko.okta.com',
    typedExample: 'atko.okta.com',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  user_id: {
    kind: 'ulid',
    description: 'The ULID for the Okta user associated with this flow execution.',
    seedExample: '01J29TRZDZKSY6V70GATDAHN2N',
    typedExample: '01J29TRZDZKSY6V70GATDAHN2N',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  user_email: {
    // Not format-checked even in strict mode: the seed's own examples carry an already hashed value
    // and streams may hash it (PII transform), so "an email address" cannot be a contract.
    kind: 'string',
    description: 'The contact email for the Okta user associated with this flow execution.',
    seedExample: 'jessie.doe@example.corp',
    typedExample: 'jessie.doe@example.corp',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  parent_execution_id: {
    kind: 'uuid',
    description: 'If applicable, the UUID for the execution that directly invoked this flow.',
    seedExample: '5001fcad-2ec4-4cd8-935e-57f14166e673',
    typedExample: '5001fcad-2ec4-4cd8-935e-57f14166e673',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  parent_flow_id: {
    kind: 'ulid',
    description: 'If applicable, the ULID for the flow that directly invoked this flow.',
    seedExample: '01J29TTH757HFCK5FPMCRCT6A3',
    typedExample: '01J29TTH757HFCK5FPMCRCT6A3',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  parent_flow_name: {
    kind: 'string',
    description: 'If applicable, a human-readable name for the flow that directly invoked this flow.',
    seedExample: 'Immediate Parent Flow Calling Example Flow',
    typedExample: 'Immediate Parent Flow Calling Example Flow',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  root_execution_id: {
    kind: 'uuid',
    description: 'If applicable, the UUID for the execution that started this chain of executions.',
    seedExample: '0af35fac-d6d8-47cc-b59a-9954711c5ec8',
    typedExample: '0af35fac-d6d8-47cc-b59a-9954711c5ec8',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  root_flow_id: {
    kind: 'ulid',
    description: 'If applicable, the ULID for the flow that started this chain of executions.',
    seedExample: '01J29TTS7X37QSTKPJBGS52ENF',
    typedExample: '01J29TTS7X37QSTKPJBGS52ENF',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  root_flow_name: {
    kind: 'string',
    description: 'If applicable, a human-readable name for the flow that started this chain of executions.',
    seedExample: 'Root Flow Calling Example Flow',
    typedExample: 'Root Flow Calling Example Flow',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  folder_id_path: {
    kind: 'folder-id-path',
    description:
      'The path of the folder IDs (given as an ULID value) where this flow lives. The value appears in descending order, with the parent folder listed first.',
    // The seed prints a space after the "/"; flowstream produces (and strict requires) none.
    seedExample: '01J2CT7B5P5DFHKFDE85FW6BTV/ 01J2CT9EN0Q26F3BX8YMWE1EDX',
    typedExample: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  folder_id: {
    kind: 'ulid',
    description: 'The ULID for the folder where this flow lives.',
    seedExample: '01J29T9NX4WVFNNSDG2FMQBYR8',
    typedExample: '01J29T9NX4WVFNNSDG2FMQBYR8',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  folder_name: {
    kind: 'string-array',
    description:
      'The path where this flow lives, using human-readable folder names. The parent folder is listed first.',
    seedExample: ['My parent folder', 'My child folder'],
    typedExample: ['My parent folder', 'My child folder'],
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  engine_mode: {
    kind: 'identifier',
    description: 'At the time of this event, the mode in which Okta Workflows executed this flow.',
    seedExample: 'realtime',
    typedExample: 'realtime',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  idempotency_key: {
    kind: 'uuid',
    description: 'The UUID for this message.',
    seedExample: 'f1aaa750-6d92-485e-acf7-dd167e00db2f',
    typedExample: 'f1aaa750-6d92-485e-acf7-dd167e00db2f',
    strict: 'required',
    lenient: 'required',
    ifApplicable: false,
  },
  throttled: {
    kind: 'boolean',
    description: 'Indicates if this flow ran in throttled mode.',
    seedExample: 'false',
    typedExample: false,
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
} as const satisfies FieldTable;

const DURATION_MILLIS = {
  kind: 'integer',
  description: 'In milliseconds, the time it took the flow to complete.',
  seedExample: '7200',
  typedExample: 7200,
  strict: 'required',
  lenient: 'optional',
  ifApplicable: false,
  unit: 'milliseconds',
} as const satisfies FieldDefinition;

const STEP_COUNT = {
  kind: 'integer',
  description: 'The number of steps that ran in this flow execution.',
  seedExample: '12',
  typedExample: 12,
  strict: 'required',
  lenient: 'optional',
  ifApplicable: false,
} as const satisfies FieldDefinition;

function address(description: string, seedExample: string) {
  return {
    kind: 'string',
    description,
    seedExample,
    typedExample: seedExample,
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  } as const satisfies FieldDefinition;
}

const FLOW_START_FIELDS = {
  depth: {
    kind: 'integer',
    description:
      'An indication of how many flows deep this is in the stack in relation to the number of executions that precede it.',
    seedExample: '5',
    typedExample: 5,
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  address: address(
    'A text string identifying the action that started the flow. Internal operations start with root:kernel, while connector card strings include the vendor and method, for example gmail:sendEmail.',
    'root:kernel:string:0.0.1:compose',
  ),
} as const satisfies FieldTable;

const FLOW_COMPLETE_FIELDS = {
  duration: { ...DURATION_MILLIS, seedExample: '1827', typedExample: 1827 },
  step_count: { ...STEP_COUNT, seedExample: '108', typedExample: 108 },
  address: address(
    'A text string that identifies the card or step where the flow finished.',
    'root:kernel:control:0.0.1:return',
  ),
} as const satisfies FieldTable;

const FLOW_FAIL_FIELDS = {
  duration: DURATION_MILLIS,
  step_count: STEP_COUNT,
  address: address(
    'A text string that identifies the card or step where the flow finished.',
    'gmail:sendEmail:example:1.0.17',
  ),
  error_message: {
    kind: 'string',
    description: 'A human-readable error message returned by Okta or the third-party service.',
    seedExample: 'Example error message',
    typedExample: 'Example error message',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  error_code: {
    // A plain string: third-party services' codes are not ours to constrain (numbers, words, dots…).
    kind: 'string',
    description: 'The returned error code, either by Okta or the third-party service.',
    seedExample: 'XXXXX_XXXXX',
    typedExample: 'XXXXX_XXXXX',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  error_type: {
    kind: 'identifier',
    description: 'An enumeration value that classifies the kind of error.',
    seedExample: 'example_error',
    typedExample: 'example_error',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  fatal: {
    kind: 'boolean',
    description: 'Indicates if the failure was fatal.',
    seedExample: 'TRUE',
    typedExample: true,
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  retry_policy: {
    kind: 'retry-policy',
    description: 'If applicable, the policy in effect for retrying the flow.',
    // The seed's example column reads `Flow | handler (try/catch)`: two values, written here as
    // "flow" (the flow's own retry setting) and "handler" (a try/catch error handler card).
    seedExample: 'Flow | handler (try/catch)',
    typedExample: 'flow',
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
  },
  retry_delay: {
    kind: 'integer',
    description: 'If applicable, the waiting period in seconds before the next flow retry attempt.',
    seedExample: '600',
    typedExample: 600,
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
    unit: 'seconds',
  },
} as const satisfies FieldTable;

const FLOW_CANCEL_FIELDS = {
  duration: DURATION_MILLIS,
  step_count: STEP_COUNT,
  address: address(
    'A text string that identifies the card or step where the flow finished.',
    'gmail:sendEmail:example:1.0.17',
  ),
} as const satisfies FieldTable;

const FLOW_PAUSE_FIELDS = {
  pause_duration: {
    kind: 'integer',
    description:
      'If applicable, the total length of time in milliseconds that the pause or wait operation is expected to last.',
    seedExample: '7200',
    typedExample: 7200,
    strict: 'optional',
    lenient: 'optional',
    ifApplicable: true,
    unit: 'milliseconds',
  },
  address: address(
    'A text string that identifies the card or step where the flow paused.',
    'gmail:sendEmail:example:1.0.17',
  ),
} as const satisfies FieldTable;

const FLOW_RATE_LIMIT_FIELDS = {
  address: address(
    'A text string that identifies the card or step where the flow was rate-limited.',
    'gmail:sendEmail:example:1.0.17',
  ),
  status_code: {
    kind: 'status-code',
    description: 'The HTTP status code returned by the third-party service.',
    seedExample: '429',
    typedExample: 429,
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  backoff_duration: {
    kind: 'integer',
    description: 'In seconds, the duration of the backoff.',
    seedExample: '30',
    typedExample: 30,
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
    unit: 'seconds',
  },
  hostname: {
    kind: 'hostname',
    description: 'The domain where the rate limit occurred.',
    seedExample: 'example.com',
    typedExample: 'example.com',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
} as const satisfies FieldTable;

const FLOW_THROTTLE_FIELDS = {
  throttling_type: {
    kind: 'identifier',
    description: 'The type of throttling that took place.',
    seedExample: undefined,
    typedExample: 'execution_rate_limit',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
  throttling_level: {
    kind: 'identifier',
    description: 'The scope of the throttling event.',
    seedExample: undefined,
    typedExample: 'org',
    strict: 'required',
    lenient: 'optional',
    ifApplicable: false,
  },
} as const satisfies FieldTable;

/** Per-type fields, keyed by canonical type, with the seed section each comes from. */
export const TYPE_FIELDS = {
  FLOW_START: FLOW_START_FIELDS,
  FLOW_COMPLETE: FLOW_COMPLETE_FIELDS,
  FLOW_FAIL: FLOW_FAIL_FIELDS,
  FLOW_CANCEL: FLOW_CANCEL_FIELDS,
  FLOW_PAUSE: FLOW_PAUSE_FIELDS,
  FLOW_RATE_LIMIT: FLOW_RATE_LIMIT_FIELDS,
  FLOW_THROTTLE: FLOW_THROTTLE_FIELDS,
} as const satisfies Record<EventType, FieldTable>;

export const SEED_SECTIONS: Readonly<Record<EventType, string>> = {
  FLOW_START: 'Flow Started',
  FLOW_COMPLETE: 'Flow Completed',
  FLOW_FAIL: 'Flow Failed',
  FLOW_CANCEL: 'Flow Canceled',
  FLOW_PAUSE: 'Flow Paused',
  FLOW_RATE_LIMIT: 'Flow Rate Limited (by third party)',
  FLOW_THROTTLE: 'Flow Throttled (by Okta)',
};

/** The definition of `field` for events of `type` (per-type fields first, then the Base Schema). */
export function fieldDefinition(type: EventType | undefined, field: string): FieldDefinition | undefined {
  if (type !== undefined) {
    const own = (TYPE_FIELDS[type] as FieldTable)[field];
    if (own !== undefined && Object.hasOwn(TYPE_FIELDS[type], field)) return own;
  }
  return Object.hasOwn(BASE_FIELDS, field) ? (BASE_FIELDS as FieldTable)[field] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Strict schemas (TypeBox): what flowstream produces. Their Static<> types are the event types.

interface StrictKindSchemas {
  uuid: TString;
  ulid: TString;
  timestamp: TString;
  string: TString;
  hostname: TString;
  identifier: TString;
  'folder-id-path': TString;
  'string-array': TArray<TString>;
  integer: TInteger;
  'status-code': TInteger;
  boolean: TBoolean;
  'retry-policy': TUnsafe<RetryPolicy>;
}

type StrictProperty<F extends FieldDefinition> = F['strict'] extends 'required'
  ? StrictKindSchemas[F['kind']]
  : TOptional<StrictKindSchemas[F['kind']]>;
type StrictProperties<T extends FieldTable> = { -readonly [K in keyof T]: StrictProperty<T[K]> };

function annotations(def: FieldDefinition): { description: string; examples: unknown[] } {
  const unit = def.unit === undefined ? '' : ` Unit: ${def.unit}.`;
  return { description: `${def.description}${unit}`, examples: [def.typedExample] };
}

function strictKindSchema(def: FieldDefinition): TSchema {
  const a = annotations(def);
  switch (def.kind) {
    case 'uuid':
      return Type.String({ ...a, pattern: UUID_PATTERN });
    case 'ulid':
      return Type.String({ ...a, pattern: ULID_PATTERN });
    case 'timestamp':
      // The pattern fixes the form; `format` adds the calendar check (no 2024-02-30).
      return Type.String({ ...a, pattern: STRICT_TIMESTAMP_PATTERN, format: 'date-time' });
    case 'string':
      return Type.String({ ...a, minLength: 1 });
    case 'hostname':
      return Type.String({ ...a, pattern: HOSTNAME_PATTERN });
    case 'identifier':
      return Type.String({ ...a, pattern: IDENTIFIER_PATTERN });
    case 'folder-id-path':
      return Type.String({ ...a, pattern: FOLDER_ID_PATH_PATTERN });
    case 'string-array':
      return Type.Array(Type.String({ minLength: 1 }), { ...a, minItems: 1 });
    case 'integer':
      return Type.Integer({ ...a, minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    case 'status-code':
      return Type.Integer({ ...a, minimum: 100, maximum: 599 });
    case 'boolean':
      return Type.Boolean(a);
    case 'retry-policy':
      return Type.Unsafe<RetryPolicy>({ ...a, type: 'string', enum: [...RETRY_POLICIES] });
  }
}

function strictProperties<T extends FieldTable>(fields: T): StrictProperties<T> {
  const out: Record<string, TSchema> = {};
  for (const [name, def] of Object.entries(fields)) {
    const schema = strictKindSchema(def);
    out[name] = def.strict === 'required' ? schema : Type.Optional(schema);
  }
  return out as StrictProperties<T>;
}

const STRICT_BASE_PROPERTIES = strictProperties(BASE_FIELDS);

function eventTypeAnnotations(type: EventType) {
  return { description: `${EVENT_TYPE_FIELD.description} (${SEED_SECTIONS[type]})` };
}

/** The Base Schema alone (no event_type), strict. */
export const BaseEventFieldsSchema = Type.Object(STRICT_BASE_PROPERTIES, { additionalProperties: true });

function strictEvent<E extends EventType, P extends StrictProperties<FieldTable>>(type: E, own: P) {
  return Type.Object(
    { event_type: Type.Literal(type, eventTypeAnnotations(type)), ...STRICT_BASE_PROPERTIES, ...own },
    { title: type, description: `${SEED_SECTIONS[type]}: the Base Schema fields plus this type's fields.` },
  );
}

export const FlowStartEventSchema = strictEvent('FLOW_START', strictProperties(FLOW_START_FIELDS));
export const FlowCompleteEventSchema = strictEvent('FLOW_COMPLETE', strictProperties(FLOW_COMPLETE_FIELDS));
export const FlowFailEventSchema = strictEvent('FLOW_FAIL', strictProperties(FLOW_FAIL_FIELDS));
export const FlowCancelEventSchema = strictEvent('FLOW_CANCEL', strictProperties(FLOW_CANCEL_FIELDS));
export const FlowPauseEventSchema = strictEvent('FLOW_PAUSE', strictProperties(FLOW_PAUSE_FIELDS));
export const FlowRateLimitEventSchema = strictEvent(
  'FLOW_RATE_LIMIT',
  strictProperties(FLOW_RATE_LIMIT_FIELDS),
);
export const FlowThrottleEventSchema = strictEvent('FLOW_THROTTLE', strictProperties(FLOW_THROTTLE_FIELDS));

export const FlowEventSchema = Type.Union([
  FlowStartEventSchema,
  FlowCompleteEventSchema,
  FlowFailEventSchema,
  FlowCancelEventSchema,
  FlowPauseEventSchema,
  FlowRateLimitEventSchema,
  FlowThrottleEventSchema,
]);

export type BaseEventFields = Static<typeof BaseEventFieldsSchema>;
export type FlowStartEvent = Static<typeof FlowStartEventSchema>;
export type FlowCompleteEvent = Static<typeof FlowCompleteEventSchema>;
export type FlowFailEvent = Static<typeof FlowFailEventSchema>;
export type FlowCancelEvent = Static<typeof FlowCancelEventSchema>;
export type FlowPauseEvent = Static<typeof FlowPauseEventSchema>;
export type FlowRateLimitEvent = Static<typeof FlowRateLimitEventSchema>;
export type FlowThrottleEvent = Static<typeof FlowThrottleEventSchema>;
/** An event as flowstream produces it (strict-valid). Discriminated by `event_type`. */
export type FlowEvent = Static<typeof FlowEventSchema>;
/** The fields of one event type, e.g. `EventOfType<'FLOW_FAIL'>`. */
export type EventOfType<E extends EventType> = Extract<FlowEvent, { event_type: E }>;

export const STRICT_EVENT_SCHEMAS: Readonly<Record<EventType, TObject>> = {
  FLOW_START: FlowStartEventSchema,
  FLOW_COMPLETE: FlowCompleteEventSchema,
  FLOW_FAIL: FlowFailEventSchema,
  FLOW_CANCEL: FlowCancelEventSchema,
  FLOW_PAUSE: FlowPauseEventSchema,
  FLOW_RATE_LIMIT: FlowRateLimitEventSchema,
  FLOW_THROTTLE: FlowThrottleEventSchema,
};

// ---------------------------------------------------------------------------------------------
// Lenient schemas: what flowstream accepts. Plain JSON Schema (union `type` arrays keep Ajv's error
// per field to one, where TypeBox unions would produce anyOf trees); no Static types: a lenient
// event is turned into a FlowEvent by normalizeEvent().

function lenientKindSchema(def: FieldDefinition): Record<string, unknown> {
  const a = annotations(def);
  const required = def.lenient === 'required';
  // null stands for "absent" on fields lenient mode does not require (producers that serialize
  // missing values as null); required fields must carry a value.
  const types = (...t: string[]): string | string[] => {
    const all = required ? t : [...t, 'null'];
    return all.length === 1 ? (all[0] as string) : all;
  };
  switch (def.kind) {
    case 'uuid':
    case 'ulid':
    case 'string':
    case 'hostname':
    case 'identifier':
    case 'folder-id-path':
    case 'retry-policy':
      return required ? { ...a, type: 'string', minLength: 1 } : { ...a, type: types('string') };
    case 'timestamp':
      return { ...a, type: types('string'), format: 'date-time' };
    case 'string-array':
      return { ...a, type: types('array', 'string'), items: { type: 'string' } };
    case 'integer':
    case 'status-code':
      return { ...a, type: types('number', 'string'), minimum: 0, pattern: NUMBER_STRING_PATTERN };
    case 'boolean':
      return { ...a, type: types('boolean', 'string'), pattern: BOOLEAN_STRING_PATTERN };
  }
}

function lenientProperties(fields: FieldTable): { properties: Record<string, unknown>; required: string[] } {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, def] of Object.entries(fields)) {
    properties[name] = lenientKindSchema(def);
    if (def.lenient === 'required') required.push(name);
  }
  return { properties, required };
}

function lenientEvent(type: EventType): TSchema {
  const base = lenientProperties(BASE_FIELDS);
  const own = lenientProperties(TYPE_FIELDS[type]);
  return Type.Unsafe<Record<string, unknown>>({
    title: `${type} (lenient)`,
    description: `${SEED_SECTIONS[type]}, as flowstream accepts it on input (lenient validation).`,
    type: 'object',
    properties: {
      event_type: { ...eventTypeAnnotations(type), type: 'string', enum: [type, ...aliasesOf(type)] },
      ...base.properties,
      ...own.properties,
    },
    required: ['event_type', ...base.required, ...own.required],
  });
}

export const LENIENT_EVENT_SCHEMAS: Readonly<Record<EventType, TSchema>> = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, lenientEvent(type)]),
) as Record<EventType, TSchema>;

/** The Base Schema without event_type, per mode: checked on its own when event_type is unusable. */
export const BASE_ONLY_SCHEMAS: Readonly<Record<'strict' | 'lenient', TSchema>> = {
  strict: Type.Object(STRICT_BASE_PROPERTIES),
  lenient: Type.Unsafe<Record<string, unknown>>({ type: 'object', ...lenientProperties(BASE_FIELDS) }),
};
