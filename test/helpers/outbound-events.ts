import type { OutboundEvent } from '../../src/destinations/destination.js';

/**
 * Realistic OutboundEvents for destination and encoder tests, shaped like the events of the seed
 * (Okta's "Event metadata for Execution Log Streaming"): every base-schema field, each event
 * type's own fields, helper flows with parent/root ids. Deterministic: the same `seq` always gives
 * the same event, so expected bodies can be written down.
 *
 *   const batch = outboundEvents(3);                       // FLOW_START, FLOW_COMPLETE, FLOW_FAIL ...
 *   const one = outboundEvent({ seq: 7, eventType: 'FLOW_PAUSE' });
 *   const seed = SEED_EXAMPLES.map((text, i) => fromJson(text, i + 1));   // the seed's own four events
 */

export const EVENT_TYPES = [
  'FLOW_START',
  'FLOW_COMPLETE',
  'FLOW_FAIL',
  'FLOW_CANCEL',
  'FLOW_PAUSE',
  'FLOW_RATE_LIMIT',
  'FLOW_THROTTLE',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface OutboundEventOptions {
  /** Sequence number; also seeds every id. Default 1. */
  readonly seq?: number;
  /** Default: EVENT_TYPES cycled by seq (1 → FLOW_START). */
  readonly eventType?: EventType;
  /** Fields added to (or replacing) the generated ones. `undefined` removes a field. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Serialize with this indentation, to check that the stored text is sent verbatim. Default none. */
  readonly indent?: number;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE_MILLIS = Date.parse('2024-04-04T18:30:38.730Z');

/** A ULID-shaped id (26 Crockford base-32 characters) derived from `n` and a salt. */
export function fakeUlid(n: number, salt: number): string {
  let out = '01J29T';
  let x = (n * 2654435761 + salt * 40503) >>> 0;
  for (let i = 0; i < 20; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += CROCKFORD[(x >>> 16) % 32];
  }
  return out;
}

/** A version-4-shaped UUID derived from `n` and a salt. */
export function fakeUuid(n: number, salt: number): string {
  let hex = '';
  let x = (n * 2246822519 + salt * 3266489917) >>> 0;
  for (let i = 0; i < 32; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    hex += ((x >>> 24) % 16).toString(16);
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function outboundEvent(options: OutboundEventOptions = {}): OutboundEvent {
  const seq = options.seq ?? 1;
  const eventType = options.eventType ?? EVENT_TYPES[(seq - 1) % EVENT_TYPES.length] ?? 'FLOW_START';
  // Executions pair up: seq 1 and 2 share one, 3 and 4 the next ...
  const execution = Math.ceil(seq / 2);
  const isHelper = execution % 3 === 0;
  const event: Record<string, unknown> = {
    event_type: eventType,
    execution_id: fakeUuid(execution, 1),
    timestamp: new Date(BASE_MILLIS + seq * 47).toISOString(),
    flow_id: fakeUlid(execution % 5, 2),
    flow_name: isHelper ? 'Simple Helper flow' : 'Log Stream Example',
    org_id: '01J29TH3XHECT79M257GG2QTKJ',
    org_name: 'logstream-01',
    org_hostname: 'atko.okta.com',
    user_id: '01J29TRZDZKSY6V70GATDAHN2N',
    user_email: 'jessie.doe@example.corp',
    ...(isHelper
      ? {
          parent_execution_id: fakeUuid(execution - 1, 1),
          parent_flow_id: fakeUlid((execution - 1) % 5, 2),
          parent_flow_name: 'Log Stream Example',
          root_execution_id: fakeUuid(execution - 1, 1),
          root_flow_id: fakeUlid((execution - 1) % 5, 2),
          root_flow_name: 'Log Stream Example',
        }
      : {}),
    folder_id_path: '01J2CT7B5P5DFHKFDE85FW6BTV/01J2CT9EN0Q26F3BX8YMWE1EDX',
    folder_id: '01J2CT9EN0Q26F3BX8YMWE1EDX',
    folder_name: ['My parent folder', 'My child folder'],
    engine_mode: 'realtime',
    idempotency_key: fakeUuid(seq, 3),
    throttled: eventType === 'FLOW_THROTTLE',
    ...typeFields(eventType, seq, isHelper),
  };
  for (const [name, value] of Object.entries(options.fields ?? {})) {
    if (value === undefined) delete event[name];
    else event[name] = value;
  }
  return fromObject(event, seq, eventType, options.indent);
}

/** `count` events with seq `firstSeq`, `firstSeq + 1`, ... */
export function outboundEvents(count: number, firstSeq = 1): OutboundEvent[] {
  return Array.from({ length: count }, (_, i) => outboundEvent({ seq: firstSeq + i }));
}

/** An OutboundEvent from JSON text as stored by ingest (kept verbatim). */
export function fromJson(json: string, seq: number, eventType?: string): OutboundEvent {
  const event = JSON.parse(json) as Record<string, unknown>;
  return fromObject(event, seq, eventType ?? String(event.event_type), undefined, json);
}

function fromObject(
  event: Record<string, unknown>,
  seq: number,
  eventType: string,
  indent?: number,
  json?: string,
): OutboundEvent {
  const str = (name: string): string => (typeof event[name] === 'string' ? (event[name] as string) : '');
  return {
    seq,
    eventType,
    orgId: str('org_id'),
    flowId: str('flow_id'),
    executionId: str('execution_id'),
    idempotencyKey: str('idempotency_key'),
    timestamp: str('timestamp'),
    event: Object.freeze(event),
    json: json ?? JSON.stringify(event, null, indent),
  };
}

function typeFields(eventType: EventType, seq: number, isHelper: boolean): Record<string, unknown> {
  const duration = 40 + ((seq * 379) % 5000);
  switch (eventType) {
    case 'FLOW_START':
      return {
        depth: isHelper ? 1 : 0,
        address: isHelper ? 'root:kernel:control:0.0.1:callable' : 'root:kernel:string:0.0.1:compose',
      };
    case 'FLOW_COMPLETE':
      return { duration, step_count: 1 + (seq % 120), address: 'root:kernel:control:0.0.1:return' };
    case 'FLOW_FAIL':
      return {
        duration,
        step_count: 1 + (seq % 12),
        address: 'gmail:sendEmail:example:1.0.17',
        error_message: 'Example error message: "quota" exceeded\nline two',
        error_code: 'XXXXX_XXXXX',
        error_type: 'example_error',
        fatal: seq % 2 === 0,
        ...(seq % 2 === 0 ? {} : { retry_policy: 'Flow', retry_delay: 600 }),
      };
    case 'FLOW_CANCEL':
      return { duration, step_count: 1 + (seq % 12), address: 'gmail:sendEmail:example:1.0.17' };
    case 'FLOW_PAUSE':
      return { pause_duration: 7200, address: 'root:kernel:control:0.0.1:pause' };
    case 'FLOW_RATE_LIMIT':
      return {
        address: 'http:raw:request:1.0.0',
        status_code: 429,
        backoff_duration: 30,
        hostname: 'api.example.com',
      };
    case 'FLOW_THROTTLE':
      return { throttling_type: 'execution_rate', throttling_level: 'org' };
  }
}

/** The four example events of the seed, as Okta printed them (string forms, non-ULID ids ...). */
export const SEED_EXAMPLES: readonly string[] = [
  '{"event_type":"FLOW_START","execution_id":"326b7317-6ea5-4d6a-a9f5-0ee8675c0428","timestamp":"2024-04-04T18:30:38.730Z","flow_id":"632567","flow_name":"PDV Log Streaming","org_id":"00o4mhtja45vHndwd0g7","org_name":"logstream-01","user_email":"j_xyht433h5oxg1qsdvi3hj_jmr0rpxkckkxw-uzsys","folder_id_path":"372061/378378","folder_id":"378378","engine_mode":"realtime","idempotency_key":"67c775008e83c5205f1114a86bba2521","throttled":false,"address":"root:kernel:string:0.0.1:compose"}',
  '{"event_type":"FLOW_COMPLETE","execution_id":"326b7317-6ea5-4d6a-a9f5-0ee8675c0428","timestamp":"2024-04-04T18:30:38.777Z","flow_id":"632567","flow_name":"PDV Log Streaming","org_id":"00o4mhtja45vHndwd0g7","org_name":"logstream-01","user_email":"j_xyht433h5oxg1qsdvi3hj_jmr0rpxkckkxw-uzsys","folder_id_path":"372061/378378","folder_id":"378378","engine_mode":"realtime","idempotency_key":"3c38b738b561288ddc8d345a3b59e6f7","throttled":false,"duration":1827,"step_count":108,"address":"root:kernel:control:0.0.1:return"}',
  '{"event_type":"FLOW_START","execution_id":"538911d5-6234-4edc-9f24-38bb633a4574","timestamp":"2024-04-04T18:58:15.861Z","flow_id":"625207","flow_name":"2. Simple Helper flow ","org_id":"00o4mhtja45vHndwd0g7","org_name":"logstream-01","user_email":"j_xyht433h5oxg1qsdvi3hj_jmr0rpxkckkxw-uzsys","parent_execution_id":"c0e2a040-9c6e-44fe-8c45-5b40dae3c4ab","parent_flow_id":"0ff53d44-7c49-4dcd-ae8a-b16fc5a5a5d2","parent_flow_name":"Flow 1: API Invoke Flow","root_execution_id":"13881f3b-b0e0-4385-afca-7ad833e40c77","root_flow_id":"543087","folder_id_path":"","folder_id":"","engine_mode":"realtime","idempotency_key":"23ac58e41d9b376f5fceb59881bd5c4","throttled":false,"address":"root:kernel:control:0.0.1:callable"}',
  '{"event_type":"FLOW_COMPLETE","execution_id":"538911d5-6234-4edc-9f24-38bb633a4574","timestamp":"2024-04-04T18:58:15.901Z","flow_id":"625207","flow_name":"2. Simple Helper flow ","org_id":"00o4mhtja45vHndwd0g7","org_name":"logstream-01","user_email":"j_xyht433h5oxg1qsdvi3hj_jmr0rpxkckkxw-uzsys","parent_execution_id":"c0e2a040-9c6e-44fe-8c45-5b40dae3c4ab","parent_flow_id":"0ff53d44-7c49-4dcd-ae8a-b16fc5a5a5d2","parent_flow_name":"Flow 1: API Invoke Flow","root_execution_id":"13881f3b-b0e0-4385-afca-7ad833e40c77","root_flow_id":"543087","folder_id_path":"","folder_id":"","engine_mode":"realtime","idempotency_key":"a888ffb7e2d71d264fcce697a855fc8","throttled":false,"duration":41,"step_count":2,"address":"root:kernel:string:0.0.1:compose"}',
];
