import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { callApi, clientOptions, printJson, withConnectionOptions } from './api-client.js';
import { CliError } from './cli-error.js';

type ConnectionOpts = { url?: string; token?: string };

/** Reads a stream definition (JSON or YAML) from a file or `-` (stdin). */
function readDefinition(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err: unknown) {
    throw new CliError(`cannot read ${file} (${(err as { code?: string }).code ?? String(err)})`);
  }
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (err: unknown) {
    throw new CliError(`${file} is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `key=value` pairs from repeated `--setting` flags; values that parse as JSON are taken as JSON. */
function collectSetting(pair: string, previous: Record<string, unknown>): Record<string, unknown> {
  const at = pair.indexOf('=');
  if (at <= 0) throw new CliError(`--setting ${JSON.stringify(pair)} must look like key=value`);
  const key = pair.slice(0, at);
  const raw = pair.slice(at + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { ...previous, [key]: value };
}

function isoTimestamp(value: string): string {
  const millis = Date.parse(value);
  if (Number.isNaN(millis))
    throw new CliError(`--from ${JSON.stringify(value)} is not an ISO 8601 timestamp`);
  return new Date(millis).toISOString();
}

function streamPath(id: string, suffix = ''): string {
  return `/api/v1/logStreams/${encodeURIComponent(id)}${suffix}`;
}

/** `flowstream replay ID --from TS` (also `flowstream streams replay`). */
export function replayCommand(name = 'replay'): Command {
  return withConnectionOptions(
    new Command(name)
      .description('re-deliver a stream from a point in time (ingest time, ISO 8601)')
      .argument('<id>', 'stream id')
      .requiredOption('--from <timestamp>', 'ISO 8601 timestamp to replay from'),
  ).action(async (id: string, opts: ConnectionOpts & { from: string }) => {
    printJson(
      await callApi(clientOptions(opts), 'POST', streamPath(id, '/replay'), {
        from: isoTimestamp(opts.from),
      }),
    );
  });
}

/** `flowstream streams …`: the log streams admin client (SPEC §2, §3). */
export function streamsCommand(): Command {
  const streams = new Command('streams').description('manage log streams through the HTTP API');

  streams.addCommand(
    withConnectionOptions(new Command('list').description('list log streams')).action(
      async (opts: ConnectionOpts) => {
        const list = await callApi<{ id: string; name: string; type: string; org: string; status: string }[]>(
          clientOptions(opts),
          'GET',
          '/api/v1/logStreams',
        );
        for (const s of list) process.stdout.write(`${s.id}\t${s.status}\t${s.type}\t${s.org}\t${s.name}\n`);
      },
    ),
  );

  for (const [name, suffix, method, description] of [
    ['get', '', 'GET', 'show a log stream (secrets redacted)'],
    ['health', '/health', 'GET', "show a stream's health"],
    ['test', '/test', 'POST', 'send one synthetic event and show what the destination answered'],
    ['activate', '/lifecycle/activate', 'POST', 'activate (or resume) a stream'],
    ['deactivate', '/lifecycle/deactivate', 'POST', 'deactivate a stream'],
    ['delete', '', 'DELETE', 'delete a stream'],
    ['redeliver', '/deadLetters/redeliver', 'POST', "re-deliver a stream's dead letters"],
  ] as const) {
    streams.addCommand(
      withConnectionOptions(new Command(name).description(description).argument('<id>', 'stream id')).action(
        async (id: string, opts: ConnectionOpts) => {
          const result = await callApi(
            clientOptions(opts),
            method,
            streamPath(id, suffix),
            method === 'POST' ? {} : undefined,
          );
          if (result !== undefined) printJson(result);
        },
      ),
    );
  }

  streams.addCommand(
    withConnectionOptions(
      new Command('dead-letters')
        .description("list a stream's dead letters")
        .argument('<id>', 'stream id')
        .option('--limit <n>', 'how many', '50'),
    ).action(async (id: string, opts: ConnectionOpts & { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError('--limit must be an integer from 1 to 1000');
      printJson(
        await callApi(clientOptions(opts), 'GET', `${streamPath(id, '/deadLetters')}?limit=${limit}`),
      );
    }),
  );

  streams.addCommand(
    withConnectionOptions(
      new Command('add')
        .description('create a log stream from a JSON/YAML file (or - for stdin), or from flags')
        .argument('[file]', 'stream definition: {name, type, org, settings, filter, ...}')
        .option('--name <name>', 'stream name')
        .option('--type <type>', 'destination type (webhook, splunk_hec, syslog, ...)')
        .option('--org <org>', 'org whose events the stream receives ("*" for all)')
        .option('--id <id>', 'stream id (generated when omitted)')
        .option('--setting <key=value>', 'a destination setting (repeatable)', collectSetting, {})
        .option('--event-types <list>', 'comma-separated event types to deliver (default: all)'),
    ).action(
      async (
        file: string | undefined,
        opts: ConnectionOpts & {
          name?: string;
          type?: string;
          org?: string;
          id?: string;
          setting: Record<string, unknown>;
          eventTypes?: string;
        },
      ) => {
        let definition: unknown;
        if (file !== undefined) {
          definition = readDefinition(file);
        } else {
          if (opts.name === undefined || opts.type === undefined) {
            throw new CliError('give a definition file, or at least --name and --type');
          }
          definition = {
            ...(opts.id === undefined ? {} : { id: opts.id }),
            name: opts.name,
            type: opts.type,
            ...(opts.org === undefined ? {} : { org: opts.org }),
            settings: opts.setting,
            ...(opts.eventTypes === undefined
              ? {}
              : { filter: { eventTypes: opts.eventTypes.split(',').map((t) => t.trim()) } }),
          };
        }
        printJson(await callApi(clientOptions(opts), 'POST', '/api/v1/logStreams', definition));
      },
    ),
  );

  streams.addCommand(
    withConnectionOptions(
      new Command('update')
        .description('replace a log stream with the definition in a JSON/YAML file (or -)')
        .argument('<id>', 'stream id')
        .argument('<file>', 'stream definition'),
    ).action(async (id: string, file: string, opts: ConnectionOpts) => {
      printJson(await callApi(clientOptions(opts), 'PUT', streamPath(id), readDefinition(file)));
    }),
  );

  streams.addCommand(replayCommand());
  return streams;
}
