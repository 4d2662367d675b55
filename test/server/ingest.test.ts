import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SEED_EXAMPLES } from '../helpers/outbound-events.js';
import {
  OPERATOR_TOKEN,
  ORG_A_READER,
  ORG_A_WRITER,
  sampleEvent,
  startTestApp,
  type TestApp,
} from './helpers/test-app.js';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => {
  await t.close();
});

function post(body: string | Buffer, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json', ...headers },
    payload: body,
  });
}

function assertOktaError(
  response: { statusCode: number; json: () => unknown },
  status: number,
  code: string,
): void {
  assert.equal(response.statusCode, status);
  const body = response.json() as { errorCode: string; errorSummary: string; errorCauses: unknown[] };
  assert.equal(body.errorCode, code);
  assert.equal(typeof body.errorSummary, 'string');
  assert.ok(Array.isArray(body.errorCauses));
}

describe('POST /api/v1/events', () => {
  test('accepts each of the seed examples as Okta Workflows sends them (one object per request)', async () => {
    const before = t.log.lastSeq();
    for (const text of SEED_EXAMPLES) {
      const response = await post(text);
      assert.equal(response.statusCode, 202, response.body);
      assert.deepEqual(response.json(), { accepted: 1, duplicates: 0, rejected: [] });
    }
    assert.equal(t.log.lastSeq(), before + 4);
    const stored = await t.log.readAfter(before, 10);
    assert.deepEqual(
      stored.map((e) => e.eventType),
      ['FLOW_START', 'FLOW_COMPLETE', 'FLOW_START', 'FLOW_COMPLETE'],
    );
    assert.deepEqual(JSON.parse(stored[0]!.json), JSON.parse(SEED_EXAMPLES[0]!));
  });

  test('a JSON array: valid events stored, invalid ones rejected by index, duplicates counted', async () => {
    const first = sampleEvent(1001);
    const body = [first, { ...sampleEvent(1002), duration: 'abc', event_type: 'FLOW_COMPLETE' }, first, 42];
    const response = await post(JSON.stringify(body));
    assert.equal(response.statusCode, 202);
    const answer = response.json() as {
      accepted: number;
      duplicates: number;
      rejected: { index: number; errors: { path: string }[] }[];
    };
    assert.equal(answer.accepted, 1);
    assert.equal(answer.duplicates, 1);
    assert.deepEqual(
      answer.rejected.map((r) => r.index),
      [1, 3],
    );
    assert.ok(answer.rejected[0]!.errors.some((e) => e.path === '/duration'));
    const again = await post(JSON.stringify(first));
    assert.deepEqual(again.json(), { accepted: 0, duplicates: 1, rejected: [] });
  });

  test('NDJSON: a broken line rejects only itself; index is the 0-based line, blank lines count', async () => {
    const lines = [JSON.stringify(sampleEvent(2001)), '{"broken', '', JSON.stringify(sampleEvent(2002))];
    const response = await post(`${lines.join('\n')}\n`, { 'content-type': 'application/x-ndjson' });
    assert.equal(response.statusCode, 202);
    const answer = response.json() as {
      accepted: number;
      rejected: { index: number; errors: { code: string }[] }[];
    };
    assert.equal(answer.accepted, 2);
    assert.deepEqual(
      answer.rejected.map((r) => [r.index, r.errors[0]?.code]),
      [[1, 'FS_INVALID_JSON']],
    );
  });

  test('gzip bodies are accepted', async () => {
    const body = gzipSync(JSON.stringify([sampleEvent(3001), sampleEvent(3002)]));
    const response = await post(body, { 'content-encoding': 'gzip' });
    assert.equal(response.statusCode, 202);
    assert.equal((response.json() as { accepted: number }).accepted, 2);
  });

  test('400 with the same body shape when no event is valid; nothing stored', async () => {
    const before = t.log.lastSeq();
    const response = await post(JSON.stringify([{ event_type: 'NOPE' }, {}]));
    assertOktaError(response, 400, 'FS_NO_VALID_EVENTS');
    const body = response.json() as { accepted: number; duplicates: number; rejected: { index: number }[] };
    assert.equal(body.accepted, 0);
    assert.equal(body.duplicates, 0);
    assert.deepEqual(
      body.rejected.map((r) => r.index),
      [0, 1],
    );
    assert.equal(t.log.lastSeq(), before);
  });

  test('authentication and authorization', async () => {
    const event = JSON.stringify(sampleEvent(4001, 'ORG_A'));
    assertOktaError(await post(event, { authorization: '' }), 401, 'FS_UNAUTHENTICATED');
    assertOktaError(
      await post(event, { authorization: 'Bearer wrong-token-000000000' }),
      401,
      'FS_UNAUTHENTICATED',
    );
    assertOktaError(
      await post(event, { authorization: `Basic ${OPERATOR_TOKEN}` }),
      401,
      'FS_UNAUTHENTICATED',
    );
    assertOktaError(
      await post(event, { authorization: `Bearer ${ORG_A_READER}` }),
      403,
      'FS_FORBIDDEN_SCOPE',
    );
    assert.equal((await post(event, { authorization: `SSWS ${ORG_A_WRITER}` })).statusCode, 202);
  });

  test('an event of another org refuses the whole request: nothing is half-stored', async () => {
    const before = t.log.lastSeq();
    const body = JSON.stringify([sampleEvent(5001, 'ORG_A'), sampleEvent(5002, 'ORG_B')]);
    const response = await post(body, { authorization: `Bearer ${ORG_A_WRITER}` });
    assertOktaError(response, 403, 'FS_FORBIDDEN_ORG');
    assert.equal(t.log.lastSeq(), before);
  });

  const hostile: [string, () => ReturnType<typeof post>, number, string][] = [
    ['broken JSON', () => post('{"event_type": '), 400, 'FS_INVALID_JSON'],
    [
      'deeply nested arrays',
      () => post(`${'['.repeat(200_000)}${']'.repeat(200_000)}`),
      400,
      'FS_NO_VALID_EVENTS',
    ],
    [
      'a deeply nested field',
      () => post(`{"event_type":"FLOW_START","x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`),
      400,
      'FS_NO_VALID_EVENTS',
    ],
    ['binary garbage', () => post(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81])), 400, 'FS_INVALID_JSON'],
    ['an empty body', () => post(''), 400, 'FS_EMPTY_BODY'],
    [
      'whitespace NDJSON',
      () => post('\n\n  \n', { 'content-type': 'application/x-ndjson' }),
      400,
      'FS_EMPTY_BODY',
    ],
    ['text/plain', () => post('{}', { 'content-type': 'text/plain' }), 415, 'FS_UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', () => post('{}', { 'content-type': '' }), 415, 'FS_UNSUPPORTED_MEDIA_TYPE'],
    [
      'latin-1 charset',
      () => post('{}', { 'content-type': 'application/json; charset=iso-8859-1' }),
      415,
      'FS_UNSUPPORTED_MEDIA_TYPE',
    ],
    ['brotli encoding', () => post('{}', { 'content-encoding': 'br' }), 415, 'FS_UNSUPPORTED_MEDIA_TYPE'],
    [
      'gzip that is not gzip',
      () => post('not gzip at all', { 'content-encoding': 'gzip' }),
      400,
      'FS_BAD_ENCODING',
    ],
    [
      'an oversized body',
      () => post(JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })),
      413,
      'FS_PAYLOAD_TOO_LARGE',
    ],
    [
      'a gzip bomb (1 GiB of zeros compressed to ~1 MiB)',
      () => post(gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }), { 'content-encoding': 'gzip' }),
      413,
      'FS_PAYLOAD_TOO_LARGE',
    ],
    ['a bare string', () => post('"FLOW_START"'), 400, 'FS_NO_VALID_EVENTS'],
    [
      '__proto__ keys',
      () => post(`{"__proto__": {"polluted": true}, "event_type": "FLOW_START"}`),
      400,
      'FS_NO_VALID_EVENTS',
    ],
  ];
  for (const [name, send, status, code] of hostile) {
    test(`hostile input: ${name} → ${status} ${code}, and the server stays up`, async () => {
      assertOktaError(await send(), status, code);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  }

  test('503 with Retry-After while shutting down', async () => {
    t.shuttingDown = true;
    try {
      const response = await post(JSON.stringify(sampleEvent(6001)));
      assertOktaError(response, 503, 'FS_SHUTTING_DOWN');
      assert.ok(Number(response.headers['retry-after']) > 0);
      assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    } finally {
      t.shuttingDown = false;
    }
  });
});

describe('storage limit', () => {
  test('503 + Retry-After when the log is over storage.maxBytes, nothing stored', async () => {
    const small = await startTestApp({ maxBytes: 4096 });
    try {
      const events = Array.from({ length: 10 }, (_, i) => sampleEvent(7000 + i));
      const response = await small.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify(events),
      });
      assertOktaError(response, 503, 'FS_STORAGE_FULL');
      assert.ok(response.headers['retry-after']);
      assert.equal(small.log.lastSeq(), 0);
    } finally {
      await small.close();
    }
  });
});

describe('GET /api/v1/events (tail)', () => {
  test('an org token reads only its org; after=-N gives the last N; long poll wakes on append', async () => {
    await post(JSON.stringify([sampleEvent(8001, 'ORG_A'), sampleEvent(8002, 'ORG_B')]));
    const read = await t.app.inject({
      method: 'GET',
      url: '/api/v1/events?after=-2',
      headers: { authorization: `Bearer ${ORG_A_READER}` },
    });
    assert.equal(read.statusCode, 200);
    const page = read.json() as { events: { event: { org_id: string } }[]; next: number };
    assert.deepEqual(
      page.events.map((e) => e.event.org_id),
      ['ORG_A'],
    );
    const waiting = t.app.inject({
      method: 'GET',
      url: `/api/v1/events?after=${page.next}&waitMillis=5000`,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    setTimeout(() => void post(JSON.stringify(sampleEvent(8003, 'ORG_A'))), 100);
    const woke = (await waiting).json() as { events: { event: { idempotency_key: string } }[] };
    assert.equal(woke.events.length, 1);
    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/v1/events?limit=abc',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    assertOktaError(bad, 400, 'FS_VALIDATION');
  });
});
