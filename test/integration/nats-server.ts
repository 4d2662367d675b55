import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon, freeTcpPorts, requireBinary, waitForTcp } from './daemon.js';

/**
 * A real nats-server (Debian package `nats-server`, 2.9) for integration tests, in the foreground
 * on 127.0.0.1 with its own config file and JetStream store in `dir`.
 */

export interface NatsServerOptions {
  /** Temp dir for the config and the JetStream store. */
  readonly dir: string;
  /** Enable JetStream (store under dir/jetstream). Default true. */
  readonly jetstream?: boolean;
  /** Raw `authorization { ... }` block contents, e.g. `token: "s3cret"` or `users = [...]`. */
  readonly authorization?: string;
  /** Serve TLS with these files (clients must use TLS). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Largest message payload in bytes (nats-server default 1 MiB). */
  readonly maxPayloadBytes?: number;
}

export class NatsServer {
  private readonly daemon: Daemon;

  private constructor(
    readonly port: number,
    binary: string,
    configPath: string,
  ) {
    this.daemon = new Daemon('nats-server', binary, ['--config', configPath]);
  }

  static async start(options: NatsServerOptions): Promise<NatsServer> {
    const binary = requireBinary('nats-server', 'nats-server');
    const [port] = await freeTcpPorts(1);
    if (port === undefined) throw new Error('no free port');
    const q = (value: string): string => JSON.stringify(value);
    const lines = [
      '# Written by test/integration/nats-server.ts for one test run.',
      `listen: "127.0.0.1:${port}"`,
      `server_name: "flowstream-test-${port}"`,
    ];
    if (options.maxPayloadBytes !== undefined) lines.push(`max_payload: ${options.maxPayloadBytes}`);
    if (options.jetstream ?? true) {
      const store = join(options.dir, 'jetstream');
      await mkdir(store, { recursive: true });
      lines.push(
        `jetstream { store_dir: ${q(store)}, max_memory_store: 67108864, max_file_store: 268435456 }`,
      );
    }
    if (options.authorization !== undefined) lines.push(`authorization { ${options.authorization} }`);
    if (options.tls !== undefined) {
      lines.push(`tls { cert_file: ${q(options.tls.certFile)}, key_file: ${q(options.tls.keyFile)} }`);
    }
    const configPath = join(options.dir, `nats-server-${port}.conf`);
    await writeFile(configPath, `${lines.join('\n')}\n`);
    const server = new NatsServer(port, binary, configPath);
    await server.start();
    return server;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.daemon.running;
  }

  /** Starts (again) on the same port and store. */
  async start(): Promise<void> {
    await this.daemon.start((alive) => waitForTcp(this.port, 10_000, alive));
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }

  get log(): string {
    return this.daemon.log;
  }
}
