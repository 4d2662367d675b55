#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner (TypeScript through tsx).
// Node 20's `--test` takes no globs, so the files are listed here. Extra arguments (file paths or
// folders) narrow the run: `npm run test:only -- test/streams`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function testFiles(entry) {
  if (statSync(entry).isFile()) return entry.endsWith('.test.ts') ? [entry] : [];
  return readdirSync(entry)
    .sort()
    .flatMap((name) =>
      name === 'fixtures' || name === 'node_modules' ? [] : testFiles(path.join(entry, name)),
    );
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test']).flatMap(testFiles);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
