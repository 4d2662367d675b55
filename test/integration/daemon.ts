import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * What the integration tests share: finding a Debian daemon's binary, free ports, starting a
 * daemon in the foreground and stopping it. Tests run their own instances (own config, own temp
 * dir, own ports), never a system service.
 *
 * A missing binary is a failure with a message saying which Debian package to install, unless
 * FLOWSTREAM_SKIP_INTEGRATION=1, in which case the suites are skipped (and say so).
 */

export const SKIP_INTEGRATION = process.env.FLOWSTREAM_SKIP_INTEGRATION === '1';

/** For `describe(name, { skip: integrationSkip() }, ...)`. */
export function integrationSkip(): string | false {
  return SKIP_INTEGRATION ? 'FLOWSTREAM_SKIP_INTEGRATION=1' : false;
}

/** Directories searched after PATH: daemons live in sbin, which a non-root PATH may lack. */
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/bin'];

/** The absolute path of `binary`, or an Error naming the Debian package that provides it. */
export function requireBinary(binary: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${binary} is not installed: install the Debian package ${debianPackage} ` +
      '(CI installs every package in .ci/packages-syslog-nats.txt), ' +
      'or set FLOWSTREAM_SKIP_INTEGRATION=1 to skip the integration tests',
  );
}

/** `count` distinct free TCP ports on 127.0.0.1 (held open together, then released). */
export async function freeTcpPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP port');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A free UDP port on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export function delay(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForTcp(
  port: number,
  timeoutMillis: number,
  alive: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    const died = alive();
    if (died !== undefined) throw new Error(died);
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMillis} ms`);
    await delay(50);
  }
}

/** A daemon running in the foreground, with its output kept for error messages. */
export class Daemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private exitDescription: string | undefined;

  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly args: readonly string[],
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.exitDescription === undefined;
  }

  /** Starts the process; `ready` waits for it to serve, failing with its output if it exits. */
  async start(ready: (alive: () => string | undefined) => Promise<void>): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.output = '';
    this.exitDescription = undefined;
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.exitDescription = `${this.name} could not start: ${err.message}`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exitDescription = `${this.name} exited (code ${code}, signal ${signal}): ${this.output.trim()}`;
        resolve();
      });
    });
    try {
      await ready(() => this.exitDescription);
    } catch (err: unknown) {
      await this.stop();
      throw err instanceof Error
        ? new Error(`${err.message}\n${this.name} output: ${this.output.trim()}`)
        : err;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMillis`; resolves when the process is gone. Idempotent. */
  async stop(graceMillis = 5000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    if (this.exitDescription === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMillis);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
  }

  /** The last 8 KiB the daemon printed. */
  get log(): string {
    return this.output;
  }
}
