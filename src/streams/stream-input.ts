import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DestinationDefinition } from '../destinations/destination.js';
import { canonicalEventType } from '../schema/event-types.js';
import { DEFAULT_DELIVERY, type StreamDefinition } from './stream.js';
import { StreamError, type StreamErrorCause } from './stream-errors.js';

/**
 * What `StreamManager.create`/`update` accept: a stream object as the API and the config file
 * write it (SPEC §3, §4), without the fields the manager owns (`created`, `lastUpdated`). The
 * limits match the config file's stream schema. Defaults: `org` `*`, `status` ACTIVE, `filter` {}
 * (everything), `format` okta, `transforms` {}, `delivery` DEFAULT_DELIVERY.
 *
 * Settings are validated against the destination type's own TypeBox schema with ajv; every error
 * names the setting (`settings.url must match format "uri"`) and never quotes a value, since
 * settings hold secrets.
 */

export const STREAM_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export const DeliveryInputSchema = Type.Object(
  {
    batchMaxEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    batchTimeoutMillis: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    requestTimeoutMillis: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    retryInitialMillis: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
    retryMaxMillis: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    pauseAfterMillis: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const StreamInputSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: STREAM_ID_PATTERN })),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.String({ minLength: 1 }),
    org: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    status: Type.Optional(Type.Union([Type.Literal('ACTIVE'), Type.Literal('INACTIVE')])),
    settings: Type.Record(Type.String(), Type.Unknown()),
    filter: Type.Optional(
      Type.Object(
        {
          eventTypes: Type.Optional(Type.Array(Type.String(), { uniqueItems: true })),
          flowIds: Type.Optional(Type.Array(Type.String(), { uniqueItems: true })),
        },
        { additionalProperties: false },
      ),
    ),
    format: Type.Optional(Type.Union([Type.Literal('okta'), Type.Literal('cloudevents')])),
    transforms: Type.Optional(
      Type.Object(
        {
          hashUserEmail: Type.Optional(
            Type.Object({ key: Type.String({ minLength: 16 }) }, { additionalProperties: false }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    delivery: Type.Optional(DeliveryInputSchema),
    tls: Type.Optional(Type.Object({ insecureSkipVerify: Type.Boolean() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export type StreamInput = Static<typeof StreamInputSchema>;

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateInput = ajv.compile<StreamInput>(StreamInputSchema);
const settingsValidators = new WeakMap<TSchema, ValidateFunction>();

/** Checks `input` and the settings of its type; throws StreamError FS_STREAM_INVALID naming each problem. */
export function checkStreamInput(
  input: unknown,
  resolveDestination: (type: string) => DestinationDefinition | undefined,
): { readonly input: StreamInput; readonly destination: DestinationDefinition } {
  if (!validateInput(input)) {
    throw invalid(describe(validateInput.errors ?? [], ''));
  }
  const destination = resolveDestination(input.type);
  if (destination === undefined) {
    throw invalid([{ path: '/type', message: `type "${input.type}" is not a known destination type` }]);
  }
  const causes: StreamErrorCause[] = [];
  let validateSettings = settingsValidators.get(destination.settingsSchema);
  if (validateSettings === undefined) {
    validateSettings = ajv.compile(destination.settingsSchema);
    settingsValidators.set(destination.settingsSchema, validateSettings);
  }
  if (!validateSettings(input.settings)) {
    causes.push(...describe(validateSettings.errors ?? [], '/settings', destination.type));
  }
  input.filter?.eventTypes?.forEach((type, i) => {
    if (canonicalEventType(type) === undefined) {
      causes.push({
        path: `/filter/eventTypes/${i}`,
        message: `filter.eventTypes: "${type}" is not an event type`,
      });
    }
  });
  if (causes.length > 0) throw invalid(causes);
  return { input, destination };
}

/** The full definition of a checked input, with defaults applied. */
export function toDefinition(
  input: StreamInput,
  fields: { readonly id: string; readonly created: string; readonly lastUpdated: string },
): StreamDefinition {
  const eventTypes = input.filter?.eventTypes;
  const flowIds = input.filter?.flowIds;
  return {
    id: fields.id,
    name: input.name,
    type: input.type,
    org: input.org ?? '*',
    status: input.status ?? 'ACTIVE',
    settings: input.settings,
    filter: {
      ...(eventTypes === undefined ? {} : { eventTypes: eventTypes.map((t) => canonicalEventType(t) ?? t) }),
      ...(flowIds === undefined ? {} : { flowIds: [...flowIds] }),
    },
    format: input.format ?? 'okta',
    transforms:
      input.transforms?.hashUserEmail === undefined
        ? {}
        : { hashUserEmail: { ...input.transforms.hashUserEmail } },
    delivery: { ...DEFAULT_DELIVERY, ...input.delivery },
    ...(input.tls?.insecureSkipVerify === true ? { tls: { insecureSkipVerify: true } } : {}),
    created: fields.created,
    lastUpdated: fields.lastUpdated,
  };
}

function invalid(causes: readonly StreamErrorCause[]): StreamError {
  const first = causes[0]?.message ?? 'the stream is invalid';
  const more = causes.length > 1 ? ` (and ${causes.length - 1} more)` : '';
  return new StreamError('FS_STREAM_INVALID', `${first}${more}`, causes);
}

/** ajv errors as causes. Messages name the field by its dotted path and never quote its value. */
function describe(errors: readonly ErrorObject[], prefix: string, type?: string): StreamErrorCause[] {
  return errors.map((e) => {
    const base = `${prefix}${e.instancePath}`;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      const path = `${base}/${escapePointer(params.missingProperty)}`;
      return { path, message: `${dotted(path)} is required` };
    }
    if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      const path = `${base}/${escapePointer(params.additionalProperty)}`;
      const what = type === undefined ? 'field' : `setting of ${type}`;
      return { path, message: `${dotted(path)} is not a known ${what}` };
    }
    return { path: base, message: `${dotted(base) || 'the stream'} ${e.message ?? 'is invalid'}` };
  });
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}
