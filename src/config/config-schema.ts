import { type Static, Type } from '@sinclair/typebox';
import { STREAM_ID_PATTERN, StreamInputSchema } from '../streams/stream-input.js';

/**
 * The configuration file (SPEC §4). Every object refuses unknown keys, so a typo is an error that
 * names the key rather than a setting silently ignored. Defaults are applied by `loadConfig`.
 */

const Scope = Type.Union([
  Type.Literal('events:write'),
  Type.Literal('streams:read'),
  Type.Literal('streams:write'),
]);

/** Per-token ingest limit, counted in events (src/security/rate-limit.ts). */
export const IngestRateLimitSchema = Type.Object(
  {
    /** Sustained events per second; 0 = no limit. Default 50000. */
    eventsPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
    /** Most events admitted at once after a quiet period. Default 100000. */
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const StaticTokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    token: Type.String({ minLength: 16, maxLength: 512 }),
    org: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Scope, { minItems: 1, uniqueItems: true }),
    /** This token's own ingest limit; missing fields take `auth.ingestRateLimit`'s. */
    ingestRateLimit: Type.Optional(IngestRateLimitSchema),
  },
  { additionalProperties: false },
);

/** A stream declared in the file: the API's stream object with a required, stable id. */
export const StreamConfigSchema = Type.Object(
  { ...StreamInputSchema.properties, id: Type.String({ pattern: STREAM_ID_PATTERN }) },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          /** Largest accepted request body as sent (compressed), bytes. Default 10 MiB. */
          bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          /** Largest ingest body after gzip decompression, bytes. Default 50 MiB. */
          decompressedLimitBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          /** How long shutdown waits for in-flight deliveries, ms. Default 10000. */
          shutdownTimeoutMillis: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    storage: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ minLength: 1 })),
          /** Hard limit of stored event bytes: ingest answers 503 above it. Default 20 GiB. */
          maxBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          retention: Type.Optional(
            Type.Object(
              {
                /** Events older than this are deleted, ms. Default 7 days. */
                maxAgeMillis: Type.Optional(Type.Integer({ minimum: 1000 })),
                /** Oldest events are deleted above this many stored bytes. Default 10 GiB. */
                maxBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    ingest: Type.Optional(
      Type.Object(
        { validation: Type.Optional(Type.Union([Type.Literal('lenient'), Type.Literal('strict')])) },
        { additionalProperties: false },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          tokens: Type.Optional(Type.Array(StaticTokenSchema)),
          /** Default ingest limit of every token. */
          ingestRateLimit: Type.Optional(IngestRateLimitSchema),
        },
        { additionalProperties: false },
      ),
    ),
    network: Type.Optional(
      Type.Object({ allowPrivateNetworks: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    ),
    logging: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(
            Type.Union(
              ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    streams: Type.Optional(Type.Array(StreamConfigSchema)),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigSchema>;
export type StaticToken = Static<typeof StaticTokenSchema>;
export type StreamConfig = Static<typeof StreamConfigSchema>;
