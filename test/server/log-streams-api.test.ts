import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CLEARTEXT_HTTP,
  CLEARTEXT_SYSLOG,
  securityWarnings,
  TLS_OFF,
} from '../../src/server/security-warnings.js';
import { bearer, startTestService, type TestService, TOKENS } from './helpers/service.js';

let t: TestService;
let fileDir: string;

before(async () => {
  t = await startTestService({ allowPrivateNetworks: true });
  fileDir = mkdtempSync(path.join(tmpdir(), 'fs-file-dest-'));
});
after(async () => {
  await t.close();
  rmSync(fileDir, { recursive: true, force: true });
});

function inject(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  url: string,
  token: string,
  payload?: unknown,
) {
  return t.service.app.inject({
    method,
    url,
    headers: bearer(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

function webhook(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `hook ${id}`,
    type: 'webhook',
    status: 'INACTIVE',
    settings: { url: 'https://siem.example/in' },
    ...extra,
  };
}

interface ErrorBody {
  errorCode: string;
  errorSummary: string;
  errorCauses: { errorSummary: string }[];
}

describe('validation names the field', () => {
  test('settings of the type, the type itself, unknown fields', async () => {
    const missing = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, {
      name: 'x',
      type: 'webhook',
      settings: {},
    });
    assert.equal(missing.statusCode, 400);
    const m = missing.json() as ErrorBody;
    assert.equal(m.errorCode, 'FS_STREAM_INVALID');
    assert.deepEqual(m.errorCauses, [{ errorSummary: '/settings/url: settings.url is required' }]);

    const unknown = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, {
      name: 'x',
      type: 'splunk_hec',
      settings: { url: 'https://s.example:8088', token: 't', indx: 'main' },
    });
    assert.match(
      (unknown.json() as ErrorBody).errorCauses[0]?.errorSummary ?? '',
      /settings\.indx is not a known setting of splunk_hec/,
    );

    const type = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, {
      name: 'x',
      type: 'carrier-pigeon',
      settings: {},
    });
    assert.deepEqual((type.json() as ErrorBody).errorCauses, [
      { errorSummary: '/type: type "carrier-pigeon" is not a known destination type' },
    ]);

    const extra = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, { ...webhook('e'), colour: 'red' });
    assert.match(
      (extra.json() as ErrorBody).errorCauses[0]?.errorSummary ?? '',
      /colour is not a known field/,
    );

    const query = await inject('GET', '/api/v1/logStreams?limit=0&colour=red', TOKENS.orgA);
    assert.equal(query.statusCode, 400);
    const q = query.json() as ErrorBody;
    assert.equal(q.errorCode, 'FS_VALIDATION');
    assert.deepEqual(q.errorCauses.map((c) => c.errorSummary).sort(), [
      'querystring.colour is not a known field',
      'querystring.limit must be >= 1',
    ]);

    const token = await inject('POST', '/api/v1/tokens', TOKENS.orgA, { scopes: ['streams:admin'] });
    assert.deepEqual((token.json() as ErrorBody).errorCauses, [
      { errorSummary: 'body.scopes.0 must be one of: events:write, streams:read, streams:write' },
    ]);
  });

  test('an existing id is 409; a method the path does not have is 405 with Allow', async () => {
    assert.equal((await inject('POST', '/api/v1/logStreams', TOKENS.orgA, webhook('dup'))).statusCode, 200);
    const again = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, webhook('dup'));
    assert.equal(again.statusCode, 409);
    assert.equal((again.json() as ErrorBody).errorCode, 'FS_STREAM_EXISTS');
    const patch = await inject('PATCH', '/api/v1/logStreams/dup', TOKENS.orgA, {});
    assert.equal(patch.statusCode, 405);
    assert.equal((patch.json() as ErrorBody).errorCode, 'FS_METHOD_NOT_ALLOWED');
    assert.equal(patch.headers.allow, 'DELETE, GET, HEAD, PUT');
    assert.equal((await inject('GET', '/api/v1/nothing', TOKENS.orgA)).statusCode, 404);
    await t.service.streams.delete('dup');
  });
});

describe('lists: filter and paging as Okta', () => {
  test('filter by type and status; limit/after with a next link that walks every page', async () => {
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      const body = webhook(id, id === 'p2' ? { status: 'ACTIVE' } : {});
      assert.equal((await inject('POST', '/api/v1/logStreams', TOKENS.orgA, body)).statusCode, 200);
    }
    const hec = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, {
      id: 'p6',
      name: 'hec',
      type: 'splunk_hec',
      status: 'INACTIVE',
      settings: { url: 'https://s.example:8088', token: 't' },
    });
    assert.equal(hec.statusCode, 200);
    const ids = (r: { json: () => unknown }) => (r.json() as { id: string }[]).map((s) => s.id);
    const filter = (f: string) =>
      inject('GET', `/api/v1/logStreams?filter=${encodeURIComponent(f)}`, TOKENS.orgA);
    assert.deepEqual(ids(await filter('type eq "splunk_hec"')), ['p6']);
    assert.deepEqual(ids(await filter('status eq "ACTIVE"')), ['p2']);
    assert.deepEqual(ids(await filter('type eq "webhook" and status eq "INACTIVE"')), [
      'p1',
      'p3',
      'p4',
      'p5',
    ]);
    const bad = await filter('type ne "webhook"');
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as ErrorBody).errorCode, 'FS_VALIDATION');

    const seen: string[] = [];
    let url: string | undefined = '/api/v1/logStreams?limit=2';
    let pages = 0;
    while (url !== undefined) {
      const page = await inject('GET', url, TOKENS.orgA);
      assert.equal(page.statusCode, 200);
      seen.push(...ids(page));
      pages++;
      const link = page.headers.link as string | undefined;
      url =
        link === undefined
          ? undefined
          : new URL(/<([^>]+)>; rel="next"/.exec(link)![1]!).pathname +
            new URL(/<([^>]+)>/.exec(link)![1]!).search;
    }
    assert.deepEqual(seen, ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    assert.equal(pages, 3);
    // Org B sees none of them, filter or not.
    assert.deepEqual(
      ids(await inject('GET', '/api/v1/logStreams?filter=type%20eq%20%22webhook%22', TOKENS.orgB)),
      [],
    );
  });

  test('a stream object: created, lastUpdated, _links; PUT moves lastUpdated only', async () => {
    const first = (await inject('GET', '/api/v1/logStreams/p1', TOKENS.orgA)).json() as Record<
      string,
      unknown
    > & {
      created: string;
      lastUpdated: string;
      _links: Record<string, { href: string; method: string }>;
    };
    assert.equal(first.org, 'ORG_A', 'the org defaults to the token org');
    assert.ok(first._links.self?.href.endsWith('/api/v1/logStreams/p1'));
    assert.equal(first._links.activate?.method, 'POST');
    assert.ok(first._links.health?.href.endsWith('/api/v1/logStreams/p1/health'));
    await new Promise((r) => setTimeout(r, 5));
    const put = await inject('PUT', '/api/v1/logStreams/p1', TOKENS.orgA, { ...first, name: 'renamed' });
    assert.equal(put.statusCode, 200, put.body);
    const second = put.json() as { created: string; lastUpdated: string; name: string };
    assert.equal(second.name, 'renamed');
    assert.equal(second.created, first.created);
    assert.ok(Date.parse(second.lastUpdated) > Date.parse(first.lastUpdated));
  });
});

describe('tenancy of the admin API', () => {
  test('an org token cannot create host-local streams (file, stdout) nor streams of another org', async () => {
    for (const body of [
      { name: 'f', type: 'file', settings: { path: path.join(fileDir, 'a.ndjson') } },
      { name: 's', type: 'stdout', settings: {} },
    ]) {
      const response = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, body);
      assert.equal(response.statusCode, 403);
      assert.equal((response.json() as ErrorBody).errorCode, 'FS_FORBIDDEN_DESTINATION_TYPE');
    }
    const operator = await inject('POST', '/api/v1/logStreams', TOKENS.operator, {
      id: 'file-a',
      name: 'f',
      type: 'file',
      org: 'ORG_A',
      status: 'INACTIVE',
      settings: { path: path.join(fileDir, 'a.ndjson') },
    });
    assert.equal(operator.statusCode, 200, operator.body);
    // Org A may read and deactivate it, but not repoint it.
    assert.equal((await inject('GET', '/api/v1/logStreams/file-a', TOKENS.orgA)).statusCode, 200);
    const repoint = await inject('PUT', '/api/v1/logStreams/file-a', TOKENS.orgA, {
      name: 'f',
      type: 'file',
      settings: { path: '/etc/passwd' },
    });
    assert.equal(repoint.statusCode, 403);
    const other = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, { ...webhook('x'), org: 'ORG_B' });
    assert.equal(other.statusCode, 403);
    assert.equal((other.json() as ErrorBody).errorCode, 'FS_FORBIDDEN_ORG');
    const star = await inject('POST', '/api/v1/logStreams', TOKENS.orgA, { ...webhook('x'), org: '*' });
    assert.equal(star.statusCode, 403);
    // Moving one's own stream to another org is refused too.
    const move = await inject('PUT', '/api/v1/logStreams/p3', TOKENS.orgA, {
      ...webhook('p3'),
      org: 'ORG_B',
    });
    assert.equal(move.statusCode, 403);
    assert.equal(t.service.streams.get('p3')?.org, 'ORG_A');
  });

  test('a token cannot mint a stronger one', async () => {
    const reader = await inject('POST', '/api/v1/tokens', TOKENS.orgA, { scopes: ['streams:read'] });
    assert.equal(reader.statusCode, 201);
    const readerToken = (reader.json() as { token: string; org: string }).token;
    assert.equal((reader.json() as { org: string }).org, 'ORG_A');
    const escalate = await inject('POST', '/api/v1/tokens', TOKENS.orgA, {
      org: '*',
      scopes: ['streams:read'],
    });
    assert.equal(escalate.statusCode, 403);
    assert.equal((escalate.json() as ErrorBody).errorCode, 'FS_FORBIDDEN_ORG');
    const writer = await inject('POST', '/api/v1/tokens', TOKENS.orgAIngest, { scopes: ['events:write'] });
    assert.equal(writer.statusCode, 403, 'tokens need streams:write to mint');
    const more = await inject('POST', '/api/v1/tokens', readerToken, {
      scopes: ['streams:read', 'streams:write'],
    });
    assert.equal(more.statusCode, 403);
  });
});

describe('health warnings', () => {
  test('cleartext HTTP is flagged on health; https is not', async () => {
    await inject(
      'POST',
      '/api/v1/logStreams',
      TOKENS.orgA,
      webhook('plain', { settings: { url: 'http://siem.example/in' } }),
    );
    const plain = (await inject('GET', '/api/v1/logStreams/plain/health', TOKENS.orgA)).json() as {
      warnings: string[];
    };
    assert.deepEqual(plain.warnings, [CLEARTEXT_HTTP]);
    const tls = (await inject('GET', '/api/v1/logStreams/p4/health', TOKENS.orgA)).json() as {
      warnings: string[];
    };
    assert.deepEqual(tls.warnings, []);
  });

  test('TLS verification off is flagged whatever the type calls it', () => {
    assert.deepEqual(
      securityWarnings({
        type: 'syslog',
        settings: { transport: 'tls', tls: { rejectUnauthorized: false } },
      }),
      [TLS_OFF],
    );
    assert.deepEqual(
      securityWarnings({ type: 'webhook', settings: { url: 'https://x', tlsInsecureSkipVerify: true } }),
      [TLS_OFF],
    );
    assert.deepEqual(securityWarnings({ type: 'syslog', settings: { transport: 'udp' } }), [
      CLEARTEXT_SYSLOG,
    ]);
    assert.deepEqual(
      securityWarnings({
        type: 'nats',
        settings: { servers: ['tls://n:4222'], tls: { rejectUnauthorized: true } },
      }),
      [],
    );
  });
});

describe('audit trail', () => {
  test('records who, what and which fields; an org reads its own, the operator all; never values', async () => {
    const before = (await inject('GET', '/api/v1/audit?limit=1000', TOKENS.operator)).json() as {
      id: number;
    }[];
    const afterId = before.at(-1)?.id ?? 0;
    const body = webhook('audited', {
      settings: { url: 'https://siem.example/in', headers: { Authorization: 'Bearer audit-secret-1' } },
    });
    await inject('POST', '/api/v1/logStreams', TOKENS.orgA, body);
    await inject('PUT', '/api/v1/logStreams/audited', TOKENS.operator, {
      ...body,
      settings: { url: 'https://siem2.example/in', headers: { Authorization: 'Bearer audit-secret-2' } },
    });
    await inject('POST', '/api/v1/logStreams/audited/lifecycle/deactivate', TOKENS.orgA);
    await inject('POST', '/api/v1/logStreams/audited/replay', TOKENS.orgA, { from: '2020-01-01T00:00:00Z' });
    await inject('POST', '/api/v1/logStreams/audited/deadLetters/redeliver', TOKENS.orgA);
    const token = (
      await inject('POST', '/api/v1/tokens', TOKENS.orgA, { name: 'temp', scopes: ['streams:read'] })
    ).json() as { id: string };
    await inject('DELETE', `/api/v1/tokens/${token.id}`, TOKENS.orgA);
    await inject('DELETE', '/api/v1/logStreams/audited', TOKENS.orgA);

    const response = await inject('GET', `/api/v1/audit?after=${afterId}&limit=100`, TOKENS.orgA);
    assert.equal(response.statusCode, 200);
    assert.ok(!response.body.includes('audit-secret'), 'no secret value in the trail');
    const records = response.json() as {
      action: string;
      actor: { tokenId: string; name: string; org: string };
      org: string;
      target: { type: string; id: string };
      changes: string[];
      details: Record<string, unknown>;
    }[];
    assert.deepEqual(
      records.map((r) => r.action),
      [
        'logStream.create',
        'logStream.update',
        'logStream.deactivate',
        'logStream.replay',
        'logStream.deadLetters.redeliver',
        'token.create',
        'token.revoke',
        'logStream.delete',
      ],
    );
    assert.deepEqual(records[0]?.actor, { tokenId: 'static:a-admin', name: 'a-admin', org: 'ORG_A' });
    assert.deepEqual(
      records[1]?.actor.name,
      'operator',
      "the operator's change to org A's stream is in org A's trail",
    );
    assert.deepEqual(records[1]?.changes, ['/settings/headers/Authorization', '/settings/url']);
    assert.ok(records[0]?.changes.includes('/settings/headers/Authorization'));
    assert.deepEqual(records[3]?.details.from, '2020-01-01T00:00:00.000Z');
    assert.equal(records[5]?.target.type, 'token');
    assert.ok(records.every((r) => r.org === 'ORG_A'));

    const orgB = (await inject('GET', `/api/v1/audit?after=${afterId}`, TOKENS.orgB)).json() as unknown[];
    assert.deepEqual(orgB, []);
    const filtered = (
      await inject('GET', `/api/v1/audit?after=${afterId}&action=token.revoke`, TOKENS.operator)
    ).json() as unknown[];
    assert.equal(filtered.length, 1);
    const paged = await inject('GET', `/api/v1/audit?after=${afterId}&limit=3`, TOKENS.orgA);
    assert.equal((paged.json() as unknown[]).length, 3);
    assert.match(String(paged.headers.link), /after=\d+.*rel="next"|rel="next"/);
    const badAction = await inject('GET', '/api/v1/audit?action=logStream.explode', TOKENS.operator);
    assert.equal(badAction.statusCode, 400);
  });
});
