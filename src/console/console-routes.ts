import { createHash } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_ASSET_FILES } from './console-assets.generated.js';

/**
 * The page's Content-Security-Policy: everything from this origin only, no inline script or style,
 * no plugins, no framing, no form posts, and Trusted Types required so that even a future
 * `innerHTML = …` with a string throws instead of parsing data as HTML.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers on every console response. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONSOLE_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // For browsers without CSP frame-ancestors.
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  // Revalidated on every load (with the ETag), so an upgrade is seen at once.
  'cache-control': 'no-cache',
});

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
};

declare module 'fastify' {
  interface FastifySchema {
    /** Not part of the HTTP API's OpenAPI document (the console's page and files are not API). */
    hide?: boolean;
  }
}

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

function asset(name: string, text: string): Asset {
  const contentType = CONTENT_TYPES[path.extname(name)];
  if (contentType === undefined) throw new Error(`console asset ${name}: no content type for its extension`);
  const body = Buffer.from(text, 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, contentType, etag };
}

/** `If-None-Match` lists the ETag (or `*`): the browser's copy is current. */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
}

/**
 * The web console: `GET /console` (the page) and `GET /console/<file>` (its script, style and
 * icon). Serving them needs no token — they hold no data; the page asks for a token and calls the
 * API with it. The files are embedded at build time (see generate-assets.ts) and turned into
 * buffers once, here.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const served: [string, Asset][] = [];
  for (const [name, text] of Object.entries(CONSOLE_ASSET_FILES)) {
    const file = asset(name, text);
    if (name === 'index.html') served.push(['/console', file], ['/console/', file]);
    else served.push([`/console/${name}`, file]);
  }
  if (!served.some(([url]) => url === '/console')) throw new Error('console assets: index.html is missing');

  for (const [url, file] of served) {
    app.get(
      url,
      {
        schema: {
          summary:
            url.startsWith('/console/') && url !== '/console/'
              ? 'A file of the web console'
              : 'The web console',
          description:
            'No token needed: the page asks for one and calls this API with it. See docs/console.md.',
          tags: ['console'],
          hide: true,
        },
      },
      async (request: FastifyRequest, reply: FastifyReply) => {
        reply.headers(CONSOLE_SECURITY_HEADERS).header('etag', file.etag);
        if (notModified(request, file.etag)) return reply.code(304).send();
        return reply.type(file.contentType).send(file.body);
      },
    );
  }
}
