import { readFileSync } from 'node:fs';

/** Small statistics and table helpers shared by the end-to-end benchmarks. */

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The `p`-th percentile (0-100) of values already sorted ascending, nearest-rank method: the
 * smallest value with at least p% of the values at or below it. NaN when empty.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Percentiles of unsorted values (sorted once, as a Float64Array). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => percentileSorted(sorted, p));
}

/** `1234567.8` → `1,234,568`. */
export function formatInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : String(value);
}

/** A fixed-point number, `–` for NaN. */
export function formatFixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** A Markdown table; the first column is left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/**
 * `; CPU pressure 42%`: the share of the last 10 s in which some runnable task waited for a CPU
 * (Linux PSI, /proc/pressure/cpu), i.e. how much other work competed with the benchmark.
 */
export function cpuPressure(): string {
  try {
    const match = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match?.[1] === undefined ? '' : `; CPU pressure ${match[1]}%`;
  } catch {
    return '';
  }
}

/** The machine the figures were taken on, for the header of every benchmark's output. */
export async function machineLine(): Promise<string> {
  const { cpus, loadavg, totalmem } = await import('node:os');
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return `${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${load}${cpuPressure()}`;
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution (`performance.timeOrigin + now()`),
 * comparable between the benchmark's processes on one machine (the receivers stamp arrivals so).
 */
export function wallMillis(): number {
  return performance.timeOrigin + performance.now();
}
