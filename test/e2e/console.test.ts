import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { resolveConfig } from '../../src/config/load-config.js';
import { CONSOLE_ASSET_FILES } from '../../src/console/console-assets.generated.js';
import { consoleRoutes } from '../../src/console/console-routes.js';
import { GENERATED_MODULE, renderAssetsModule } from '../../src/console/generate-assets.js';
import { destinationDefinition } from '../../src/destinations/registry.js';
import { openSqliteEventLog } from '../../src/log/sqlite-event-log.js';
import { createNetworkPolicy } from '../../src/net/network-policy.js';
import { Authenticator } from '../../src/security/authenticator.js';
import { TokenStore } from '../../src/security/token-store.js';
import { buildApp } from '../../src/server/app.js';
import { logStreamsRoutes } from '../../src/server/routes/log-streams.js';
import { tokensRoutes } from '../../src/server/routes/tokens.js';
import { syntheticTestEvent } from '../../src/server/synthetic-event.js';
import { StreamManager } from '../../src/streams/stream-manager.js';
import { sampleEvent } from '../server/helpers/test-app.js';

/**
 * The web console (src/console), served by the real HTTP app with the real log streams API, driven
 * in Debian's Chromium through playwright-core (no browser download: `apt-get install chromium`).
 * FLOWSTREAM_SKIP_BROWSER=1 skips the browser test; FLOWSTREAM_CONSOLE_SCREENSHOT=FILE keeps its
 * screenshot there.
 */

const CHROMIUM = process.env.FLOWSTREAM_CHROMIUM ?? '/usr/bin/chromium';
const SKIP_BROWSER = process.env.FLOWSTREAM_SKIP_BROWSER === '1';
const TOKEN = 'console-operator-token-0123456789';
const SECRET_HEADER = 'Bearer console-secret-value-never-shown';
const XSS_NAME = '<img src=x onerror="window.__pwned=1">';
const XSS_FLOW = '<script>window.__pwned=2</script>';

/** A webhook receiver: `/ok` accepts, `/refuse` answers 400 until `accepting`, `/locked` 401. */
interface Receiver {
  readonly url: string;
  readonly okBodies: string[];
  accepting: boolean;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { okBodies: [] as string[], accepting: false };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/ok' || (req.url === '/refuse' && receiver.accepting)) {
        receiver.okBodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else if (req.url === '/refuse') {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":"schema mismatch at field duration"}');
      } else {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid api key"}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(receiver, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

interface ConsoleServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The app as src/server/service.ts builds it, plus the console plugin (service.ts registers it
 * there; a test cannot add routes to an app that already listens).
 */
async function startConsoleServer(dir: string): Promise<ConsoleServer> {
  const config = resolveConfig({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: dir },
    auth: {
      tokens: [
        { name: 't', token: TOKEN, org: '*', scopes: ['events:write', 'streams:read', 'streams:write'] },
      ],
    },
    network: { allowPrivateNetworks: true },
  });
  const logger = pino({ level: 'silent' });
  const metrics = new Registry();
  const log = openSqliteEventLog({
    directory: dir,
    maxBytes: config.storage.maxBytes,
    retention: config.storage.retention,
  });
  const tokens = new TokenStore(dir);
  const authenticator = new Authenticator(config.auth.tokens, tokens);
  const network = createNetworkPolicy({ allowPrivateNetworks: config.network.allowPrivateNetworks });
  const streams = new StreamManager({
    directory: dir,
    log,
    resolveDestination: destinationDefinition,
    network,
    logger,
    registry: metrics,
    syntheticEvent: () => syntheticTestEvent(),
  });
  await streams.start();
  const app = await buildApp({
    log,
    authenticator,
    metrics,
    logger,
    validation: config.ingest.validation,
    bodyLimitBytes: config.server.bodyLimitBytes,
    decompressedLimitBytes: config.server.decompressedLimitBytes,
    isShuttingDown: () => false,
    isReady: () => true,
    plugins: [
      (instance) => consoleRoutes(instance),
      (instance) => logStreamsRoutes(instance, { streams, authenticator }),
      (instance) => tokensRoutes(instance, { tokens, authenticator }),
    ],
  });
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  return {
    url: address,
    app,
    async close() {
      await app.close();
      await streams.stop(1000);
      await network.close?.();
      await log.close();
      tokens.close();
    },
  };
}

async function callApi(server: ConsoleServer, method: string, url: string, body?: unknown, token = TOKEN) {
  const response = await fetch(`${server.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** Retries `check` until it passes (the console refreshes every 2 s and long-polls events). */
async function eventually(check: () => Promise<void>, timeoutMillis = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    try {
      await check();
      return;
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const text = async (locator: Locator): Promise<string> => (await locator.textContent()) ?? '';

const dir = mkdtempSync(path.join(tmpdir(), 'fs-console-'));
let server: ConsoleServer;
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver();
  server = await startConsoleServer(path.join(dir, 'data'));
});

after(async () => {
  await server?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('console plugin', () => {
  test('the embedded assets are the files of src/console/assets (regenerate on drift)', () => {
    assert.equal(
      readFileSync(GENERATED_MODULE, 'utf8'),
      renderAssetsModule(),
      'src/console/console-assets.generated.ts is stale: run `node --import tsx src/console/generate-assets.ts`',
    );
  });

  test('serves the page and its files without a token, with strict security headers', async () => {
    for (const [url, type] of [
      ['/console', 'text/html; charset=utf-8'],
      ['/console/', 'text/html; charset=utf-8'],
      ['/console/app.js', 'text/javascript; charset=utf-8'],
      ['/console/style.css', 'text/css; charset=utf-8'],
      ['/console/favicon.svg', 'image/svg+xml; charset=utf-8'],
    ] as const) {
      const response = await server.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers['content-type'], type, url);
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /(^|; )default-src 'self'(;|$)/, url);
      assert.match(csp, /(^|; )script-src 'self'(;|$)/, url);
      assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/, url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      assert.equal(response.headers['x-frame-options'], 'DENY', url);

      const etag = String(response.headers.etag);
      const again = await server.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304, url);
      assert.equal(again.body, '', url);
      assert.equal(again.headers['content-security-policy'], csp, url);
    }
    const page = await server.app.inject({ method: 'GET', url: '/console' });
    assert.equal(page.body, CONSOLE_ASSET_FILES['index.html']);
    // The API behind it still wants a token; unknown console files are 404s.
    assert.equal((await server.app.inject({ method: 'GET', url: '/api/v1/logStreams' })).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'GET', url: '/console/nope.js' })).statusCode, 404);
  });

  test('the page has no inline script, inline style or event handler attribute', () => {
    const html = CONSOLE_ASSET_FILES['index.html'] ?? '';
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length > 0);
    for (const [, attributes, body] of scripts) {
      assert.match(attributes ?? '', /\bsrc="\/console\//);
      assert.equal(body?.trim(), '');
    }
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /\sstyle\s*=|<style\b/i);
    // Data is rendered as text: the module never hands strings to an HTML parser.
    assert.doesNotMatch(
      CONSOLE_ASSET_FILES['app.js'] ?? '',
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
    );
  });
});

describe('console in Chromium', () => {
  test('token prompt, stream health, live tail, test, dead letters, network errors and 401', {
    skip: SKIP_BROWSER ? 'FLOWSTREAM_SKIP_BROWSER=1' : false,
    timeout: 120_000,
  }, async (t) => {
    if (!existsSync(CHROMIUM)) {
      assert.fail(
        `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` ` +
          '(or set FLOWSTREAM_SKIP_BROWSER=1 to skip the browser test).',
      );
    }
    const settings = (p: string) => ({ url: `${receiver.url}${p}`, format: 'ndjson' });
    const delivery = {
      batchMaxEvents: 50,
      batchTimeoutMillis: 20,
      retryInitialMillis: 200,
      retryMaxMillis: 1000,
    };
    for (const stream of [
      { id: 'receiver', name: 'Receiver', settings: settings('/ok') },
      {
        id: 'refuser',
        name: 'Refusing SIEM',
        settings: { ...settings('/refuse'), headers: { Authorization: SECRET_HEADER } },
      },
      { id: 'locked', name: 'Locked SIEM', settings: settings('/locked') },
      { id: 'xss', name: XSS_NAME, settings: settings('/ok'), status: 'INACTIVE' },
    ]) {
      const created = await callApi(server, 'POST', '/api/v1/logStreams', {
        type: 'webhook',
        delivery,
        ...stream,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
    }

    const profile = mkdtempSync(path.join(dir, 'chromium-'));
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    try {
      const page: Page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('console', (message) => {
        // A 401 or an aborted request is logged by the browser itself; CSP violations and script
        // errors are what must not happen.
        if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
          problems.push(`console: ${message.text()}`);
        }
      });

      await page.goto(`${server.url}/console`);
      const overlay = page.locator('#token-overlay');
      await overlay.waitFor({ state: 'visible' });

      // A wrong token: the API answers 401 and the console asks again, saying why.
      await page.fill('#token-input', 'wrong-token-0123456789abcdef');
      await page.press('#token-input', 'Enter');
      await eventually(async () =>
        assert.match(await text(page.locator('#token-reason')), /401 FS_UNAUTHENTICATED/),
      );
      assert.ok(await overlay.isVisible());

      await page.fill('#token-input', TOKEN);
      await page.click('#token-form button[type="submit"]');
      await overlay.waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate('sessionStorage.getItem("flowstream.console.token")'), TOKEN);

      const row = (id: string) => page.locator(`#streams-body tr[data-stream-id="${id}"]`);
      await eventually(async () => {
        assert.equal(await text(row('receiver').locator('.badge.health')), 'ACTIVE');
        assert.equal(await text(row('xss').locator('.badge.health')), 'INACTIVE');
      });

      // Events posted through the API show up in the live tail, newest first.
      const events = Array.from({ length: 7 }, (_, i) =>
        sampleEvent(i + 1, 'ORG_A', {
          idempotency_key: randomUUID(),
          flow_name: i === 6 ? XSS_FLOW : `Console flow ${i + 1}`,
          timestamp: new Date(Date.now() + i).toISOString(),
        }),
      );
      const posted = await callApi(server, 'POST', '/api/v1/events', events);
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      const tailRows = page.locator('#events-body tr');
      await eventually(async () => assert.equal(await tailRows.count(), 7));
      assert.deepEqual(
        await tailRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-type'))),
        [
          'FLOW_THROTTLE',
          'FLOW_RATE_LIMIT',
          'FLOW_PAUSE',
          'FLOW_CANCEL',
          'FLOW_FAIL',
          'FLOW_COMPLETE',
          'FLOW_START',
        ],
      );
      assert.equal(await text(tailRows.nth(6).locator('td').nth(2)), 'Console flow 1');
      assert.equal(
        await text(tailRows.nth(6).locator('td').nth(3)),
        String((events[0] as { execution_id: string }).execution_id),
      );

      // Data is shown as text, never run: the stream name and the flow name are literal.
      assert.equal(await text(tailRows.first().locator('td').nth(2)), XSS_FLOW);
      assert.equal(await text(row('xss').locator('button[data-action="open"]')), XSS_NAME);
      assert.equal(await page.locator('main img, main script').count(), 0);
      assert.equal(await page.evaluate('window.__pwned'), undefined);

      // Health: delivered counts, dead letters of the refusing SIEM, the 401 of the locked one.
      await eventually(async () => {
        assert.equal(await text(row('receiver').locator('[data-field="deliveredTotal"]')), '7');
        assert.equal(await text(row('refuser').locator('[data-field="deadLetteredTotal"]')), '7');
        assert.equal(await text(row('locked').locator('.badge.health')), 'DEGRADED');
        assert.match(await text(row('locked').locator('[data-field="lastError"]')), /HTTP 401/);
      });

      // "Test" shows the destination's answer.
      await row('receiver').locator('button[data-action="test"]').click();
      await eventually(async () =>
        assert.match(
          await text(page.locator('#streams-notice')),
          /^Test of Receiver: delivered — \d+ bytes$/,
        ),
      );
      await row('refuser').locator('button[data-action="test"]').click();
      await eventually(async () =>
        assert.match(
          await text(page.locator('#streams-notice')),
          /^Test of Refusing SIEM: rejected — HTTP 400: .*schema mismatch at field duration/,
        ),
      );

      // Deactivate and activate from the table.
      const lifecycle = row('receiver').locator('button[data-action="lifecycle"]');
      assert.equal(await text(lifecycle), 'Deactivate');
      await lifecycle.click();
      await eventually(async () =>
        assert.equal(await text(row('receiver').locator('.badge.health')), 'INACTIVE'),
      );
      assert.equal(await text(lifecycle), 'Activate');
      await lifecycle.click();
      await eventually(async () =>
        assert.equal(await text(row('receiver').locator('.badge.health')), 'ACTIVE'),
      );

      // The live tail's filter asks the server for one event type.
      await page.selectOption('#event-type', 'FLOW_COMPLETE');
      await eventually(async () => {
        assert.deepEqual(
          await tailRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-type'))),
          ['FLOW_COMPLETE'],
        );
      });
      await page.selectOption('#event-type', '');
      await eventually(async () => assert.equal(await tailRows.count(), 7));

      // Detail: redacted settings and dead letters, redelivered once the SIEM accepts them.
      await row('refuser').locator('button[data-action="open"]').click();
      const detail = page.locator('#detail');
      await detail.waitFor({ state: 'visible' });
      await eventually(async () => {
        assert.match(await text(page.locator('#detail-settings')), /"Authorization": "\*{8}"/);
        assert.equal(await page.locator('#dead-letters-body tr').count(), 7);
      });
      assert.ok(!(await page.content()).includes(SECRET_HEADER), 'a secret reached the page');
      assert.match(await text(page.locator('#dead-letters-body tr').first()), /HTTP 400: /);

      await page.screenshot({ path: path.join(dir, 'console.png'), fullPage: true });
      const keep = process.env.FLOWSTREAM_CONSOLE_SCREENSHOT;
      if (keep !== undefined) await page.screenshot({ path: keep, fullPage: true });
      assert.ok(statSync(path.join(dir, 'console.png')).size > 10_000);
      t.diagnostic(`screenshot: ${keep ?? path.join(dir, 'console.png')}`);

      receiver.accepting = true;
      await page.locator('#dead-letters-body tr').first().locator('button').click();
      await eventually(async () =>
        assert.equal(await text(page.locator('#dead-letters-notice')), 'Redelivered 1 of 1.'),
      );
      await eventually(async () => assert.equal(await page.locator('#dead-letters-body tr').count(), 6));
      await page.click('#redeliver-all');
      await eventually(async () =>
        assert.equal(await text(page.locator('#dead-letters-notice')), 'Redelivered 6 of 6.'),
      );
      await page.locator('#dead-letters-empty').waitFor({ state: 'visible' });
      await page.click('#detail-close');
      await detail.waitFor({ state: 'hidden' });

      // A network failure is shown and retried; the banner goes once the API answers again.
      await page.route('**/api/v1/logStreams**', (route) => route.abort('internetdisconnected'));
      const banner = page.locator('#banner');
      await eventually(async () =>
        assert.match(await text(banner), /Cannot reach flowstream .*Retrying in \d+ s\./),
      );
      assert.equal(await page.getAttribute('#connection', 'data-state'), 'error');
      await page.unroute('**/api/v1/logStreams**');
      await banner.waitFor({ state: 'hidden' });
      assert.equal(await page.getAttribute('#connection', 'data-state'), 'live');

      // A token revoked while the console runs: the next call's 401 brings the prompt back.
      const created = await callApi(server, 'POST', '/api/v1/tokens', {
        name: 'viewer',
        scopes: ['streams:read'],
      });
      assert.equal(created.status, 201);
      const viewer = created.body as { id: string; token: string };
      await page.click('#forget-token');
      await overlay.waitFor({ state: 'visible' });
      await page.fill('#token-input', viewer.token);
      await page.press('#token-input', 'Enter');
      await overlay.waitFor({ state: 'hidden' });
      await eventually(async () =>
        assert.equal(await text(row('receiver').locator('.badge.health')), 'ACTIVE'),
      );
      assert.equal((await callApi(server, 'DELETE', `/api/v1/tokens/${viewer.id}`)).status, 204);
      await overlay.waitFor({ state: 'visible' });
      assert.match(
        await text(page.locator('#token-reason')),
        /flowstream refused the token: 401 FS_UNAUTHENTICATED/,
      );
      assert.equal(await page.evaluate('sessionStorage.getItem("flowstream.console.token")'), null);

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
