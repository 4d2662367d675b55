import { type TSchema, Type } from '@sinclair/typebox';
import { AUDIT_ACTIONS } from '../security/audit-log.js';
import { SCOPES } from '../security/tokens.js';
import { STREAM_ERRORS } from '../streams/stream-errors.js';
import { StreamInputSchema } from '../streams/stream-input.js';
import { API_ERRORS } from './errors.js';

/**
 * JSON Schemas of every route's params, query, body and responses: Fastify validates params, query
 * and bodies with them (app.ts), and the OpenAPI document at `/api/v1/openapi.json` is generated
 * from them (openapi.ts). Responses are serialized with JSON.stringify, so a response schema
 * documents, it does not filter; the route tests check that responses match it.
 *
 * A body schema marked with `HANDLER_VALIDATES` is documentation only: the handler validates it
 * with messages of its own (ingest bodies, log stream objects whose settings depend on the type).
 */

export const HANDLER_VALIDATES = 'x-validated-by-handler';

/** Marks `schema` as documented here and validated by the route handler. */
export function handlerValidated<T extends TSchema>(schema: T): T {
  return { ...schema, [HANDLER_VALIDATES]: true };
}

/** A string of a fixed set: ajv's `enum` error lists the allowed values (app.ts). */
function oneOf<T extends string>(values: readonly T[], options: { description?: string } = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

export const ErrorBodySchema = Type.Object(
  {
    errorCode: oneOf([...Object.keys(API_ERRORS), ...Object.keys(STREAM_ERRORS)], {
      description: 'Stable error code (src/server/errors.ts, FS_STREAM_* from the stream manager).',
    }),
    errorSummary: Type.String(),
    errorCauses: Type.Array(Type.Object({ errorSummary: Type.String() })),
  },
  { $id: 'Error', additionalProperties: true, description: "Okta's error shape." },
);

/** Response entries for error statuses, for a route's `response` schema. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) {
    out[status] = Type.Ref('Error', { description: ERROR_DESCRIPTIONS[status] ?? 'Error.' });
  }
  return out;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: each cause names the field.',
  401: 'No token, or an unknown, revoked or expired one.',
  403: 'The token lacks the scope, or acts for another org.',
  404: 'No such resource (also for a resource of another org).',
  409: 'Conflict.',
  413: 'The body is over the size limit.',
  415: 'Unsupported content type or encoding.',
  429: "Over the token's ingest rate: retry after `Retry-After` seconds.",
  503: 'Shutting down, storage full, or not ready: retry after `Retry-After` seconds.',
};

/** The query of a route that takes none: any parameter is an error, not silently ignored. */
export const NoQuerySchema = Type.Object({}, { additionalProperties: false });

export const IdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 256, description: 'The log stream id.' }) },
  { additionalProperties: false },
);

export const TokenIdParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 256, description: 'The token id.' }) },
  { additionalProperties: false },
);

const Link = Type.Object({ href: Type.String(), method: Type.String() });

export const LogStreamSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    org: Type.String({ description: 'The org whose events the stream receives; `*` for every org.' }),
    status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('INACTIVE')]),
    settings: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Settings of the type. Secret settings are shown as `********`.',
    }),
    filter: Type.Object({
      eventTypes: Type.Optional(Type.Array(Type.String())),
      flowIds: Type.Optional(Type.Array(Type.String())),
    }),
    format: Type.Union([Type.Literal('okta'), Type.Literal('cloudevents')]),
    transforms: Type.Object({ hashUserEmail: Type.Optional(Type.Object({ key: Type.String() })) }),
    delivery: Type.Record(Type.String(), Type.Number()),
    tls: Type.Optional(Type.Object({ insecureSkipVerify: Type.Boolean() })),
    created: Type.String({ format: 'date-time' }),
    lastUpdated: Type.String({ format: 'date-time' }),
    _links: Type.Record(Type.String(), Link),
  },
  { $id: 'LogStream', additionalProperties: false },
);

export const LogStreamInputSchema = handlerValidated(
  Type.Object(StreamInputSchema.properties, {
    additionalProperties: false,
    description:
      'A log stream object. `settings` are checked against the schema of `type`; each problem is a cause ' +
      'naming the field (FS_STREAM_INVALID). `created`, `lastUpdated` and `_links` are ignored, and a secret ' +
      'sent back as `********` keeps its stored value.',
  }),
);

export const LogStreamListQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20, description: 'Page size.' })),
    after: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'The id after which the page starts (from the `next` link).',
      }),
    ),
    filter: Type.Optional(
      Type.String({
        maxLength: 1000,
        description:
          'Okta filter: `type eq "splunk_hec"`, `status eq "ACTIVE"`, `org eq "…"`, `name eq "…"`, joined with `and`.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StreamHealthSchema = Type.Object(
  {
    status: Type.Union(['ACTIVE', 'DEGRADED', 'PAUSED', 'INACTIVE'].map((s) => Type.Literal(s))),
    lagEvents: Type.Integer(),
    lagSeconds: Type.Number(),
    deliveredTotal: Type.Integer(),
    deadLetteredTotal: Type.Integer(),
    expiredTotal: Type.Integer(),
    consecutiveFailures: Type.Integer(),
    lastDeliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastError: Type.Union([
      Type.Object({
        code: Type.String(),
        message: Type.String(),
        at: Type.String({ format: 'date-time' }),
        status: Type.Optional(Type.Integer()),
      }),
      Type.Null(),
    ]),
    cursor: Type.Integer(),
    warnings: Type.Array(Type.String(), {
      description: 'Settings that weaken security, e.g. "TLS certificate verification is off".',
    }),
  },
  { $id: 'StreamHealth', additionalProperties: false },
);

const DeliveryErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  status: Type.Optional(Type.Integer()),
  response: Type.Optional(Type.String()),
});

export const TestResultSchema = Type.Object(
  {
    ok: Type.Boolean(),
    outcome: Type.Union(
      ['delivered', 'retryable', 'rejected', 'fatal', 'partial'].map((s) => Type.Literal(s)),
    ),
    bytes: Type.Optional(Type.Integer()),
    error: Type.Optional(DeliveryErrorSchema),
    retryAfterMillis: Type.Optional(Type.Number()),
    items: Type.Optional(
      Type.Array(Type.Object({ outcome: Type.String(), error: Type.Optional(DeliveryErrorSchema) })),
    ),
  },
  { additionalProperties: false },
);

export const ReplayBodySchema = Type.Object(
  {
    from: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'ISO 8601 time: re-deliver events ingested at or after it.',
    }),
  },
  { additionalProperties: false },
);

export const ReplayResultSchema = Type.Object(
  { from: Type.String({ format: 'date-time' }), previousCursor: Type.Integer(), cursor: Type.Integer() },
  { additionalProperties: false },
);

export const DeadLetterQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'The `nextAfter` of the previous page.' })),
  },
  { additionalProperties: false },
);

export const DeadLetterPageSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object({
        id: Type.Integer(),
        seq: Type.Integer(),
        eventType: Type.String(),
        executionId: Type.String(),
        idempotencyKey: Type.String(),
        event: Type.Unknown(),
        error: DeliveryErrorSchema,
        attempts: Type.Integer(),
        firstFailedAt: Type.String({ format: 'date-time' }),
        lastFailedAt: Type.String({ format: 'date-time' }),
      }),
    ),
    nextAfter: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);

export const RedeliverBodySchema = handlerValidated(
  Type.Object(
    {
      ids: Type.Optional(
        Type.Array(Type.Integer(), { description: 'Dead letter ids; omitted (or no body) = all.' }),
      ),
    },
    { additionalProperties: true },
  ),
);

export const RedeliveryReportSchema = Type.Object(
  {
    delivered: Type.Integer(),
    remaining: Type.Integer(),
    results: Type.Array(
      Type.Object({
        id: Type.Integer(),
        seq: Type.Integer(),
        outcome: Type.Union(
          ['delivered', 'retryable', 'rejected', 'fatal', 'not_attempted'].map((s) => Type.Literal(s)),
        ),
        error: Type.Optional(DeliveryErrorSchema),
      }),
    ),
  },
  { additionalProperties: false },
);

const ScopeSchema = oneOf(SCOPES);

export const TokenRecordSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    org: Type.String(),
    scopes: Type.Array(ScopeSchema),
    created: Type.String({ format: 'date-time' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Token', additionalProperties: false },
);

export const TokenCreateBodySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'api' })),
    org: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "Default: the calling token's org." }),
    ),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
    expiresAt: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'A future ISO 8601 time.' }),
    ),
  },
  { additionalProperties: false },
);

export const TokenCreatedSchema = Type.Object(
  {
    ...TokenRecordSchema.properties,
    token: Type.String({
      description: 'The token itself: shown in this answer only; only its hash is stored.',
    }),
  },
  { additionalProperties: false },
);

export const AuditQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Records with an id above this (from the `next` link).' }),
    ),
    action: Type.Optional(oneOf(AUDIT_ACTIONS)),
    targetId: Type.Optional(Type.String({ maxLength: 256 })),
    actorId: Type.Optional(Type.String({ maxLength: 256 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Records at or after this time.' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Records before this time.' })),
  },
  { additionalProperties: false },
);

const DetailValue = Type.Union([
  Type.String(),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
  Type.Array(Type.String()),
]);

export const AuditRecordSchema = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    actor: Type.Object({ tokenId: Type.String(), name: Type.String(), org: Type.String() }),
    action: Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a))),
    org: Type.String(),
    target: Type.Object({
      type: Type.Union([Type.Literal('logStream'), Type.Literal('token')]),
      id: Type.String(),
    }),
    changes: Type.Array(Type.String(), {
      description: 'JSON Pointers of the fields that changed; never values.',
    }),
    details: Type.Record(Type.String(), DetailValue),
  },
  { $id: 'AuditRecord', additionalProperties: false },
);

export const IngestBodySchema = handlerValidated(
  Type.Union(
    [
      Type.Object({}, { additionalProperties: true, description: 'One event.' }),
      Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'An array of events.' }),
    ],
    {
      description:
        'One event, a JSON array of events, or NDJSON (application/x-ndjson: one event per line); Content-Encoding: gzip accepted.',
    },
  ),
);

const RejectedSchema = Type.Array(
  Type.Object({
    index: Type.Integer(),
    errors: Type.Array(Type.Object({ path: Type.String(), code: Type.String(), message: Type.String() })),
  }),
);

export const IngestOutcomeSchema = Type.Object(
  { accepted: Type.Integer(), duplicates: Type.Integer(), rejected: RejectedSchema },
  { additionalProperties: false },
);

export const TailQuerySchema = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        pattern: '^(end|-?[0-9]{1,16})$',
        description: 'A sequence number; negative = the last N events; `end` = only new events.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    waitMillis: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 30_000, default: 0, description: 'Long-poll wait.' }),
    ),
    eventType: Type.Optional(Type.String({ maxLength: 100 })),
    flowId: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const TailAnswerSchema = Type.Object(
  {
    events: Type.Array(
      Type.Object({
        seq: Type.Integer(),
        ingestedAt: Type.String({ format: 'date-time' }),
        event: Type.Unknown(),
      }),
    ),
    next: Type.Integer(),
  },
  { additionalProperties: false },
);

/** Shared schemas referenced with `Type.Ref` (`#/components/schemas/<id>` in the OpenAPI document). */
export const SHARED_SCHEMAS: readonly TSchema[] = [
  ErrorBodySchema,
  LogStreamSchema,
  StreamHealthSchema,
  TokenRecordSchema,
  AuditRecordSchema,
];
