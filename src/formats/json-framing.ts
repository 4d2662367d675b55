import type { OutboundEvent, StreamFormat } from '../destinations/destination.js';
import { CLOUDEVENTS_BATCH_CONTENT_TYPE, CLOUDEVENTS_CONTENT_TYPE, cloudEventJson } from './cloudevents.js';

/**
 * JSON framings of a batch (docs/formats.md). Bodies are built by concatenating each event's stored
 * JSON text, never by re-serializing the event. The one change: NDJSON needs one line per event, so
 * line breaks in a pretty-printed event's text are removed (they are insignificant whitespace).
 *
 * | framing  | okta                        | cloudevents                                   |
 * |----------|-----------------------------|-----------------------------------------------|
 * | object   | the event, application/json | one structured event, application/cloudevents+json |
 * | array    | [e1,e2], application/json   | batch [ce1,ce2], application/cloudevents-batch+json |
 * | ndjson   | e1\ne2\n, application/x-ndjson | ce1\nce2\n, application/x-ndjson          |
 */

export type JsonFraming = 'object' | 'array' | 'ndjson';

export const JSON_FRAMINGS: readonly JsonFraming[] = ['object', 'array', 'ndjson'];

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';
export const JSON_CONTENT_TYPE = 'application/json';

export interface EncodedBatch {
  readonly body: string;
  readonly contentType: string;
}

export function contentTypeFor(framing: JsonFraming, format: StreamFormat): string {
  if (framing === 'ndjson') return NDJSON_CONTENT_TYPE;
  if (format === 'okta') return JSON_CONTENT_TYPE;
  return framing === 'object' ? CLOUDEVENTS_CONTENT_TYPE : CLOUDEVENTS_BATCH_CONTENT_TYPE;
}

/**
 * The body for `batch`. `object` takes exactly one event (a destination using it declares
 * `maxBatchEvents: 1`); anything else is a programming error and throws a RangeError.
 */
export function encodeJsonBatch(
  batch: readonly OutboundEvent[],
  framing: JsonFraming,
  format: StreamFormat,
): EncodedBatch {
  const contentType = contentTypeFor(framing, format);
  switch (framing) {
    case 'object': {
      const [only] = batch;
      if (only === undefined || batch.length !== 1) {
        throw new RangeError(`the object framing takes exactly one event, got ${batch.length}`);
      }
      return { body: eventText(only, format), contentType };
    }
    case 'array': {
      let body = '[';
      for (let i = 0; i < batch.length; i++) {
        if (i > 0) body += ',';
        body += eventText(batch[i] as OutboundEvent, format);
      }
      return { body: `${body}]`, contentType };
    }
    case 'ndjson':
      return { body: ndjson(batch, format), contentType };
  }
}

/** One line per event, each ending with "\n" (the last one too). */
export function ndjson(batch: readonly OutboundEvent[], format: StreamFormat): string {
  let body = '';
  for (const event of batch) body += `${eventLine(event, format)}\n`;
  return body;
}

/** The event in the stream's format, as stored (may span lines). */
export function eventText(event: OutboundEvent, format: StreamFormat): string {
  return format === 'cloudevents' ? cloudEventJson(event) : event.json;
}

/** The event in the stream's format on a single line. */
export function eventLine(event: OutboundEvent, format: StreamFormat): string {
  const json = singleLineJson(event.json);
  return format === 'cloudevents' ? cloudEventJson(event, json) : json;
}

/** Bytes of event JSON in the batch (UTF-8), what `delivered.bytes` reports. */
export function batchJsonBytes(batch: readonly OutboundEvent[]): number {
  let bytes = 0;
  for (const event of batch) bytes += Buffer.byteLength(event.json, 'utf8');
  return bytes;
}

/**
 * `json` on one line. JSON strings cannot hold raw line breaks, so any CR/LF in valid JSON text is
 * insignificant whitespace between tokens (a pretty-printed body) and removing it changes nothing
 * else: numbers, key order and escapes stay as stored.
 */
export function singleLineJson(json: string): string {
  if (json.indexOf('\n') === -1 && json.indexOf('\r') === -1) return json;
  return json.replace(/[\r\n]+/g, '');
}
