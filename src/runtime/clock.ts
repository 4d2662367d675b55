import { performance } from 'node:perf_hooks';

/**
 * Time as the flow runtime sees it: wall clock for event timestamps, monotonic clock for durations,
 * and sleeping (wait cards, backoffs, retry delays, schedules, throttled pacing). Injected so tests
 * assert exact event sequences (`VirtualClock`) and so the demo can run on real time (`systemClock`).
 */
export interface Clock {
  /** Wall clock, epoch milliseconds (event `timestamp`). */
  now(): number;
  /** Monotonic milliseconds (event `duration`). */
  monotonicNow(): number;
  /**
   * Resolves after `millis`; rejects with the signal's reason when `signal` aborts first.
   * `keepAlive: false` lets the process exit while only this timer is pending (schedules, traffic);
   * the default keeps it alive, as any unfinished execution should.
   */
  sleep(millis: number, options?: SleepOptions): Promise<void>;
  /**
   * Wraps work this clock does not control (network I/O): a virtual clock does not move time while
   * such work is pending, so what the work does when it completes happens at a deterministic time.
   */
  external<T>(work: Promise<T>): Promise<T>;
}

export interface SleepOptions {
  readonly signal?: AbortSignal;
  /** Default true. */
  readonly keepAlive?: boolean;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Real time: `Date.now`, `performance.now`, `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonicNow: () => performance.now(),
  sleep(millis: number, options: SleepOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal as AbortSignal));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, millis),
      );
      if (options.keepAlive === false) timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
  external: <T>(work: Promise<T>): Promise<T> => work,
});

interface VirtualTimer {
  readonly atMillis: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Lets every queued promise continuation run: microtasks drain before the next macrotask. */
function drainContinuations(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface VirtualClockOptions {
  /** Wall-clock time at monotonic 0, epoch milliseconds. Default 2024-04-04T18:30:38.730Z (the seed's first timestamp). */
  readonly startMillis?: number;
}

/**
 * A clock whose time moves only when told to. Timers fire in time order (ties in the order they were
 * set); between two timers every promise continuation runs, so what a fired timer causes happens
 * before the next timer fires. Work wrapped in `external` (real I/O) is waited for before time
 * moves again. Under this clock a run of the runtime is a pure function of its inputs and the
 * answers of the real peers it talks to.
 */
export class VirtualClock implements Clock {
  readonly #startMillis: number;
  #elapsedMillis = 0;
  #seq = 0;
  /** Sorted by (atMillis, seq). */
  readonly #timers: VirtualTimer[] = [];
  #externalPending = 0;
  /** Woken whenever a timer is set or external work settles (`run` and auto-advance wait on it). */
  #wakers: (() => void)[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#startMillis = options.startMillis ?? Date.parse('2024-04-04T18:30:38.730Z');
  }

  now(): number {
    return this.#startMillis + this.#elapsedMillis;
  }

  monotonicNow(): number {
    return this.#elapsedMillis;
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** External work not yet settled. */
  get externalPending(): number {
    return this.#externalPending;
  }

  sleep(millis: number, options: SleepOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#timers.indexOf(timer);
        if (index >= 0) this.#timers.splice(index, 1);
        reject(abortReason(signal as AbortSignal));
      };
      const timer: VirtualTimer = {
        atMillis: this.#elapsedMillis + Math.max(0, millis),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      let index = this.#timers.length;
      while (index > 0 && (this.#timers[index - 1] as VirtualTimer).atMillis > timer.atMillis) index--;
      this.#timers.splice(index, 0, timer);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#notify();
    });
  }

  external<T>(work: Promise<T>): Promise<T> {
    this.#externalPending++;
    const done = (): void => {
      this.#externalPending--;
      this.#notify();
    };
    return work.finally(done);
  }

  /** Moves time forward by `millis`, firing the timers due on the way in order. */
  async advance(millis: number): Promise<void> {
    const target = this.#elapsedMillis + Math.max(0, millis);
    await drainContinuations();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.atMillis > target) break;
      await this.#fireNext();
    }
    this.#elapsedMillis = target;
    await drainContinuations();
  }

  /**
   * Runs the world until `until` settles: lets continuations run, waits for external work, and
   * otherwise jumps to the next timer. Throws when `until` can never settle (no timer, no external
   * work) or when more than `maxMillis` of virtual time would pass (default one day).
   */
  async run<T>(until: Promise<T>, options: { readonly maxMillis?: number } = {}): Promise<T> {
    const limit = this.#elapsedMillis + (options.maxMillis ?? 86_400_000);
    let settled = false;
    until.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (;;) {
      await drainContinuations();
      if (settled) return until;
      if (this.#externalPending > 0) {
        await this.#nextWake();
        continue;
      }
      const next = this.#timers[0];
      if (next === undefined)
        throw new Error('VirtualClock.run: the promise is pending with no timer or I/O left');
      if (next.atMillis > limit)
        throw new Error(`VirtualClock.run: more than ${options.maxMillis} ms of virtual time`);
      await this.#fireNext();
    }
  }

  /**
   * Moves time by itself: whenever nothing external is pending and continuations have run, jumps
   * to the next timer. Time then passes as fast as the program can use it (the demo test's
   * "compressed time"). Returns a function that stops it.
   */
  startAutoAdvance(): () => void {
    let running = true;
    const loop = async (): Promise<void> => {
      while (running) {
        await drainContinuations();
        if (!running) break;
        if (this.#externalPending > 0 || this.#timers.length === 0) {
          await this.#nextWake();
          continue;
        }
        await this.#fireNext();
      }
    };
    void loop();
    return () => {
      running = false;
      this.#notify();
    };
  }

  async #fireNext(): Promise<void> {
    const timer = this.#timers.shift();
    if (timer === undefined) return;
    this.#elapsedMillis = Math.max(this.#elapsedMillis, timer.atMillis);
    timer.resolve();
    await drainContinuations();
  }

  #nextWake(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakers.push(resolve);
    });
  }

  #notify(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}
