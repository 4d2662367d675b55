import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Logger, pino } from 'pino';
import { resolveConfig } from '../../../src/config/load-config.js';
import type { NetworkPolicy } from '../../../src/net/network-policy.js';
import { type Service, startService } from '../../../src/server/service.js';

/** Static tokens of the test services: an operator, two orgs with every scope, org A with one scope each. */
export const TOKENS = {
  operator: 'operator-token-0123456789abcdef',
  orgA: 'org-a-admin-token-0123456789',
  orgB: 'org-b-admin-token-0123456789',
  orgAIngest: 'org-a-ingest-token-0123456789',
  orgAReader: 'org-a-reader-token-0123456789',
} as const;

const ALL = ['events:write', 'streams:read', 'streams:write'] as const;

export const STATIC_TOKENS = [
  { name: 'operator', token: TOKENS.operator, org: '*', scopes: [...ALL] },
  { name: 'a-admin', token: TOKENS.orgA, org: 'ORG_A', scopes: [...ALL] },
  { name: 'b-admin', token: TOKENS.orgB, org: 'ORG_B', scopes: [...ALL] },
  { name: 'a-ingest', token: TOKENS.orgAIngest, org: 'ORG_A', scopes: ['events:write'] },
  { name: 'a-reader', token: TOKENS.orgAReader, org: 'ORG_A', scopes: ['streams:read'] },
];

export interface TestService {
  readonly service: Service;
  readonly dir: string;
  /** Closes the service; removes the data directory unless `keepDir`. */
  close(options?: { keepDir?: boolean }): Promise<void>;
}

export interface TestServiceOptions {
  /** An existing data directory (restart tests). Default: a new temp dir. */
  readonly dir?: string;
  readonly allowPrivateNetworks?: boolean;
  readonly network?: NetworkPolicy;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Extra config keys (`auth`, `streams` ...), merged over the defaults. */
  readonly config?: Record<string, unknown>;
}

/** The whole service (real SQLite, stream manager, routes) on 127.0.0.1:0 in a temp data dir. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'fs-svc-'));
  const config = resolveConfig(
    {
      server: { host: '127.0.0.1', port: 0, shutdownTimeoutMillis: 1000 },
      storage: { path: dir },
      auth: { tokens: STATIC_TOKENS },
      network: { allowPrivateNetworks: options.allowPrivateNetworks ?? false },
      logging: { level: 'silent' },
      ...options.config,
    },
    {},
  );
  const service = await startService({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
    env: options.env ?? {},
    ...(options.network === undefined ? {} : { network: options.network }),
  });
  return {
    service,
    dir,
    async close(closeOptions = {}) {
      await service.close();
      if (closeOptions.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A local webhook receiver that answers 200 and counts what it gets. */
export async function startReceiver(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    bodies,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
