/**
 * The field tables of docs/event-schema.md, rendered from definitions.ts so the docs cannot drift from
 * the validator (scripts/generate-schemas.ts writes them between markers; a test compares).
 */
import {
  BASE_FIELDS,
  EVENT_TYPE_FIELD,
  type FieldDefinition,
  type FieldKind,
  type FieldTable,
  SEED_SECTIONS,
  TYPE_FIELDS,
} from './definitions.js';
import { aliasesOf, EVENT_TYPES } from './event-types.js';

export const FIELD_DOCS_BEGIN = '<!-- generated:fields:begin (scripts/generate-schemas.ts; do not edit) -->';
export const FIELD_DOCS_END = '<!-- generated:fields:end -->';

const STRICT_FORM: Readonly<Record<FieldKind, string>> = {
  uuid: 'UUID',
  ulid: 'ULID',
  timestamp: 'UTC timestamp, ms, `Z`',
  string: 'non-empty string',
  hostname: 'host name',
  identifier: 'identifier',
  'folder-id-path': 'ULIDs joined by `/`',
  'string-array': 'non-empty array of strings',
  integer: 'integer ≥ 0',
  'status-code': 'integer 100–599',
  boolean: 'boolean',
  'retry-policy': '`"flow"` or `"handler"`',
};

const LENIENT_FORM: Readonly<Record<FieldKind, string>> = {
  uuid: 'string',
  ulid: 'string',
  timestamp: 'RFC 3339 date-time with zone',
  string: 'string',
  hostname: 'string',
  identifier: 'string',
  'folder-id-path': 'string',
  'string-array': 'array of strings, or a string',
  integer: 'number ≥ 0, or a string of one',
  'status-code': 'number ≥ 0, or a string of one',
  boolean: 'boolean, or "true"/"false" any case',
  'retry-policy': 'string',
};

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function presence(def: FieldDefinition, mode: 'strict' | 'lenient'): string {
  if (def[mode] === 'required') return '**required**';
  return def.ifApplicable ? 'if applicable' : 'optional';
}

function row(name: string, def: FieldDefinition): string {
  const unit = def.unit === undefined ? '' : ` (${def.unit === 'milliseconds' ? 'ms' : 's'})`;
  const requiredSuffix = def.kind === 'timestamp' ? '' : ', non-empty';
  const lenientForm = `${LENIENT_FORM[def.kind]}${def.lenient === 'required' ? requiredSuffix : ', or null'}`;
  return `| \`${name}\` | ${presence(def, 'strict')} | ${STRICT_FORM[def.kind]}${unit} | ${presence(def, 'lenient')} | ${lenientForm} | \`${cell(JSON.stringify(def.typedExample))}\` | ${cell(def.description)} |`;
}

function table(fields: FieldTable, first?: string): string[] {
  return [
    '| field | strict | strict form | lenient | lenient accepts | example (typed) | description (seed) |',
    '|---|---|---|---|---|---|---|',
    ...(first === undefined ? [] : [first]),
    ...Object.entries(fields).map(([name, def]) => row(name, def)),
  ];
}

/** The Markdown between FIELD_DOCS_BEGIN and FIELD_DOCS_END (markers excluded). */
export function renderFieldDocs(): string {
  const eventTypeRow = `| \`event_type\` | **required** | canonical name | **required** | name or alias | \`"FLOW_START"\` | ${cell(EVENT_TYPE_FIELD.description)} |`;
  const lines: string[] = ['### Base Schema (every event)', '', ...table(BASE_FIELDS, eventTypeRow)];
  for (const type of EVENT_TYPES) {
    const aliases = aliasesOf(type);
    lines.push(
      '',
      `### \`${type}\` — ${SEED_SECTIONS[type]}${aliases.length === 0 ? '' : ` (aliases: ${aliases.map((a) => `\`${a}\``).join(', ')})`}`,
      '',
      ...table(TYPE_FIELDS[type]),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `doc` with the generated section replaced; undefined when the markers are missing. */
export function withFieldDocs(doc: string): string | undefined {
  const begin = doc.indexOf(FIELD_DOCS_BEGIN);
  const end = doc.indexOf(FIELD_DOCS_END);
  if (begin < 0 || end < begin) return undefined;
  return `${doc.slice(0, begin + FIELD_DOCS_BEGIN.length)}\n${renderFieldDocs()}${doc.slice(end)}`;
}
