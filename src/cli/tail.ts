import { Command } from 'commander';
import { callApi, clientOptions, withConnectionOptions } from './api-client.js';
import { CliError } from './cli-error.js';

interface TailPage {
  readonly events: readonly { readonly seq: number; readonly event: Record<string, unknown> }[];
  readonly next: number;
}

/** `flowstream tail`: prints stored events as NDJSON, following new ones (long polling) until ^C. */
export function tailCommand(): Command {
  return withConnectionOptions(
    new Command('tail')
      .description('print events as they are stored (NDJSON), following new ones')
      .option('--type <eventType>', 'only this event type')
      .option('--flow <flowId>', 'only this flow')
      .option('--last <n>', 'start with the last N events', '10')
      .option('--no-follow', 'print what is stored and exit'),
  ).action(
    async (opts: {
      url?: string;
      token?: string;
      type?: string;
      flow?: string;
      last: string;
      follow: boolean;
    }) => {
      const last = Number(opts.last);
      if (!Number.isInteger(last) || last < 0 || last > 10_000)
        throw new CliError('--last must be an integer from 0 to 10000');
      const client = clientOptions(opts);
      const filters = new URLSearchParams();
      if (opts.type !== undefined) filters.set('eventType', opts.type);
      if (opts.flow !== undefined) filters.set('flowId', opts.flow);
      let after: number | 'end' = last === 0 ? 'end' : -last;
      let stopped = false;
      process.once('SIGINT', () => {
        stopped = true;
      });
      while (!stopped) {
        const query = new URLSearchParams(filters);
        query.set('after', String(after));
        query.set('limit', '500');
        if (opts.follow) query.set('waitMillis', '10000');
        const page = await callApi<TailPage>(
          { ...client, timeoutMillis: 20_000 },
          'GET',
          `/api/v1/events?${query}`,
        );
        for (const item of page.events) process.stdout.write(`${JSON.stringify(item.event)}\n`);
        after = page.next;
        if (!opts.follow && page.events.length === 0) break;
      }
    },
  );
}
