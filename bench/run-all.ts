// `npm run bench`: runs every benchmark script in bench/ one after another and prints their
// figures. `npm run bench -- webhook e2e` runs only the scripts whose names contain a word.
// Figures and the machine they were measured on are recorded in bench/README.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const words = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => words.length === 0 || words.some((w) => name.includes(w)))
  .sort();
let failed = 0;
for (const name of scripts) {
  process.stdout.write(`\n=== ${name}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, name)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${name} exited with ${result.status ?? result.signal}\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
