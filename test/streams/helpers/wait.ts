import { setTimeout as delay } from 'node:timers/promises';

/** Polls `condition` every 5 ms until it holds; fails with `what` after `timeoutMillis`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMillis = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

export { delay };
