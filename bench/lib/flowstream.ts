import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/**
 * `flowstream serve` as a child process, as an operator runs it: `node <bin> serve --config FILE`
 * with a fresh data directory under os.tmpdir(), listening on 127.0.0.1:<free port>.
 *
 * The executable is `bin/flowstream.js` of this checkout (run `npm run build` first), or
 * `$FLOWSTREAM_BIN` (e.g. a build of a pinned commit, so that other people's edits of src/ do not
 * change the figures mid-run). `$FLOWSTREAM_NODE_ARGS` (space-separated) are passed to node before
 * the script, e.g. `--max-old-space-size=128`.
 *
 *   const fs = await startFlowstream({ streams: [webhookStream('siem', receiver.url('/siem'))] });
 *   await fs.post(body);  …  await fs.health('siem');  …  await fs.stop();
 */

export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

const DEFAULT_BIN = fileURLToPath(new URL('../../bin/flowstream.js', import.meta.url));

export interface FlowstreamOptions {
  readonly streams: readonly Record<string, unknown>[];
  /** Write a V8 CPU profile of the serve process into this directory (on exit). */
  readonly cpuProfDir?: string;
  /** Extra top-level configuration (merged over the defaults). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Keep the data directory after stop() (default: removed). */
  readonly keepData?: boolean;
}

export interface Flowstream {
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  /** GET `/api/v1/logStreams/{id}/health` (SPEC §3). */
  health(id: string): Promise<StreamHealth>;
  /** POST `/api/v1/logStreams/{id}/lifecycle/activate`. */
  activate(id: string): Promise<void>;
  /** SIGTERM, wait for a clean exit (SIGKILL after `timeoutMillis`), remove the temp directory. Idempotent. */
  stop(timeoutMillis?: number): Promise<void>;
  /** The serve process's stderr (logs at `warn` and above) so far. */
  stderr(): string;
}

export interface StreamHealth {
  readonly status: string;
  readonly lagEvents: number;
  readonly deliveredTotal: number;
  readonly deadLetteredTotal: number;
  readonly consecutiveFailures: number;
}

/** A `webhook` stream declaration with NDJSON bodies. */
export function webhookStream(
  id: string,
  url: string,
  delivery: Readonly<Record<string, unknown>>,
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return { id, name: id, type: 'webhook', org: '*', settings: { url, format: 'ndjson' }, delivery, ...extra };
}

export async function startFlowstream(options: FlowstreamOptions): Promise<Flowstream> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-e2e-'));
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: join(dir, 'data') },
    auth: {
      tokens: [
        {
          name: 'bench',
          token: BENCH_TOKEN,
          org: '*',
          scopes: ['events:write', 'streams:read', 'streams:write'],
        },
      ],
    },
    network: { allowPrivateNetworks: true },
    logging: { level: 'warn' },
    streams: options.streams,
    ...options.config,
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const bin = process.env.FLOWSTREAM_BIN ?? DEFAULT_BIN;
  if (bin === DEFAULT_BIN && !existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)))) {
    throw new Error('dist/ is missing: run `npm run build` first (bin/flowstream.js runs the compiled CLI)');
  }
  const args = [
    ...(process.env.FLOWSTREAM_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    ...(options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir]),
    bin,
    'serve',
    '--config',
    configPath,
  ];
  const stderrPath = join(dir, 'stderr.log');
  const stderrFile = createWriteStream(stderrPath);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.pipe(stderrFile);
  const listening = new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`flowstream did not start within 30 s: ${out}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /flowstream listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`flowstream exited with ${code} before listening: ${out} ${readStderr()}`));
    });
  });
  let url: string;
  try {
    url = await listening;
  } catch (err: unknown) {
    child.kill('SIGKILL');
    stderrFile.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout?.resume();

  function readStderr(): string {
    try {
      return readFileSync(stderrPath, 'utf8');
    } catch {
      return '';
    }
  }
  const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
  let stopped: Promise<void> | undefined;
  return {
    url,
    pid: child.pid as number,
    dir,
    async health(id) {
      const res = await request(`${url}/api/v1/logStreams/${id}/health`, { headers: auth });
      const body = (await res.body.json()) as StreamHealth;
      if (res.statusCode !== 200) throw new Error(`health ${id}: ${res.statusCode} ${JSON.stringify(body)}`);
      return body;
    },
    async activate(id) {
      const res = await request(`${url}/api/v1/logStreams/${id}/lifecycle/activate`, {
        method: 'POST',
        headers: auth,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`activate ${id}: ${res.statusCode} ${text}`);
    },
    stderr: readStderr,
    stop(timeoutMillis = 30_000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMillis);
          await exited;
          clearTimeout(timer);
        }
        stderrFile.close();
        if (options.keepData !== true) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
