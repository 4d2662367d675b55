import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { ValidationMode } from '../../../src/ingest/ingest.js';
import { openSqliteEventLog, type SqliteEventLog } from '../../../src/log/sqlite-event-log.js';
import { Authenticator } from '../../../src/security/authenticator.js';
import { buildApp } from '../../../src/server/app.js';
import { outboundEvent } from '../../helpers/outbound-events.js';

export const OPERATOR_TOKEN = 'operator-token-0123456789';
export const ORG_A_WRITER = 'org-a-writer-token-0123456789';
export const ORG_A_READER = 'org-a-reader-token-0123456789';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly log: SqliteEventLog;
  readonly dir: string;
  shuttingDown: boolean;
  close(): Promise<void>;
}

/** An event of org `orgId` (seed-shaped, typed), with a fresh idempotency key per `n`. */
export function sampleEvent(
  n: number,
  orgId = 'ORG_A',
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...outboundEvent({ seq: n }).event, org_id: orgId, ...fields };
}

/** The HTTP app on a real SQLite event log in a temp dir, with static tokens for two orgs. */
export async function startTestApp(
  options: {
    validation?: ValidationMode;
    maxBytes?: number;
    bodyLimitBytes?: number;
    decompressedLimitBytes?: number;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-app-'));
  const log = openSqliteEventLog({
    directory: dir,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  });
  const authenticator = new Authenticator([
    {
      name: 'operator',
      token: OPERATOR_TOKEN,
      org: '*',
      scopes: ['events:write', 'streams:read', 'streams:write'],
    },
    { name: 'a-writer', token: ORG_A_WRITER, org: 'ORG_A', scopes: ['events:write'] },
    { name: 'a-reader', token: ORG_A_READER, org: 'ORG_A', scopes: ['streams:read'] },
  ]);
  const state = { shuttingDown: false };
  const app = await buildApp({
    log,
    authenticator,
    metrics: new Registry(),
    logger: pino({ level: 'silent' }),
    validation: options.validation ?? 'lenient',
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    decompressedLimitBytes: options.decompressedLimitBytes ?? 4 * 1024 * 1024,
    isShuttingDown: () => state.shuttingDown,
    isReady: () => !state.shuttingDown,
  });
  const testApp: TestApp = {
    app,
    log,
    dir,
    get shuttingDown() {
      return state.shuttingDown;
    },
    set shuttingDown(value: boolean) {
      state.shuttingDown = value;
    },
    async close() {
      await app.close();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return testApp;
}
