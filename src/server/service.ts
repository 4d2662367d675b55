import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ResolvedConfig } from '../config/load-config.js';
import { openSqliteEventLog, type SqliteEventLog } from '../log/sqlite-event-log.js';
import { Authenticator } from '../security/authenticator.js';
import { TokenStore } from '../security/token-store.js';
import type { Scope } from '../security/tokens.js';
import { destinationDefinition } from '../destinations/registry.js';
import { openNetworkPolicy } from '../net/network-policy.js';
import { StreamManager } from '../streams/stream-manager.js';
import { buildApp } from './app.js';
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
}

const ALL_SCOPES: Scope[] = ['events:write', 'streams:read', 'streams:write'];

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  // Logs go to stderr: stdout belongs to the `stdout` destination's events and to the CLI's output.
  const logger =
    options.logger ?? pino({ level: config.logging.level, base: { service: 'flowstream' } }, pino.destination(2));
  const dataDir = path.resolve(config.storage.path);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const log = openSqliteEventLog({
    directory: dataDir,
    maxBytes: config.storage.maxBytes,
    retention: config.storage.retention,
  });
  const tokens = new TokenStore(dataDir);
  let firstAdminToken: string | undefined;
  if (tokens.count() === 0 && config.auth.tokens.length === 0) {
    firstAdminToken = tokens.create({ name: 'admin', org: '*', scopes: ALL_SCOPES }).token;
  }
  const authenticator = new Authenticator([...config.auth.tokens, ...(options.ephemeralTokens ?? [])], tokens);
  const streams = new StreamManager({
    directory: dataDir,
    log,
    resolveDestination: destinationDefinition,
    network: openNetworkPolicy(),
    logger,
    registry: metrics,
    syntheticEvent: () => syntheticTestEvent(),
    configStreams: config.streams,
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
    plugins: [
      (instance) => logStreamsRoutes(instance, { streams, authenticator }),
      (instance) => tokensRoutes(instance, { tokens, authenticator }),
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
      await log.close();
      tokens.close();
    })();
    return closing;
  };
  return { url, app, log, tokens, streams, firstAdminToken, close };
}

