import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_INGEST_RATE_LIMIT, type RateLimit } from '../security/rate-limit.js';
import { type ConfigFile, ConfigSchema, type StaticToken, type StreamConfig } from './config-schema.js';

/** A static token with its ingest limit resolved (its own fields over `auth.ingestRateLimit`). */
export type ResolvedStaticToken = Omit<StaticToken, 'ingestRateLimit'> & {
  readonly ingestRateLimit?: RateLimit;
};

/** A configuration problem: the message names the file, the key and what is wrong. */
export class ConfigError extends Error {
  readonly code = 'FS_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ResolvedConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly decompressedLimitBytes: number;
    readonly shutdownTimeoutMillis: number;
  };
  readonly storage: {
    readonly path: string;
    readonly maxBytes: number;
    readonly retention: { readonly maxAgeMillis: number; readonly maxBytes: number };
  };
  readonly ingest: { readonly validation: 'lenient' | 'strict' };
  readonly auth: {
    readonly tokens: readonly ResolvedStaticToken[];
    /** Default per-token ingest limit (events). */
    readonly ingestRateLimit: RateLimit;
  };
  readonly network: { readonly allowPrivateNetworks: boolean };
  readonly logging: { readonly level: string };
  readonly streams: readonly StreamConfig[];
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8470;
export const DEFAULT_DATA_DIR = './.flowstream';

const ajv = new Ajv({ allErrors: true, strict: false });
const validateConfig = ajv.compile<ConfigFile>(ConfigSchema);

/** Config files larger than this are refused before parsing (a config is a few KiB). */
const MAX_CONFIG_BYTES = 1 * MIB;

/**
 * Replaces `${NAME}` in every string value with the environment variable NAME; `$${` is a literal
 * `${`. A variable that is not set is an error (a silently empty token would be worse).
 * Substitution happens after parsing, so a value can never inject YAML structure.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, where = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, name: string) => {
      if (escaped) return whole.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new ConfigError(
          `${where || 'a value'}: "\${${name}}" is not a valid environment variable reference`,
        );
      }
      const found = env[name];
      if (found === undefined)
        throw new ConfigError(`${where || 'a value'}: environment variable ${name} is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: substituteEnv(item, env, where ? `${where}.${key}` : key),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const at = where === '' ? 'the top level' : where;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(error.params.additionalProperty)}" in ${at}`;
    case 'required':
      return `${at} is missing the required key "${String(error.params.missingProperty)}"`;
    case 'type':
      return `${at} must be of type ${String(error.params.type)}`;
    case 'anyOf':
      return `${at} has a value that is not allowed`;
    default:
      return `${at} ${error.message ?? 'is invalid'}`;
  }
}

/** Validates a parsed configuration object and fills in every default. */
export function resolveConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
  source = 'config',
): ResolvedConfig {
  const substituted = substituteEnv(raw ?? {}, env);
  if (!validateConfig(substituted)) {
    const errors = (validateConfig.errors ?? []).filter(
      (e) => e.keyword !== 'anyOf' || validateConfig.errors?.length === 1,
    );
    const messages = [...new Set(errors.map(describeAjvError))];
    throw new ConfigError(`${source}: ${messages.slice(0, 5).join('; ')}`);
  }
  const config = substituted;
  const ids = new Set<string>();
  for (const stream of config.streams ?? []) {
    if (ids.has(stream.id)) throw new ConfigError(`${source}: stream id "${stream.id}" is declared twice`);
    ids.add(stream.id);
  }
  return Object.freeze({
    server: {
      host: config.server?.host ?? DEFAULT_HOST,
      port: config.server?.port ?? DEFAULT_PORT,
      bodyLimitBytes: config.server?.bodyLimitBytes ?? 10 * MIB,
      decompressedLimitBytes: config.server?.decompressedLimitBytes ?? 50 * MIB,
      shutdownTimeoutMillis: config.server?.shutdownTimeoutMillis ?? 10_000,
    },
    storage: {
      path: config.storage?.path ?? DEFAULT_DATA_DIR,
      maxBytes: config.storage?.maxBytes ?? 20 * GIB,
      retention: {
        maxAgeMillis: config.storage?.retention?.maxAgeMillis ?? 7 * 24 * 3600 * 1000,
        maxBytes: config.storage?.retention?.maxBytes ?? 10 * GIB,
      },
    },
    ingest: { validation: config.ingest?.validation ?? 'lenient' },
    auth: resolveAuth(config.auth),
    network: { allowPrivateNetworks: config.network?.allowPrivateNetworks ?? false },
    logging: { level: config.logging?.level ?? 'info' },
    streams: config.streams ?? [],
  });
}

function resolveAuth(auth: ConfigFile['auth']): ResolvedConfig['auth'] {
  const ingestRateLimit: RateLimit = {
    eventsPerSecond: auth?.ingestRateLimit?.eventsPerSecond ?? DEFAULT_INGEST_RATE_LIMIT.eventsPerSecond,
    burst: auth?.ingestRateLimit?.burst ?? DEFAULT_INGEST_RATE_LIMIT.burst,
  };
  const tokens = (auth?.tokens ?? []).map((t): ResolvedStaticToken => {
    const { ingestRateLimit: own, ...rest } = t;
    if (own === undefined) return rest;
    return {
      ...rest,
      ingestRateLimit: {
        eventsPerSecond: own.eventsPerSecond ?? ingestRateLimit.eventsPerSecond,
        burst: own.burst ?? ingestRateLimit.burst,
      },
    };
  });
  return { tokens, ingestRateLimit };
}

/** Reads a YAML or JSON config file (by extension; YAML otherwise) and resolves it. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  let text: string;
  try {
    const buffer = readFileSync(file);
    if (buffer.length > MAX_CONFIG_BYTES)
      throw new ConfigError(`${file}: larger than 1 MiB; is this a config file?`);
    text = buffer.toString('utf8');
  } catch (err: unknown) {
    if (err instanceof ConfigError) throw err;
    const code = (err as { code?: string }).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `config file ${file} does not exist`
        : `cannot read config file ${file} (${code ?? String(err)})`,
    );
  }
  let raw: unknown;
  try {
    raw =
      path.extname(file).toLowerCase() === '.json'
        ? JSON.parse(text)
        : parseYaml(text, { maxAliasCount: 100 });
  } catch (err: unknown) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(
      `${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${detail}`,
    );
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(
      `${file}: the top level must be a mapping of sections (server, storage, auth, ...)`,
    );
  }
  return resolveConfig(raw, env, file);
}
