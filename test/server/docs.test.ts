import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { API_ERRORS } from '../../src/server/errors.js';
import { STREAM_ERRORS } from '../../src/streams/stream-errors.js';
import { startTestService, type TestService } from './helpers/service.js';

const httpApi = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');

let t: TestService;
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t.close();
});

describe('docs/http-api.md', () => {
  test('lists every error code with its status', () => {
    const codes: [string, number][] = [
      ...Object.entries(API_ERRORS).map(([code, e]): [string, number] => [code, e.status]),
      ...Object.entries(STREAM_ERRORS),
    ];
    for (const [code, status] of codes) {
      assert.match(
        httpApi,
        new RegExp(`\\| \`${code}\`\\s+\\| ${status}\\s+\\|`),
        `${code} (${status}) is documented`,
      );
    }
  });

  test('names every route of the OpenAPI document', async () => {
    const doc = (await t.service.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        assert.ok(
          httpApi.includes(`${method.toUpperCase()} ${path}`),
          `${method.toUpperCase()} ${path} is documented`,
        );
      }
    }
  });
});
