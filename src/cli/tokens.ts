import { Command } from 'commander';
import { SCOPES, type Scope } from '../security/tokens.js';
import { callApi, clientOptions, printJson, withConnectionOptions } from './api-client.js';
import { CliError } from './cli-error.js';

type ConnectionOpts = { url?: string; token?: string };

function parseScopes(value: string): Scope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) {
      throw new CliError(`--scopes: unknown scope ${JSON.stringify(scope)} (known: ${SCOPES.join(', ')})`);
    }
  }
  if (scopes.length === 0) throw new CliError('--scopes needs at least one scope');
  return scopes as Scope[];
}

/** `30d`, `12h`, `90m` or an ISO 8601 timestamp → an ISO timestamp. */
export function parseExpiry(value: string, nowMillis = Date.now()): string {
  const relative = /^(\d+)([mhd])$/.exec(value);
  if (relative) {
    const unitMillis = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(nowMillis + Number(relative[1]) * unitMillis).toISOString();
  }
  const millis = Date.parse(value);
  if (Number.isNaN(millis) || millis <= nowMillis) {
    throw new CliError(
      `--expires ${JSON.stringify(value)} must be a duration like 30d, 12h, 90m or a future ISO 8601 time`,
    );
  }
  return new Date(millis).toISOString();
}

/** `flowstream tokens create|list|revoke` (SPEC §2). */
export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('create, list and revoke API tokens');
  tokens.addCommand(
    withConnectionOptions(
      new Command('create')
        .description('create a token; it is printed once and only its hash is stored')
        .requiredOption('--org <org>', 'org the token acts for ("*" for every org)')
        .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`)
        .option('--name <name>', 'a name to recognise the token by', 'cli')
        .option('--expires <when>', 'expiry: a duration (30d, 12h, 90m) or an ISO 8601 time'),
    ).action(
      async (opts: ConnectionOpts & { org: string; scopes: string; name: string; expires?: string }) => {
        const body = {
          name: opts.name,
          org: opts.org,
          scopes: parseScopes(opts.scopes),
          ...(opts.expires === undefined ? {} : { expiresAt: parseExpiry(opts.expires) }),
        };
        const created = await callApi<{ token: string; id: string }>(
          clientOptions(opts),
          'POST',
          '/api/v1/tokens',
          body,
        );
        printJson(created);
        process.stderr.write('Store this token now: it is not shown again.\n');
      },
    ),
  );
  tokens.addCommand(
    withConnectionOptions(new Command('list').description('list tokens (never their values)')).action(
      async (opts: ConnectionOpts) => {
        printJson(await callApi(clientOptions(opts), 'GET', '/api/v1/tokens'));
      },
    ),
  );
  tokens.addCommand(
    withConnectionOptions(
      new Command('revoke').description('revoke a token').argument('<id>', 'token id'),
    ).action(async (id: string, opts: ConnectionOpts) => {
      await callApi(clientOptions(opts), 'DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
      process.stdout.write(`revoked ${id}\n`);
    }),
  );
  return tokens;
}
