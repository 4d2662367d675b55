import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { CliError } from '../../src/cli/cli-error.js';
import { type DemoCommandOptions, demoCommand, runDemo } from '../../src/cli/demo.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { SAMPLE_ORG } from '../../src/runtime/sample-org.js';
import { EVENT_TYPES } from '../../src/schema/event-types.js';
import { validateEvent } from '../../src/schema/validate.js';
import { type Service, startService } from '../../src/server/service.js';

class Collector extends Writable {
  text = '';
  override _write(chunk: unknown, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += String(chunk);
    done();
  }
}

async function run(options: DemoCommandOptions, env: Record<string, string> = {}, signal?: AbortSignal) {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await runDemo(options, { stdout, stderr, env, ...(signal ? { signal } : {}) });
  return { code, out: stdout.text, err: stderr.text };
}

interface Receiver {
  readonly url: string;
  readonly received: unknown[];
  readonly authorizations: Set<string | undefined>;
  close(): Promise<void>;
}

/** A tiny ingest stand-in: answers every POST /api/v1/events per `answer`. */
async function startReceiver(
  answer: (events: unknown[]) => { status: number; body: unknown },
): Promise<Receiver> {
  const received: unknown[] = [];
  const authorizations = new Set<string | undefined>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[];
      received.push(...events);
      authorizations.add(req.headers.authorization);
      const { status, body } = answer(events);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('flowstream demo against flowstream itself', () => {
  const TOKEN = 'demo-writer-token-0123456789';
  let dir: string;
  let service: Service;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fs-demo-'));
    const config = resolveConfig({
      server: { host: '127.0.0.1', port: 0 },
      storage: { path: dir },
      auth: { tokens: [{ name: 'demo', token: TOKEN, org: SAMPLE_ORG.id, scopes: ['events:write'] }] },
    });
    service = await startService({ config, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('stores every event the demo sends: all seven types, strict-valid, and prints the summary', async () => {
    const result = await run({ url: service.url, rate: '5', duration: '4' }, { FLOWSTREAM_TOKEN: TOKEN });
    assert.equal(result.code, 0, result.err);
    assert.equal(result.err, '');
    const stored = await service.log.readAfter(0, 100_000);
    assert.deepEqual(new Set(stored.map((e) => e.eventType)), new Set(EVENT_TYPES));
    for (const e of stored) {
      const event = JSON.parse(e.json) as unknown;
      assert.equal(validateEvent(event, 'strict').ok, true, e.json);
      assert.equal(e.orgId, SAMPLE_ORG.id);
    }
    const accepted = /sink: (\d+) accepted, (\d+) duplicates, 0 rejected, 0 dropped, 0 failed/.exec(
      result.out,
    );
    assert.ok(accepted, result.out);
    assert.equal(Number(accepted[1]) + Number(accepted[2]), stored.length);
    for (const type of EVENT_TYPES) assert.match(result.out, new RegExp(`  ${type} +[1-9]\\d*\\n`));
    assert.match(
      result.out,
      /^flowstream demo: org acme-demo sending to http:\/\/127\.0\.0\.1:\d+; 5 executions\/s/,
    );
  });

  test('a token without the org is refused: one sentence, exit 2, and the demo stops early', async () => {
    const started = Date.now();
    await assert.rejects(
      run({ url: service.url, token: 'not-a-token', duration: '60' }),
      (err: unknown) =>
        err instanceof CliError && err.exitCode === 2 && /refused the token \(HTTP 401\)/.test(err.message),
    );
    assert.ok(Date.now() - started < 50_000, 'stopped at the refusal, not after --duration');
  });
});

describe('flowstream demo against a tiny receiver', () => {
  test('events the receiver rejects: exit 1, counted in the summary', async () => {
    const receiver = await startReceiver((events) => ({
      status: 202,
      body: {
        accepted: events.length - 1,
        duplicates: 0,
        rejected: [{ index: 0, errors: [{ path: '/duration', code: 'FS_TYPE', message: 'no' }] }],
      },
    }));
    try {
      const result = await run({ url: receiver.url, token: 't', duration: '1.5', rate: '0' });
      assert.equal(result.code, 1);
      assert.match(result.out, /sink: \d+ accepted, 0 duplicates, [1-9]\d* rejected/);
      assert.match(result.err, /events rejected/);
      assert.ok(receiver.received.length > 0);
    } finally {
      await receiver.close();
    }
  });

  test('the commander command: options, env, and a stop signal instead of --duration', async () => {
    const receiver = await startReceiver((events) => ({
      status: 202,
      body: { accepted: events.length, duplicates: 0, rejected: [] },
    }));
    const stdout = new Collector();
    const stderr = new Collector();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1500);
    try {
      await demoCommand({
        stdout,
        stderr,
        env: { FLOWSTREAM_URL: receiver.url, FLOWSTREAM_TOKEN: 'x' },
        signal: stop.signal,
      })
        .exitOverride()
        .parseAsync(['--rate', '3'], { from: 'user' });
      assert.match(stdout.text, /\(Ctrl-C to stop\)/);
      assert.match(stdout.text, /events by type:/);
      assert.equal(stderr.text, '');
      assert.ok(receiver.received.length > 0);
      assert.deepEqual([...receiver.authorizations], ['Bearer x']);
    } finally {
      await receiver.close();
    }
  });

  test('usage and connection errors are one sentence', async () => {
    const cases: [DemoCommandOptions, Record<string, string>, RegExp][] = [
      [{ url: 'http://127.0.0.1:9' }, {}, /^no token: pass --token or set FLOWSTREAM_TOKEN/],
      [{ url: 'ftp://x', token: 't' }, {}, /must be an http:\/\/ or https:\/\/ URL/],
      [{ url: 'not a url', token: 't' }, {}, /is not a URL/],
      [{ token: 't', rate: 'fast' }, {}, /--rate "fast" must be a number/],
      [{ token: 't', duration: '0' }, {}, /--duration "0" must be a number/],
      [
        {},
        { FLOWSTREAM_TOKEN: 't', FLOWSTREAM_URL: 'http://127.0.0.1:9' },
        /cannot reach flowstream at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
      ],
    ];
    for (const [options, env, message] of cases) {
      await assert.rejects(run(options, env), (err: unknown) => {
        assert.ok(err instanceof CliError, String(err));
        assert.match(err.message, message);
        assert.equal(err.message.includes('\n'), false);
        return true;
      });
    }
  });
});
