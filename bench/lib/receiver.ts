import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ReceiverOptions, ReceiverStats } from './receiver-process.js';

export type { ReceiverMode, ReceiverOptions, ReceiverStats } from './receiver-process.js';

/**
 * A counting HTTP receiver in a child process (receiver-process.ts), on 127.0.0.1:<free port>.
 *
 *   const receiver = await startReceiver({ mode: 'count' });
 *   // point a stream at receiver.url('/ingest') …
 *   await receiver.waitForEvents(300_000, 120_000);
 *   const { firstAtMillis, lastAtMillis } = await receiver.stats();
 *   await receiver.close();
 */
export interface Receiver {
  readonly port: number;
  readonly pid: number;
  url(path?: string): string;
  stats(): Promise<ReceiverStats>;
  /** Latencies recorded since the last call (milliseconds), when started with `latencyField`. */
  latencies(): Promise<number[]>;
  /** Resolves with the stats once `events` have arrived (in total); rejects after `timeoutMillis`. */
  waitForEvents(events: number, timeoutMillis: number, pollMillis?: number): Promise<ReceiverStats>;
  /** Idempotent. */
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./receiver-process.ts', import.meta.url));

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const child: ChildProcess = fork(ENTRY, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, (message: Record<string, unknown>) => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code} before listening`)));
    child.on('message', (message: Record<string, unknown>) => {
      if (message.type === 'listening') resolve(message.port as number);
      else pending.get(message.id as number)?.(message);
    });
  });
  const ask = (type: string): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, (message) => {
        pending.delete(id);
        resolve(message);
      });
      child.send({ type, id });
    });
  const stats = async (): Promise<ReceiverStats> => (await ask('stats')).stats as ReceiverStats;
  let closed: Promise<void> | undefined;
  return {
    port,
    pid: child.pid as number,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    stats,
    latencies: async () => (await ask('latencies')).values as number[],
    async waitForEvents(events, timeoutMillis, pollMillis = 20) {
      const deadline = Date.now() + timeoutMillis;
      for (;;) {
        const s = await stats();
        if (s.events >= events) return s;
        if (Date.now() > deadline) {
          throw new Error(`receiver got ${s.events} of ${events} events within ${timeoutMillis} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, pollMillis));
      }
    },
    close() {
      closed ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      })();
      return closed;
    },
  };
}
