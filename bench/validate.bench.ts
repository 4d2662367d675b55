/**
 * Event contract benchmark: `node --import tsx bench/validate.bench.ts [--runs N] [--file-mb MB]`
 * (or FLOWSTREAM_BENCH_FILE_MB=1024 for the 1 GB file run; `--file-mb 0` skips the file run).
 *
 * Prints medians of N runs (one core: everything runs on the main thread) for:
 * - validateEvent, lenient, on parsed seed-like events (the seed's four examples and one typed event
 *   of each type, with fresh ids): the ingest hot path. Goal ≥ 1,000,000 events/s.
 * - validateEvent, strict, on strict-valid events (what the SDK checks before it sends).
 * - validateEvent, strict, on the seed examples (all invalid: the allErrors pass and the messages).
 * - JSON.parse + lenient validateEvent of NDJSON lines. Goal ≥ 300,000 events/s.
 * - `flowstream validate` on a generated NDJSON file of --file-mb MiB in a temp dir (default 64):
 *   MB/s, events/s and the child's peak RSS (/usr/bin/time -v when present, else the child reports
 *   its own process.resourceUsage()). Uses bin/flowstream.js when dist/ is built, else main() via tsx.
 * Figures recorded with the machine in bench/figures/schema.md. Not a test: nothing is asserted.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EVENT_TYPES, type EventType } from '../src/schema/event-types.js';
import { type ValidationMode, validateEvent } from '../src/schema/validate.js';
import { STRICT_TYPE_FIELDS } from '../test/schema/seed-fixtures.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'file-mb': { type: 'string', default: process.env.FLOWSTREAM_BENCH_FILE_MB ?? '64' },
    'child-validate': { type: 'string' },
  },
});

type Json = Record<string, unknown>;

const SEED_LIKE: readonly Json[] = [
  {
    event_type: 'FLOW_START',
    execution_id: '326b7317-6ea5-4d6a-a9f5-0ee8675c0428',
    timestamp: '2024-04-04T18:30:38.730Z',
    flow_id: '632567',
    flow_name: 'PDV Log Streaming',
    org_id: '00o4mhtja45vHndwd0g7',
    org_name: 'logstream-01',
    user_email: 'j_xyht433h5oxg1qsdvi3hj_jmr0rpxkckkxw-uzsys',
    folder_id_path: '372061/378378',
    folder_id: '378378',
    engine_mode: 'realtime',
    idempotency_key: '67c775008e83c5205f1114a86bba2521',
    throttled: false,
    address: 'root:kernel:string:0.0.1:compose',
  },
  {
    event_type: 'FLOW_COMPLETE',
    execution_id: '538911d5-6234-4edc-9f24-38bb633a4574',
    timestamp: '2024-04-04T18:58:15.901Z',
    flow_id: '625207',
    flow_name: '2. Simple Helper flow ',
    org_id: '00o4mhtja45vHndwd0g7',
    org_name: 'logstream-01',
    user_email: 'j_xyht433h5oxg1qsdvi3hj_jmr0rpxkckkxw-uzsys',
    parent_execution_id: 'c0e2a040-9c6e-44fe-8c45-5b40dae3c4ab',
    parent_flow_id: '0ff53d44-7c49-4dcd-ae8a-b16fc5a5a5d2',
    parent_flow_name: 'Flow 1: API Invoke Flow',
    root_execution_id: '13881f3b-b0e0-4385-afca-7ad833e40c77',
    root_flow_id: '543087',
    folder_id_path: '',
    folder_id: '',
    engine_mode: 'realtime',
    idempotency_key: 'a888ffb7e2d71d264fcce697a855fc8',
    throttled: false,
    duration: 41,
    step_count: 2,
    address: 'root:kernel:string:0.0.1:compose',
  },
];

function typedEvent(type: EventType): Json {
  return {
    event_type: type,
    execution_id: randomUUID(),
    timestamp: new Date(1_712_255_438_730 + Math.floor(Math.random() * 1e9)).toISOString(),
    flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
    flow_name: 'Log Stream Example',
    org_id: '01J29TH3XHECT79M257GG2QTKJ',
    org_name: 'logstream-01',
    org_hostname: 'atko.okta.com',
    user_id: '01J29TRZDZKSY6V70GATDAHN2N',
    user_email: 'jessie.doe@example.corp',
    parent_execution_id: randomUUID(),
    parent_flow_id: '01J29TTH757HFCK5FPMCRCT6A3',
    parent_flow_name: 'Immediate Parent Flow Calling Example Flow',
    root_execution_id: randomUUID(),
    root_flow_id: '01J29TTS7X37QSTKPJBGS52ENF',
    root_flow_name: 'Root Flow Calling Example Flow',
    folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
    folder_id: '01J29T9NX4WVFNNSDG2FMQBYR8',
    folder_name: ['My parent folder', 'My child folder'],
    engine_mode: 'realtime',
    idempotency_key: randomUUID(),
    throttled: false,
    ...STRICT_TYPE_FIELDS[type],
  };
}

/** A pool of distinct objects (so the engine cannot specialise on one): seed examples + typed events. */
function pool(size: number, strictOnly: boolean): Json[] {
  const out: Json[] = [];
  for (let i = 0; out.length < size; i++) {
    const seed = SEED_LIKE[i % SEED_LIKE.length];
    if (!strictOnly && i % 3 === 0 && seed !== undefined) {
      out.push({ ...seed, execution_id: randomUUID(), idempotency_key: randomUUID().replaceAll('-', '') });
    } else {
      out.push(typedEvent(EVENT_TYPES[i % EVENT_TYPES.length] as EventType));
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Calls `once(i)` for about `millis`, returns operations per second. */
interface Rate {
  /** Operations per second of wall-clock time. */
  readonly wall: number;
  /**
   * Operations per second of CPU time used by the process (all its threads, GC included). On a
   * shared machine this is the steadier figure: it does not count time spent waiting for a core.
   */
  readonly cpu: number;
}

/** Calls `once(i)` for about `millis` of wall-clock time. */
function rate(millis: number, once: (i: number) => unknown): Rate {
  let ops = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < millis) {
    for (let i = 0; i < 10_000; i++) once(ops + i);
    ops += 10_000;
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: ops / ((now - start) / 1000), cpu: ops / ((cpu.user + cpu.system) / 1e6) };
}

function validationRate(events: readonly Json[], mode: ValidationMode, expectOk: boolean): Rate {
  const n = events.length;
  let wrong = 0;
  const r = rate(1000, (i) => {
    if (validateEvent(events[i % n], mode).ok !== expectOk) wrong++;
  });
  if (wrong > 0) throw new Error(`benchmark input is not what it claims: ${wrong} unexpected results`);
  return r;
}

function ndjsonRate(lines: readonly string[]): Rate {
  const n = lines.length;
  let invalid = 0;
  const r = rate(1000, (i) => {
    if (!validateEvent(JSON.parse(lines[i % n] as string), 'lenient').ok) invalid++;
  });
  if (invalid > 0) throw new Error('benchmark NDJSON has invalid events');
  return r;
}

async function writeEvents(
  file: string,
  megabytes: number,
  asArray: boolean,
): Promise<{ events: number; bytes: number }> {
  const target = megabytes * 1024 * 1024;
  const out = createWriteStream(file);
  if (asArray) out.write('[\n');
  const lines = pool(4096, false).map((e) => JSON.stringify(e));
  let bytes = 0;
  let events = 0;
  while (bytes < target) {
    let batch = '';
    for (let i = 0; i < 2000; i++) {
      // Vary the execution id so no two lines are the same (the JSON length stays the same).
      const line = (lines[events % lines.length] as string).replace(
        /"execution_id":"[0-9a-f-]{36}"/,
        `"execution_id":"${randomUUID()}"`,
      );
      batch += asArray && events > 0 ? `,\n${line}` : `${line}\n`;
      events++;
    }
    bytes += Buffer.byteLength(batch);
    if (!out.write(batch)) await once(out, 'drain');
  }
  if (asArray) out.write('\n]\n');
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return { events, bytes };
}

interface FileRun {
  seconds: number;
  /** User + system CPU seconds of the validate process, when measured. */
  cpuSeconds: number | undefined;
  maxRssMiB: number | undefined;
  exitCode: number;
  how: string;
}

function runChild(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(args[0] as string, args.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function validateFile(file: string): Promise<FileRun> {
  const built = existsSync(join(ROOT, 'dist/cli/main.js'));
  const cli = built
    ? [process.execPath, join(ROOT, 'bin/flowstream.js'), 'validate', file]
    : [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--child-validate', file];
  const haveTime = existsSync('/usr/bin/time');
  const start = performance.now();
  const r = await runChild(haveTime ? ['/usr/bin/time', '-v', ...cli] : cli);
  const seconds = (performance.now() - start) / 1000;
  const timeRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const timeCpu = ['User', 'System'].map((k) =>
    Number(new RegExp(`${k} time \\(seconds\\): ([0-9.]+)`).exec(r.stderr)?.[1]),
  );
  const childCpu = /^cpuSeconds=([0-9.]+)$/m.exec(r.stdout);
  const cpuSeconds = haveTime
    ? (timeCpu[0] ?? Number.NaN) + (timeCpu[1] ?? Number.NaN)
    : Number(childCpu?.[1]);
  const childRss = /^maxRssKiB=(\d+)$/m.exec(r.stdout);
  const kib = timeRss?.[1] ?? childRss?.[1];
  const how = `${built ? 'bin/flowstream.js' : 'main() via tsx'}${haveTime ? ' under /usr/bin/time -v' : ''}`;
  const code = haveTime ? Number(/Exit status: (\d+)/.exec(r.stderr)?.[1] ?? r.code) : r.code;
  return {
    seconds,
    cpuSeconds: Number.isFinite(cpuSeconds) ? cpuSeconds : undefined,
    maxRssMiB: kib === undefined ? undefined : Number(kib) / 1024,
    exitCode: code,
    how,
  };
}

/** Child mode (no dist/): runs the validate command in-process and reports its own peak RSS. */
async function childValidate(file: string): Promise<void> {
  const { main } = await import('../src/cli/main.js');
  const code = await main(['validate', file]);
  const usage = process.resourceUsage();
  process.stdout.write(
    `maxRssKiB=${usage.maxRSS}\ncpuSeconds=${(usage.userCPUTime + usage.systemCPUTime) / 1e6}\n`,
  );
  process.exitCode = code;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function benchmark(): Promise<void> {
  const runs = Number(values.runs);
  const fileMiB = Number(values['file-mb']);
  const lenientPool = pool(1024, false);
  const strictPool = pool(1024, true);
  const invalidPool = pool(1024, false).filter((e) => !validateEvent(e, 'strict').ok);
  const lines = lenientPool.map((e) => JSON.stringify(e));
  const avgLineBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) / lines.length;

  // Warm up the JIT on every path before measuring.
  validationRate(lenientPool, 'lenient', true);
  validationRate(strictPool, 'strict', true);
  ndjsonRate(lines);

  const results: Record<'lenient' | 'strict' | 'invalid' | 'ndjson', Rate[]> = {
    lenient: [],
    strict: [],
    invalid: [],
    ndjson: [],
  };
  for (let r = 0; r < runs; r++) {
    results.lenient.push(validationRate(lenientPool, 'lenient', true));
    results.strict.push(validationRate(strictPool, 'strict', true));
    results.invalid.push(validationRate(invalidPool, 'strict', false));
    results.ndjson.push(ndjsonRate(lines));
  }
  const show = (rates: Rate[], bytes?: number) => {
    const wall = median(rates.map((x) => x.wall));
    const cpu = median(rates.map((x) => x.cpu));
    const mb = (n: number) => (bytes === undefined ? '' : ` (${((n * bytes) / 1e6).toFixed(0)} MB)`);
    return `${fmt(wall)} events/s wall${mb(wall)}; ${fmt(cpu)} events per CPU-second${mb(cpu)}`;
  };
  const rows: Array<[string, string]> = [
    ['validateEvent lenient, parsed seed-like events', show(results.lenient)],
    ['validateEvent strict, strict-valid events', show(results.strict)],
    ['validateEvent strict, invalid events (all errors + messages)', show(results.invalid)],
    [
      `JSON.parse + lenient validateEvent, NDJSON lines (${Math.round(avgLineBytes)} B)`,
      show(results.ndjson, avgLineBytes),
    ],
  ];

  if (fileMiB > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'flowstream-validate-bench-'));
    try {
      for (const asArray of [false, true]) {
        const file = join(dir, asArray ? 'events.json' : 'events.ndjson');
        const genStart = performance.now();
        const { events } = await writeEvents(file, fileMiB, asArray);
        const bytes = statSync(file).size;
        const genSeconds = (performance.now() - genStart) / 1000;
        const fileRuns: FileRun[] = [];
        const fileRunCount = fileMiB >= 512 ? Math.min(runs, 3) : runs;
        for (let r = 0; r < fileRunCount; r++) fileRuns.push(await validateFile(file));
        const seconds = median(fileRuns.map((f) => f.seconds));
        const cpus = fileRuns.map((f) => f.cpuSeconds).filter((x): x is number => x !== undefined);
        const cpuSeconds = cpus.length === 0 ? undefined : median(cpus);
        const perCpu =
          cpuSeconds === undefined
            ? ''
            : `; per CPU-second: ${(bytes / 1e6 / cpuSeconds).toFixed(0)} MB, ${fmt(events / cpuSeconds)} events`;
        const rss = fileRuns.map((f) => f.maxRssMiB).filter((x): x is number => x !== undefined);
        const first = fileRuns[0];
        rows.push(
          [
            `flowstream validate, ${(bytes / 2 ** 20).toFixed(0)} MiB ${asArray ? 'JSON array' : 'NDJSON'}, ${fmt(events)} events (generated in ${genSeconds.toFixed(1)} s)`,
            `wall ${(bytes / 1e6 / seconds).toFixed(0)} MB/s, ${fmt(events / seconds)} events/s, ${seconds.toFixed(1)} s${perCpu}; exit ${first?.exitCode}`,
          ],
          [
            `  peak RSS of the validate process (${first?.how}; ${fileRunCount} runs)`,
            rss.length === 0 ? 'not measured' : `${Math.max(...rss).toFixed(0)} MiB (max of runs)`,
          ],
        );
        rmSync(file, { force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(
    `validate benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, median of ${runs} runs\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

if (values['child-validate'] !== undefined) await childValidate(values['child-validate']);
else await benchmark();
