import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfigFile, type ResolvedConfig, resolveConfig } from '../config/load-config.js';
import { type Demo, startDemo } from '../runtime/demo.js';
import { generateToken } from '../security/tokens.js';
import { type Service, startService } from '../server/service.js';
import { CliError } from './cli-error.js';

/** The stream `--demo` adds (once) so the demo's events are visible without any setup. */
export const DEMO_STREAM_ID = 'demo-file';

/**
 * Starts the sample org against this process's own ingest, with an in-memory token that is never
 * stored, and makes sure a `file` stream shows its events.
 */
async function startInProcessDemo(
  service: Service,
  demoToken: string,
  dataDir: string,
): Promise<{ demo: Demo; file: string }> {
  const file = path.join(dataDir, 'demo-events.ndjson');
  if (service.streams.get(DEMO_STREAM_ID) === undefined) {
    await service.streams.create({
      id: DEMO_STREAM_ID,
      name: 'Demo events (file)',
      type: 'file',
      settings: { path: file },
      delivery: { batchTimeoutMillis: 200 },
    });
  }
  const demo = await startDemo({ url: service.url, token: demoToken });
  return { demo, file };
}

interface ServeOptions {
  config?: string;
  data?: string;
  host?: string;
  port?: string;
  demo?: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new CliError(`--port ${JSON.stringify(value)} must be an integer from 0 to 65535`);
  return port;
}

function configFrom(opts: ServeOptions): ResolvedConfig {
  let config: ResolvedConfig;
  try {
    config = opts.config === undefined ? resolveConfig({}) : loadConfigFile(opts.config);
  } catch (err: unknown) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  return {
    ...config,
    server: {
      ...config.server,
      ...(opts.host === undefined ? {} : { host: opts.host }),
      ...(opts.port === undefined ? {} : { port: parsePort(opts.port) }),
    },
    storage: { ...config.storage, ...(opts.data === undefined ? {} : { path: opts.data }) },
  };
}

/** `flowstream serve` (SPEC §2). */
export function serveCommand(): Command {
  return new Command('serve')
    .description('run the service (embedded storage in ./.flowstream, 127.0.0.1:8470 by default)')
    .option('--config <file>', 'configuration file (YAML or JSON)')
    .option('--data <dir>', 'data directory (overrides storage.path)')
    .option('--host <host>', 'listen address (overrides server.host)')
    .option('--port <port>', 'listen port, 0 for any free one (overrides server.port)')
    .option('--demo', 'also run the reference flow runtime with the sample org against this server')
    .action(async (opts: ServeOptions) => {
      const config = configFrom(opts);
      const out = process.stdout;
      // Signals are handled from the start, so a SIGTERM that arrives while the service is still
      // starting also ends in an orderly shutdown (once it has started).
      const signalled = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      const demoToken = opts.demo ? generateToken() : undefined;
      const service = await startService({
        config,
        ...(demoToken === undefined
          ? {}
          : { ephemeralTokens: [{ name: 'demo', token: demoToken, org: '*', scopes: ['events:write'] }] }),
      });
      out.write(`flowstream listening on ${service.url}\n`);
      out.write(`  data directory: ${config.storage.path}\n`);
      if (service.firstAdminToken !== undefined) {
        out.write(`  admin token (shown once, only its hash is stored): ${service.firstAdminToken}\n`);
        out.write(`  try: FLOWSTREAM_TOKEN=${service.firstAdminToken} npx flowstream streams list\n`);
      }
      out.write(`  console: ${service.url}/console\n`);
      let demo: Demo | undefined;
      if (demoToken !== undefined) {
        const started = await startInProcessDemo(service, demoToken, path.resolve(config.storage.path));
        demo = started.demo;
        out.write(
          `demo: the sample org's flows are running; every event is delivered to the "${DEMO_STREAM_ID}" stream:\n`,
        );
        out.write(`  tail -f ${started.file}\n`);
        out.write('  npx flowstream tail            (with FLOWSTREAM_TOKEN set to an admin token)\n');
        out.write(`  npx flowstream streams health ${DEMO_STREAM_ID}\n`);
      }
      const signal = await signalled;
      out.write(`flowstream: ${signal}, shutting down\n`);
      // The demo stops first (its running executions end with FLOW_CANCEL, which is still ingested).
      await demo?.stop().catch(() => undefined);
      await service.close();
    });
}
