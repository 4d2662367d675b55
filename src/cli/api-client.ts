import type { Command } from 'commander';
import { request } from 'undici';
import { CliError } from './cli-error.js';

/** The default service address (SPEC §2/§3). */
export const DEFAULT_URL = 'http://127.0.0.1:8470';

export interface ApiClientOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly timeoutMillis?: number;
}

/** Adds `--url` and `--token` (defaults from FLOWSTREAM_URL / FLOWSTREAM_TOKEN) to an admin command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'service base URL (env FLOWSTREAM_URL)', process.env.FLOWSTREAM_URL ?? DEFAULT_URL)
    .option('--token <token>', 'API token (env FLOWSTREAM_TOKEN)', process.env.FLOWSTREAM_TOKEN);
}

export function clientOptions(opts: { url?: string; token?: string }): ApiClientOptions {
  const url = opts.url ?? DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new CliError(`--url ${JSON.stringify(url)} is not an http(s) URL`);
  }
  return { url: url.replace(/\/+$/, ''), token: opts.token };
}

interface ErrorBody {
  errorSummary?: unknown;
  errorCauses?: { errorSummary?: unknown }[];
}

/**
 * One API call. Answers 2xx with the parsed JSON body; anything else becomes a CliError whose
 * message is the service's own `errorSummary` and first cause (exit code 1).
 */
export async function callApi<T = unknown>(
  client: ApiClientOptions,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  if (client.token === undefined || client.token === '') {
    throw new CliError(
      'no token: pass --token or set FLOWSTREAM_TOKEN (serve prints an admin token at first start)',
    );
  }
  const headers: Record<string, string> = {
    authorization: `Bearer ${client.token}`,
    accept: 'application/json',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(`${client.url}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      headersTimeout: client.timeoutMillis ?? 30_000,
      bodyTimeout: client.timeoutMillis ?? 30_000,
    });
  } catch (err: unknown) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    throw new CliError(
      `cannot reach flowstream at ${client.url} (${code}); is \`flowstream serve\` running?`,
      1,
    );
  }
  const text = await response.body.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new CliError(
      `the service at ${client.url} answered HTTP ${response.statusCode} with a body that is not JSON`,
      1,
    );
  }
  if (response.statusCode >= 200 && response.statusCode < 300) return parsed as T;
  const error = (parsed ?? {}) as ErrorBody;
  const summary = typeof error.errorSummary === 'string' ? error.errorSummary : `HTTP ${response.statusCode}`;
  const cause = error.errorCauses?.[0]?.errorSummary;
  throw new CliError(typeof cause === 'string' ? `${summary} ${cause}` : summary, 1);
}

/** Prints a value as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
