import { Command } from 'commander';
import { ConfigError, type ResolvedConfig, loadConfigFile, resolveConfig } from '../config/load-config.js';
import { startService } from '../server/service.js';
import { CliError } from './cli-error.js';

interface ServeOptions {
  config?: string;
  data?: string;
  host?: string;
  port?: string;
  demo?: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new CliError(`--port ${JSON.stringify(value)} must be an integer from 0 to 65535`);
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
      const service = await startService({ config });
      const out = process.stdout;
      out.write(`flowstream listening on ${service.url}\n`);
      out.write(`  data directory: ${config.storage.path}\n`);
      if (service.firstAdminToken !== undefined) {
        out.write(`  admin token (shown once, only its hash is stored): ${service.firstAdminToken}\n`);
        out.write(`  try: FLOWSTREAM_TOKEN=${service.firstAdminToken} npx flowstream streams list\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          out.write(`flowstream: ${signal}, shutting down\n`);
          service.close().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
