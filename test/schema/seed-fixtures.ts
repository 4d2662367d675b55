/** Loads the seed's examples (test/fixtures/seed/) and builds strict-valid events for tests. */
import { readFileSync } from 'node:fs';
import type { EventType } from '../../src/schema/event-types.js';

const FIXTURES = new URL('../fixtures/seed/', import.meta.url);

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

export type JsonRecord = Record<string, unknown>;

/** The seed's four example events, verbatim. */
export const SEED_EXAMPLES: Readonly<Record<string, JsonRecord>> = {
  'parent-flow-start': readJson('parent-flow-start.json') as JsonRecord,
  'parent-flow-complete': readJson('parent-flow-complete.json') as JsonRecord,
  'helper-flow-start': readJson('helper-flow-start.json') as JsonRecord,
  'helper-flow-complete': readJson('helper-flow-complete.json') as JsonRecord,
};

export interface TableRow {
  readonly description: string;
  readonly exampleText: string;
  readonly example: unknown;
}

/** Every row of the seed's tables, by section ("Base Schema", "Flow Started", …) and field. */
export const SEED_TABLES = (() => {
  const { $comment: _, ...sections } = readJson('table-examples.json') as Record<string, unknown>;
  return sections as Readonly<Record<string, Readonly<Record<string, TableRow>>>>;
})();

/** The seed's Base Schema example values in their typed (strict) form. */
export const STRICT_BASE: JsonRecord = {
  execution_id: '4632dc20-6989-4c57-9b5f-c17528474086',
  timestamp: '2024-04-04T18:30:38.730Z',
  flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
  flow_name: 'Log Stream Example',
  org_id: '01J29TH3XHECT79M257GG2QTKJ',
  org_name: 'logstream-01',
  org_hostname: 'atko.okta.com',
  user_id: '01J29TRZDZKSY6V70GATDAHN2N',
  user_email: 'jessie.doe@example.corp',
  parent_execution_id: '5001fcad-2ec4-4cd8-935e-57f14166e673',
  parent_flow_id: '01J29TTH757HFCK5FPMCRCT6A3',
  parent_flow_name: 'Immediate Parent Flow Calling Example Flow',
  root_execution_id: '0af35fac-d6d8-47cc-b59a-9954711c5ec8',
  root_flow_id: '01J29TTS7X37QSTKPJBGS52ENF',
  root_flow_name: 'Root Flow Calling Example Flow',
  folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
  folder_id: '01J29T9NX4WVFNNSDG2FMQBYR8',
  folder_name: ['My parent folder', 'My child folder'],
  engine_mode: 'realtime',
  idempotency_key: 'f1aaa750-6d92-485e-acf7-dd167e00db2f',
  throttled: false,
};

/** The seed's per-type example values in their typed form (throttling values: the seed gives none). */
export const STRICT_TYPE_FIELDS: Readonly<Record<EventType, JsonRecord>> = {
  FLOW_START: { depth: 5, address: 'root:kernel:string:0.0.1:compose' },
  FLOW_COMPLETE: { duration: 1827, step_count: 108, address: 'root:kernel:control:0.0.1:return' },
  FLOW_FAIL: {
    duration: 7200,
    step_count: 12,
    address: 'gmail:sendEmail:example:1.0.17',
    error_message: 'Example error message',
    error_code: 'XXXXX_XXXXX',
    error_type: 'example_error',
    fatal: true,
    retry_policy: 'flow',
    retry_delay: 600,
  },
  FLOW_CANCEL: { duration: 7200, step_count: 12, address: 'gmail:sendEmail:example:1.0.17' },
  FLOW_PAUSE: { pause_duration: 7200, address: 'gmail:sendEmail:example:1.0.17' },
  FLOW_RATE_LIMIT: {
    address: 'gmail:sendEmail:example:1.0.17',
    status_code: 429,
    backoff_duration: 30,
    hostname: 'example.com',
  },
  FLOW_THROTTLE: { throttling_type: 'execution_limit', throttling_level: 'org' },
};

/** A strict-valid event of `type` built from the seed's example values. */
export function strictEvent(type: EventType, overrides: JsonRecord = {}): JsonRecord {
  return { event_type: type, ...STRICT_BASE, ...STRICT_TYPE_FIELDS[type], ...overrides };
}

/** `event` without the named fields. */
export function without(event: JsonRecord, ...fields: string[]): JsonRecord {
  const copy = { ...event };
  for (const f of fields) delete copy[f];
  return copy;
}
