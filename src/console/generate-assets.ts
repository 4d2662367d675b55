import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Embeds the console's files (`src/console/assets/`) in a TypeScript module, so the compiled
 * package (`dist/`, which is all `npm install` ships besides bin and schemas) serves them with no
 * file lookups. The files stay plain HTML/JS/CSS for editing and linting; after a change run
 *
 *   node --import tsx src/console/generate-assets.ts
 *
 * test/e2e/console.test.ts fails when the generated module is out of date.
 */

/** Where the source files are (only meaningful when run from `src/`, not from `dist/`). */
export const ASSETS_DIRECTORY = fileURLToPath(new URL('./assets/', import.meta.url));
export const GENERATED_MODULE = fileURLToPath(new URL('./console-assets.generated.ts', import.meta.url));

/** The file names that are embedded (other files in the folder are an error, not silently left out). */
export const ASSET_EXTENSIONS: readonly string[] = ['.html', '.js', '.css', '.svg'];

/** A template literal holding `text` exactly (a template literal is left alone by the formatter). */
function templateLiteral(text: string): string {
  return `\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
}

/** The text of the generated module for the files in `directory`. Throws on a file it cannot embed. */
export function renderAssetsModule(directory: string = ASSETS_DIRECTORY): string {
  const names = readdirSync(directory).sort();
  const entries: string[] = [];
  for (const name of names) {
    if (!ASSET_EXTENSIONS.includes(path.extname(name))) {
      throw new Error(`${name}: the console embeds only ${ASSET_EXTENSIONS.join(', ')} files`);
    }
    const text = readFileSync(path.join(directory, name), 'utf8');
    // A template literal turns CR LF into LF: the served bytes would differ from the file.
    if (text.includes('\r')) throw new Error(`${name}: use LF line endings`);
    entries.push(`  '${name}': ${templateLiteral(text)},`);
  }
  return [
    '// Generated from src/console/assets/ by src/console/generate-assets.ts: do not edit.',
    '// Regenerate with `node --import tsx src/console/generate-assets.ts`.',
    '',
    '/** The console files by name (UTF-8 text), embedded so an installed package serves them from dist/. */',
    'export const CONSOLE_ASSET_FILES: Readonly<Record<string, string>> = Object.freeze({',
    ...entries,
    '});',
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(GENERATED_MODULE, renderAssetsModule());
  process.stdout.write(`wrote ${path.relative(process.cwd(), GENERATED_MODULE)}\n`);
}
