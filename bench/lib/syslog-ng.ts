import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * syslog-ng (Debian's 3.38: syslog-ng-core, syslog-ng-mod-http; json-parser is in -core) in the
 * foreground with its own config, persist, pid and control files and disk-buffer directory in a
 * temp dir, so it never touches a system instance.
 *
 *   const ng = await startSyslogNg('http-ndjson.conf', { URL: receiver.url('/ingest'), WORKERS: '4' });
 *   await sendLines(ng.port, bodies, 4);  …  await ng.stop();
 *
 * Templates live in bench/syslog-ng/; `@NAME@` is replaced by `vars.NAME`, `@SOURCE_PORT@` and
 * `@DIR@` are filled in here.
 */

export const SYSLOG_NG = '/usr/sbin/syslog-ng';

export interface SyslogNg {
  /** The TCP source's port. */
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
  stderr(): string;
}

/** `syslog-ng 3 (3.38.1)`, or undefined when syslog-ng is not installed. */
export function syslogNgVersion(): string | undefined {
  try {
    return execFileSync(SYSLOG_NG, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`syslog-ng exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`syslog-ng did not listen on ${port} within ${timeoutMillis} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startSyslogNg(
  template: string,
  vars: Readonly<Record<string, string>>,
): Promise<SyslogNg> {
  const source = readFileSync(fileURLToPath(new URL(`../syslog-ng/${template}`, import.meta.url)), 'utf8');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fs-e2e-syslog-ng-'));
  const all: Record<string, string> = { ...vars, SOURCE_PORT: String(port), DIR: join(dir, 'buffer') };
  const text = source.replace(/@([A-Z_]+)@/g, (whole, name: string) => all[name] ?? whole);
  const unfilled = /@[A-Z_]+@/.exec(text.replace(/^@version.*$/m, ''));
  if (unfilled !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`syslog-ng template ${template}: no value for ${unfilled[0]}`);
  }
  const configPath = join(dir, 'syslog-ng.conf');
  writeFileSync(configPath, text);
  const stderrPath = join(dir, 'stderr.log');
  const stderrFile = createWriteStream(stderrPath);
  const child = spawn(
    SYSLOG_NG,
    [
      '-F', // foreground
      '--no-caps',
      '-f',
      configPath,
      '-R',
      join(dir, 'syslog-ng.persist'),
      '-p',
      join(dir, 'syslog-ng.pid'),
      '-c',
      join(dir, 'syslog-ng.ctl'),
      '--stderr',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(stderrFile);
  child.stderr.pipe(stderrFile);
  const readStderr = (): string => {
    try {
      return readFileSync(stderrPath, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitForPort(port, child, 15_000);
  } catch (err: unknown) {
    child.kill('SIGKILL');
    const said = readStderr();
    stderrFile.close();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${said}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    port,
    pid: child.pid as number,
    dir,
    stderr: readStderr,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        stderrFile.close();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/**
 * Writes `bodies` (newline-framed lines) to 127.0.0.1:`port` over `connections` TCP connections,
 * each taking the next body; resolves once every byte was handed to the kernel and the
 * connections were ended (the source may still be reading).
 */
export async function sendLines(port: number, bodies: readonly Buffer[], connections: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    const socket: Socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    for (let i = next++; i < bodies.length; i = next++) {
      if (!socket.write(bodies[i] as Buffer)) await once(socket, 'drain');
    }
    socket.end();
    await once(socket, 'close');
  };
  await Promise.all(Array.from({ length: connections }, worker));
}
