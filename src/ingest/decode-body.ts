import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { ApiError } from '../server/errors.js';

const gunzipAsync = promisify(gunzip);

/** The media types ingest accepts (SPEC §3), by what they hold. */
const MEDIA_TYPES: Readonly<Record<string, 'json' | 'ndjson'>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};

export type BodyKind = 'json' | 'ndjson';

/** The kind of body a Content-Type announces; 415 for anything else (the charset must be UTF-8). */
export function bodyKind(contentType: string | undefined): BodyKind {
  if (contentType === undefined || contentType.trim() === '') {
    throw new ApiError('FS_UNSUPPORTED_MEDIA_TYPE', {
      causes: ['Content-Type is missing: send application/json or application/x-ndjson.'],
    });
  }
  const [mediaType = '', ...params] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const kind = MEDIA_TYPES[mediaType];
  if (kind === undefined) {
    throw new ApiError('FS_UNSUPPORTED_MEDIA_TYPE', {
      causes: [`Content-Type ${mediaType} is not supported: send application/json or application/x-ndjson.`],
    });
  }
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError('FS_UNSUPPORTED_MEDIA_TYPE', {
      causes: [`charset ${charset} is not supported: send UTF-8.`],
    });
  }
  return kind;
}

/**
 * Undoes `Content-Encoding` (identity or gzip), refusing to inflate past `maxBytes` so that a
 * gzip bomb costs at most that much memory and gets a 413.
 */
export async function decodeBody(
  body: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new ApiError('FS_UNSUPPORTED_MEDIA_TYPE', {
      causes: [`Content-Encoding ${encoding} is not supported: send gzip or no encoding.`],
    });
  }
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err: unknown) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ApiError('FS_PAYLOAD_TOO_LARGE', {
        causes: [`The decompressed body is over the limit of ${maxBytes} bytes.`],
      });
    }
    throw new ApiError('FS_BAD_ENCODING', { causes: ['The body is not valid gzip data.'] });
  }
}
