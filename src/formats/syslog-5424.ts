import type { OutboundEvent } from '../destinations/destination.js';

/**
 * RFC 5424 syslog messages for execution events, and their RFC 6587 framings
 * (docs/destinations/syslog.md).
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [flowstream@PEN org_id=".." flow_id=".." execution_id=".." idempotency_key=".."] MSG
 *
 * - PRI = facility * 8 + severity (RFC 5424 §6.2.1); the severity comes from the event type
 *   (`severityOf`, table below); the facility is the stream's (default local0 = 16).
 * - VERSION is 1.
 * - TIMESTAMP is the event's own `timestamp` in UTC with milliseconds and `Z`
 *   (`2024-04-04T18:30:38.777Z`), or NILVALUE (`-`) when it is not a date with a 4-digit year
 *   (lenient ingest accepts such events); the receiver then stamps its own time.
 * - HOSTNAME (≤ 255), APP-NAME (≤ 48, default `flowstream`), PROCID (≤ 128, default NILVALUE) and
 *   MSGID (the canonical event type, ≤ 32) are PRINTUSASCII (33..126): any other character becomes
 *   `_` and longer values are cut, since the grammar allows nothing else.
 * - STRUCTURED-DATA is one SD-ELEMENT whose SD-ID is `flowstream@<enterpriseId>`. The default
 *   enterprise number 32473 is IANA's example PEN reserved for documentation (RFC 5612); an
 *   organisation with its own PEN sets it. PARAM-VALUEs are the event's ids, UTF-8, with `"`, `\`
 *   and `]` escaped by a backslash (RFC 5424 §6.3.3).
 * - MSG is the event (Okta JSON, or its CloudEvents envelope) as JSON text on one line. No BOM by
 *   default: many receivers (rsyslog, Splunk, Graylog) keep a BOM as part of the text, which breaks
 *   JSON parsing of MSG; `utf8Bom: true` emits MSG-UTF8 (BOM + UTF-8) for receivers that want it.
 *
 * Severity by event type (RFC 5424 numeric codes):
 *
 * | event_type                           | severity      |
 * |--------------------------------------|---------------|
 * | FLOW_FAIL with `fatal` true / absent | err (3)       |
 * | FLOW_FAIL with `fatal` false (retry) | warning (4)   |
 * | FLOW_RATE_LIMIT, FLOW_THROTTLE       | warning (4)   |
 * | FLOW_CANCEL, FLOW_PAUSE              | notice (5)    |
 * | FLOW_START, FLOW_COMPLETE, others    | info (6)      |
 */

/** RFC 5424 §6.2.1 facility codes. `audit` is "log audit", `alert` "log alert", `clock` the second cron. */
export const SYSLOG_FACILITIES = Object.freeze({
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const);

export type SyslogFacilityName = keyof typeof SYSLOG_FACILITIES;

/** RFC 5424 §6.2.1 severity codes. */
export const SYSLOG_SEVERITIES = Object.freeze({
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const);

/** The default facility: local0 (16). */
export const DEFAULT_FACILITY = SYSLOG_FACILITIES.local0;
export const DEFAULT_APP_NAME = 'flowstream';
/** IANA's example Private Enterprise Number, reserved for documentation (RFC 5612). */
export const DEFAULT_ENTERPRISE_ID = '32473';
/** The SD-ID's name part; the SD-ID is `flowstream@<enterpriseId>`. */
export const SD_NAME = 'flowstream';

export const MAX_HOSTNAME_LENGTH = 255;
export const MAX_APP_NAME_LENGTH = 48;
export const MAX_PROCID_LENGTH = 128;
export const MAX_MSGID_LENGTH = 32;

const NILVALUE = '-';
const BOM = '\uFEFF';

export interface Rfc5424Options {
  /** 0..23 (SYSLOG_FACILITIES). */
  readonly facility: number;
  /** The HOSTNAME field: the sending machine. */
  readonly hostname: string;
  /** Default `flowstream`. */
  readonly appName?: string;
  /** Default NILVALUE. */
  readonly procId?: string;
  /** Digits, optionally dotted (`32473`, `32473.1`): the SD-ID is `flowstream@<enterpriseId>`. */
  readonly enterpriseId: string;
  /** Prefix MSG with a UTF-8 BOM (RFC 5424 MSG-UTF8). Default false. */
  readonly utf8Bom?: boolean;
}

/** The facility code for a name (`local0`) or a number (0..23); undefined when neither. */
export function facilityCode(facility: string | number): number | undefined {
  if (typeof facility === 'number') {
    return Number.isInteger(facility) && facility >= 0 && facility <= 23 ? facility : undefined;
  }
  return Object.hasOwn(SYSLOG_FACILITIES, facility)
    ? SYSLOG_FACILITIES[facility as SyslogFacilityName]
    : undefined;
}

/** The severity of an event, from its type (table in the module comment). */
export function severityOf(eventType: string, event: Readonly<Record<string, unknown>>): number {
  switch (eventType) {
    case 'FLOW_FAIL':
      return isFalse(event.fatal) ? SYSLOG_SEVERITIES.warning : SYSLOG_SEVERITIES.err;
    case 'FLOW_RATE_LIMIT':
    case 'FLOW_THROTTLE':
      return SYSLOG_SEVERITIES.warning;
    case 'FLOW_CANCEL':
    case 'FLOW_PAUSE':
      return SYSLOG_SEVERITIES.notice;
    default:
      return SYSLOG_SEVERITIES.info;
  }
}

/** `fatal: false` as flowstream produces it, or as producers send it (`"false"`, `"FALSE"`). */
function isFalse(value: unknown): boolean {
  return value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'false');
}

/**
 * One RFC 5424 message (without framing) for `event`. `message` is the MSG text; by default the
 * event's JSON, which should be on one line (`eventLine` in json-framing.ts) so that newline framing
 * does not have to alter it.
 */
export function formatRfc5424(
  event: OutboundEvent,
  opts: Rfc5424Options,
  message: string = event.json,
): string {
  const pri = opts.facility * 8 + severityOf(event.eventType, event.event);
  const header = [
    `<${pri}>1`,
    rfc5424Timestamp(event.timestamp),
    printUsAscii(opts.hostname, MAX_HOSTNAME_LENGTH),
    printUsAscii(opts.appName ?? DEFAULT_APP_NAME, MAX_APP_NAME_LENGTH),
    printUsAscii(opts.procId ?? NILVALUE, MAX_PROCID_LENGTH),
    printUsAscii(event.eventType, MAX_MSGID_LENGTH),
  ].join(' ');
  const sd =
    `[${SD_NAME}@${opts.enterpriseId}` +
    ` org_id="${escapeParamValue(event.orgId)}"` +
    ` flow_id="${escapeParamValue(event.flowId)}"` +
    ` execution_id="${escapeParamValue(event.executionId)}"` +
    ` idempotency_key="${escapeParamValue(event.idempotencyKey)}"]`;
  return `${header} ${sd} ${opts.utf8Bom === true ? BOM : ''}${message}`;
}

/**
 * TIMESTAMP (RFC 5424 §6.2.3, RFC 3339 with at most 6 fraction digits): the instant in UTC with
 * milliseconds, or NILVALUE when `value` is not a date or its year has more than 4 digits.
 */
export function rfc5424Timestamp(value: string): string {
  const millis = Date.parse(value);
  if (Number.isNaN(millis)) return NILVALUE;
  const iso = new Date(millis).toISOString();
  // toISOString gives ±YYYYYY for years outside 0..9999, which the grammar (4DIGIT) refuses.
  return /^\d{4}-/.test(iso) ? iso : NILVALUE;
}

/**
 * A header field value: characters outside PRINTUSASCII (33..126) become `_`, the value is cut to
 * `maxLength` characters, and an empty value is NILVALUE.
 */
export function printUsAscii(value: string, maxLength: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return clean === '' ? NILVALUE : clean;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** RFC 6587 §3.4.1 octet-counting: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN in bytes. */
export function frameOctetCounting(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.byteLength} `, 'latin1'), message]);
}

/**
 * RFC 6587 §3.4.2 non-transparent framing: the message followed by LF. The trailer cannot be
 * escaped, so every CR or LF inside the message becomes a space first; the MSG is single-line JSON
 * and ids hold no line breaks in practice, so this only matters for hostile ids.
 */
export function frameNewline(message: string): Buffer {
  return Buffer.from(`${message.replace(/[\r\n]/g, ' ')}\n`, 'utf8');
}
