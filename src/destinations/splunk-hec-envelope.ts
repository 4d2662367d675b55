/**
 * The Splunk HEC event envelope (Splunk docs, "Format events for HTTP Event Collector"):
 *
 *   {"time":1712255438.730,"host":"h","source":"flowstream","sourcetype":"okta:workflows:execution","index":"main","fields":{...},"event":{...}}
 *
 * A batch is such envelopes concatenated, one per line (HEC accepts any whitespace, or none,
 * between them). The event JSON is inserted as text, never parsed and re-serialized, so Splunk
 * receives the bytes ingest stored. `time` is the event's own `timestamp` in epoch seconds with
 * milliseconds; when the timestamp cannot be read it is left out and Splunk uses the time of
 * arrival. Metadata keys that are not configured are left out (HEC then applies the token's
 * defaults).
 */

export interface HecMetadata {
  readonly host?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly index?: string;
  /** Indexed fields added to every event (HEC `fields`): flat string values only. */
  readonly fields?: Readonly<Record<string, string>>;
}

/** The longest `"time":…,` part an envelope can have: 10 digits, a point, 3 decimals (until 2286). */
const MAX_TIME_CHARS = '"time":9999999999.999,'.length;

export class HecEnvelopeEncoder {
  /** `,"host":…,"event":` — everything between `time` and the event, fixed per stream. */
  readonly #middle: string;
  /**
   * Upper bound of the bytes an envelope adds around one event's JSON (time, metadata, braces and
   * the line feed), for sizing batches.
   */
  readonly overheadBytes: number;

  constructor(metadata: HecMetadata) {
    let middle = '';
    if (metadata.host !== undefined) middle += `,"host":${JSON.stringify(metadata.host)}`;
    if (metadata.source !== undefined) middle += `,"source":${JSON.stringify(metadata.source)}`;
    if (metadata.sourcetype !== undefined) middle += `,"sourcetype":${JSON.stringify(metadata.sourcetype)}`;
    if (metadata.index !== undefined) middle += `,"index":${JSON.stringify(metadata.index)}`;
    if (metadata.fields !== undefined && Object.keys(metadata.fields).length > 0) {
      middle += `,"fields":${JSON.stringify(metadata.fields)}`;
    }
    middle += ',"event":';
    // Without `time` the envelope starts `{` + middle minus its leading comma.
    this.#middle = middle;
    this.overheadBytes = Buffer.byteLength(middle, 'utf8') + MAX_TIME_CHARS + '{}\n'.length;
  }

  /** One envelope around `eventJson` (which must be a JSON value), without a trailing line feed. */
  envelope(eventJson: string, timestamp: string): string {
    const time = epochSecondsWithMillis(timestamp);
    if (time === undefined) return `{${this.#middle.slice(1)}${eventJson}}`;
    return `{"time":${time}${this.#middle}${eventJson}}`;
  }
}

/**
 * An ISO 8601 timestamp as epoch seconds with exactly three decimals (`1712255438.730`), the
 * form HEC documents for `time`. Undefined when the timestamp does not parse; sub-millisecond
 * digits are dropped.
 */
export function epochSecondsWithMillis(timestamp: string): string | undefined {
  const millis = parseIsoMillis(timestamp);
  if (millis === undefined) return undefined;
  if (millis < 0) return (millis / 1000).toFixed(3);
  const seconds = Math.floor(millis / 1000);
  const rest = millis - seconds * 1000;
  return `${seconds}.${String(rest).padStart(3, '0')}`;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Milliseconds since the epoch of an ISO 8601 date-time, or undefined. Only date-times are read
 * (`Date.parse` also takes forms such as `"632567"`); one without a zone is taken as UTC, as
 * flowstream's timestamps are, rather than in the server's local zone.
 */
export function parseIsoMillis(timestamp: string): number | undefined {
  if (!ISO_DATE_TIME.test(timestamp)) return undefined;
  const millis = Date.parse(HAS_ZONE.test(timestamp) ? timestamp : `${timestamp}Z`);
  return Number.isFinite(millis) ? millis : undefined;
}
