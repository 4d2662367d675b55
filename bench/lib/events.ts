import { outboundEvent } from '../../test/helpers/outbound-events.js';

/**
 * Seed-like events for the end-to-end benchmarks: every base-schema field and each type's own
 * fields (test/helpers/outbound-events.ts), about 800 bytes of JSON each, unique
 * `idempotency_key` per `seq`. `seq` must be unique within one data directory, or ingest counts
 * the event as a duplicate.
 */
export function eventLine(seq: number, extra?: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    extra === undefined ? outboundEvent({ seq }).event : { ...outboundEvent({ seq }).event, ...extra },
  );
}

/**
 * `count` events from `firstSeq` as NDJSON bodies of `batchSize` events each (every line ends with
 * "\n"), ready to POST to ingest or to write to a newline-framed TCP source.
 */
export function ndjsonBodies(count: number, batchSize: number, firstSeq = 1): Buffer[] {
  const bodies: Buffer[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    let text = '';
    for (let i = 0; i < n; i++) text += `${eventLine(firstSeq + start + i)}\n`;
    bodies.push(Buffer.from(text, 'utf8'));
  }
  return bodies;
}

interface Template {
  readonly before: string;
  readonly middle: string;
  readonly after: string;
}

/**
 * A fast generator for very long runs (millions of events): one template event per type, with the
 * seq-dependent `idempotency_key` and `execution_id` replaced by hex of the seq. Same size and shape
 * as `eventLine`, at a fraction of the cost.
 */
export class FastEventFactory {
  readonly #templates: Template[];

  constructor() {
    this.#templates = [];
    for (let seq = 1; seq <= 14; seq++) {
      const event = { ...outboundEvent({ seq }).event, execution_id: '@EXEC@', idempotency_key: '@IDEM@' };
      const text = JSON.stringify(event);
      const [before = '', rest = ''] = text.split('"@EXEC@"');
      const [middle = '', after = ''] = rest.split('"@IDEM@"');
      this.#templates.push({ before, middle, after });
    }
  }

  line(seq: number): string {
    const t = this.#templates[seq % this.#templates.length] as Template;
    const hex = seq.toString(16).padStart(12, '0');
    const execution = Math.ceil(seq / 2)
      .toString(16)
      .padStart(12, '0');
    return `${t.before}"bench000-0000-4000-a000-${execution}"${t.middle}"bench-idem-${hex}"${t.after}`;
  }

  body(firstSeq: number, count: number): Buffer {
    let text = '';
    for (let i = 0; i < count; i++) text += `${this.line(firstSeq + i)}\n`;
    return Buffer.from(text, 'utf8');
  }
}
