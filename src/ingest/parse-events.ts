import { ApiError } from '../server/errors.js';
import type { BodyKind } from './decode-body.js';

/** One item of an ingest body: its 0-based position (line for NDJSON) and what parsing gave. */
export type BodyItem =
  | { readonly index: number; readonly ok: true; readonly value: unknown }
  | { readonly index: number; readonly ok: false; readonly message: string };

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err: unknown) {
    // RangeError: nesting deep enough to exhaust the stack. Both are the sender's fault.
    const detail = err instanceof RangeError ? 'it is nested too deeply' : (err as Error).message;
    return { ok: false, message: `not valid JSON: ${detail}` };
  }
}

/**
 * Splits a decoded body into items. A JSON body is one event object or an array of them; a body
 * that is not JSON at all is a 400. NDJSON is one event per line; a broken line rejects only
 * itself, and blank lines are skipped (but still count as positions).
 */
export function parseEvents(body: Buffer, kind: BodyKind): BodyItem[] {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (kind === 'json') {
    if (text.trim() === '') throw new ApiError('FS_EMPTY_BODY');
    const parsed = parseJson(text);
    if (!parsed.ok) throw new ApiError('FS_INVALID_JSON', { causes: [`The body is ${parsed.message}.`] });
    if (Array.isArray(parsed.value)) {
      return parsed.value.map((value, index) => ({ index, ok: true, value }));
    }
    return [{ index: 0, ok: true, value: parsed.value }];
  }
  const items: BodyItem[] = [];
  let index = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    if (line !== '') {
      const parsed = parseJson(line);
      items.push(
        parsed.ok ? { index, ok: true, value: parsed.value } : { index, ok: false, message: parsed.message },
      );
    }
    index++;
    start = end + 1;
  }
  if (items.length === 0) throw new ApiError('FS_EMPTY_BODY');
  return items;
}
