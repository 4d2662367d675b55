import { readFileSync } from 'node:fs';

/** Resident memory of a process from /proc/PID/status (Linux), in MiB. */
export interface RssSample {
  /** VmRSS: resident now. */
  readonly rssMiB: number;
  /** VmHWM: the peak resident size since the process started. */
  readonly hwmMiB: number;
}

export function readRss(pid: number): RssSample | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] === undefined ? Number.NaN : Number(match[1]);
  };
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/**
 * Samples a process's RSS every `intervalMillis` (timer unref'd) and keeps the highest VmRSS seen
 * and the last VmHWM read: the kernel's VmHWM catches peaks between samples.
 */
export class RssSampler {
  #maxRssMiB = 0;
  #hwmMiB = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMillis = 100,
  ) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMillis);
    this.#timer.unref();
  }

  sample(): RssSample | undefined {
    const s = readRss(this.pid);
    if (s !== undefined) {
      this.#maxRssMiB = Math.max(this.#maxRssMiB, s.rssMiB);
      this.#hwmMiB = Math.max(this.#hwmMiB, s.hwmMiB);
    }
    return s;
  }

  /** Stops sampling (after one last sample); idempotent. */
  stop(): { maxRssMiB: number; hwmMiB: number } {
    clearInterval(this.#timer);
    this.sample();
    return { maxRssMiB: this.#maxRssMiB, hwmMiB: this.#hwmMiB };
  }
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on every Linux build that matters). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc/PID/stat;
 * undefined once it is gone. A figure independent of how busy the shared machine is: events per
 * CPU second is what one otherwise idle core would sustain.
 */
export function readCpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name (which may hold spaces): state is field 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / USER_HZ;
}
