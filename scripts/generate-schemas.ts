/**
 * Writes the published JSON Schemas to `schemas/` and the field tables of docs/event-schema.md (run:
 * `node --import tsx scripts/generate-schemas.ts`). With `--check` it writes nothing and exits 1 when a
 * committed file differs, is missing or is stale.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFieldDocs } from '../src/schema/field-docs.js';
import { buildJsonSchemas, renderSchemaFile } from '../src/schema/json-schema.js';

const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));
const DOC_FILE = fileURLToPath(new URL('../docs/event-schema.md', import.meta.url));
const GENERATED_FILE = /\.(strict|lenient)\.schema\.json$/;

async function main(check: boolean): Promise<number> {
  const wanted = new Map([...buildJsonSchemas()].map(([name, schema]) => [name, renderSchemaFile(schema)]));
  const present = (await readdir(SCHEMAS_DIR).catch(() => [] as string[])).filter((f) =>
    GENERATED_FILE.test(f),
  );
  const problems: string[] = [];
  for (const stale of present.filter((f) => !wanted.has(f))) {
    if (check) problems.push(`${stale} is no longer generated`);
    else await rm(join(SCHEMAS_DIR, stale));
  }
  for (const [name, text] of wanted) {
    const current = await readFile(join(SCHEMAS_DIR, name), 'utf8').catch(() => undefined);
    if (current === text) continue;
    if (check) problems.push(`${name} is ${current === undefined ? 'missing' : 'out of date'}`);
    else await writeFile(join(SCHEMAS_DIR, name), text);
  }
  const doc = await readFile(DOC_FILE, 'utf8');
  const updated = withFieldDocs(doc);
  if (updated === undefined) problems.push('docs/event-schema.md has no generated-fields markers');
  else if (updated !== doc) {
    if (check) problems.push('the field tables of docs/event-schema.md are out of date');
    else await writeFile(DOC_FILE, updated);
  }
  if (problems.length > 0 && (check || updated === undefined)) {
    process.stderr.write(
      `generated files differ from the definitions: ${problems.join('; ')}. Run: node --import tsx scripts/generate-schemas.ts\n`,
    );
    return 1;
  }
  if (!check)
    process.stdout.write(
      `wrote ${wanted.size} schemas to schemas/ and the field tables of docs/event-schema.md\n`,
    );
  return 0;
}

process.exitCode = await main(process.argv.includes('--check'));
