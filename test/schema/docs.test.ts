import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EVENT_ERROR_CODES } from '../../src/schema/error-codes.js';
import { withFieldDocs } from '../../src/schema/field-docs.js';

const DOC = readFileSync(new URL('../../docs/event-schema.md', import.meta.url), 'utf8');

test('every error code is documented in docs/event-schema.md (in its error code table)', () => {
  const section = DOC.slice(DOC.indexOf('## Error codes'));
  for (const code of Object.keys(EVENT_ERROR_CODES)) {
    assert.match(section, new RegExp(`^\\| \`${code}\` \\|`, 'm'), `${code} is not documented`);
  }
  const documented = [...section.matchAll(/^\| `(FS_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  for (const code of documented)
    assert.ok(code && code in EVENT_ERROR_CODES, `${code} is documented but not defined`);
});

test('the field tables in docs/event-schema.md match the definitions (run scripts/generate-schemas.ts)', () => {
  assert.equal(withFieldDocs(DOC), DOC);
});
