/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time,
 * and the most inclusive time, as percentages of the sampled time.
 *
 *   node --import tsx bench/lib/cpu-profile.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionTime {
  readonly name: string;
  readonly selfPercent: number;
  readonly totalPercent: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist|src)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${lineNumber + 1}`}`.trim();
}

/** Self and inclusive time per function (same name and location merged), highest self first. */
export function summarise(profile: Profile): FunctionTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const selfByLabel = new Map<string, number>();
  const totalByLabel = new Map<string, number>();
  for (const [id, t] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + t);
    // Inclusive: each distinct label on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (n === undefined) break;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      totalByLabel.set(l, (totalByLabel.get(l) ?? 0) + t);
    }
  }
  return [...totalByLabel.keys()]
    .map((name) => ({
      name,
      selfPercent: ((selfByLabel.get(name) ?? 0) * 100) / total,
      totalPercent: ((totalByLabel.get(name) ?? 0) * 100) / total,
    }))
    .sort((a, b) => b.selfPercent - a.selfPercent);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const top = Number(values.top);
  for (const file of positionals) {
    const rows = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    console.log(`${file}\n  self%  total%  function`);
    for (const r of rows.slice(0, top)) {
      console.log(
        `  ${r.selfPercent.toFixed(1).padStart(5)}  ${r.totalPercent.toFixed(1).padStart(6)}  ${r.name}`,
      );
    }
    console.log('  -- by inclusive time --');
    for (const r of [...rows].sort((a, b) => b.totalPercent - a.totalPercent).slice(0, top)) {
      console.log(
        `  ${r.selfPercent.toFixed(1).padStart(5)}  ${r.totalPercent.toFixed(1).padStart(6)}  ${r.name}`,
      );
    }
  }
}
