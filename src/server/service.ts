import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ResolvedConfig } from '../config/load-config.js';
import { consoleRoutes } from '../console/console-routes.js';
import { destinationDefinition } from '../destinations/registry.js';
import { openSqliteEventLog, type SqliteEventLog } from '../log/sqlite-event-log.js';
import { createNetworkPolicy, type NetworkPolicy } from '../net/network-policy.js';
import { AuditLog } from '../security/audit-log.js';
import { Authenticator, type StaticTokenInput } from '../security/authenticator.js';
import { resealStreams } from '../security/key-rotation.js';
import { loadKeyring } from '../security/master-key.js';
import { IngestRateLimiter } from '../security/rate-limit.js';
import type { Keyring } from '../security/secret-sealer.js';
import { TokenStore } from '../security/token-store.js';
import type { Scope } from '../security/tokens.js';
import { StreamManager } from '../streams/stream-manager.js';
import { buildApp } from './app.js';
import { auditRoutes } from './routes/audit.js';
import { logStreamsRoutes } from './routes/log-streams.js';
import { tokensRoutes } from './routes/tokens.js';
import { syntheticTestEvent } from './synthetic-event.js';

/** The running service: what `flowstream serve` starts and tests start in-process. */
export interface Service {
  /** `http://host:port` as bound (port 0 resolved). */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly log: SqliteEventLog;
  readonly tokens: TokenStore;
  readonly streams: StreamManager;
  readonly audit: AuditLog;
  readonly network: NetworkPolicy;
  /** The admin token generated at the first start of an empty data directory, if any (shown once). */
  readonly firstAdminToken: string | undefined;
  /** Stops accepting (503), finishes in-flight deliveries within the configured bound, closes storage. Idempotent. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly config: ResolvedConfig;
  readonly logger?: Logger;
  /** Extra in-memory tokens (the in-process demo's), never stored. */
  readonly ephemeralTokens?: readonly { name: string; token: string; org: string; scopes: Scope[] }[];
  /** Where FLOWSTREAM_MASTER_KEY(_PREVIOUS) are read. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The network policy (tests inject one with their own resolver). Default: made from
   * `config.network`, and closed with the service.
   */
  readonly network?: NetworkPolicy;
}

const ALL_SCOPES: Scope[] = ['events:write', 'streams:read', 'streams:write'];

/** How often retention runs (ms). */
const RETENTION_INTERVAL_MILLIS = 60_000;

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  // Logs go to stderr: stdout belongs to the `stdout` destination's events and to the CLI's output.
  const logger =
    options.logger ??
    pino({ level: config.logging.level, base: { service: 'flowstream' } }, pino.destination(2));
  const dataDir = path.resolve(config.storage.path);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  // The data directory holds events (user emails) and sealed secrets: owner-only when we create it.
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  else if (process.platform !== 'win32' && (statSync(dataDir).mode & 0o077) !== 0) {
    logger.warn(
      { dataDir, mode: (statSync(dataDir).mode & 0o777).toString(8) },
      'the data directory may be read by group or others; run chmod 700 on it',
    );
  }
  // The event log holds the data directory's lock: a second service on it stops here.
  const log = openSqliteEventLog({
    directory: dataDir,
    maxBytes: config.storage.maxBytes,
    retention: config.storage.retention,
    // Retention runs once a minute, in chunks that yield to the event loop; what it deletes before
    // a stream delivered it is counted on that stream's health (expiredTotal).
    retentionIntervalMillis: RETENTION_INTERVAL_MILLIS,
    onError: (err, during) => logger.error({ err, during }, 'event log background task failed'),
  });
  // Secrets at rest: stream definitions are sealed with the master key; what an older start (or a
  // previous key) left is re-sealed before the stream manager reads the store.
  let keyring: Keyring;
  try {
    const loaded = loadKeyring({ directory: dataDir, env: options.env ?? process.env });
    keyring = loaded.keyring;
    const resealed = resealStreams(dataDir, keyring);
    logger.info(
      {
        keySource: loaded.source,
        keyId: keyring.primary.id,
        keyCreated: loaded.created,
        resealed: resealed.resealed,
      },
      'master key loaded',
    );
  } catch (err: unknown) {
    await log.close();
    throw err;
  }
  const tokens = new TokenStore(dataDir);
  const audit = AuditLog.open(dataDir);
  let firstAdminToken: string | undefined;
  if (tokens.count() === 0 && config.auth.tokens.length === 0) {
    firstAdminToken = tokens.create({ name: 'admin', org: '*', scopes: ALL_SCOPES }).token;
  }
  const statics: StaticTokenInput[] = [...config.auth.tokens, ...(options.ephemeralTokens ?? [])];
  const authenticator = new Authenticator(statics, tokens);
  const rateLimiter = new IngestRateLimiter(config.auth.ingestRateLimit);
  const network =
    options.network ?? createNetworkPolicy({ allowPrivateNetworks: config.network.allowPrivateNetworks });
  const streams = new StreamManager({
    directory: dataDir,
    log,
    resolveDestination: destinationDefinition,
    network,
    logger,
    registry: metrics,
    syntheticEvent: () => syntheticTestEvent(),
    configStreams: config.streams,
    sealer: keyring,
  });
  await streams.start();

  let shuttingDown = false;
  const app = await buildApp({
    log,
    authenticator,
    metrics,
    logger,
    validation: config.ingest.validation,
    bodyLimitBytes: config.server.bodyLimitBytes,
    decompressedLimitBytes: config.server.decompressedLimitBytes,
    isShuttingDown: () => shuttingDown,
    isReady: () => !shuttingDown,
    rateLimiter,
    plugins: [
      (instance) => consoleRoutes(instance),
      (instance) => logStreamsRoutes(instance, { streams, authenticator, audit }),
      (instance) => tokensRoutes(instance, { tokens, authenticator, audit, rateLimiter }),
      (instance) => auditRoutes(instance, { audit, authenticator }),
    ],
  });
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  const url = address.replace('[::1]', '127.0.0.1');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Ingest answers 503 from here on; the socket closes once in-flight requests are answered.
      shuttingDown = true;
      await app.close();
      // In-flight deliveries get the configured bound; what is cut off is re-sent after restart.
      await streams.stop(config.server.shutdownTimeoutMillis);
      if (options.network === undefined) await network.close?.();
      await log.close();
      tokens.close();
      audit.close();
    })();
    return closing;
  };
  return { url, app, log, tokens, streams, audit, network, firstAdminToken, close };
}
