/**
 * A one-shot wake-up point for the runner's loops: `wait` resolves on the next `notify`, after
 * `timeoutMillis`, or at once when closed. No listeners are attached to shared AbortSignals, so any
 * number of loops can wait at the same time. Timers are unref'd.
 */
export class Wakeup {
  readonly #waiters = new Set<() => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Wakes every waiter, and makes every later `wait` resolve at once. Idempotent. */
  close(): void {
    this.#closed = true;
    this.notify();
  }

  wait(timeoutMillis?: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        this.#waiters.delete(wake);
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.#waiters.add(wake);
      if (timeoutMillis !== undefined) {
        timer = setTimeout(wake, Math.max(0, timeoutMillis));
        timer.unref();
      }
    });
  }
}
