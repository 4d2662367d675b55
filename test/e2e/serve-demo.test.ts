import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_TYPES } from '../../src/schema/event-types.js';
import { validateEvent } from '../../src/schema/validate.js';
import { startServe } from './helpers/serve-process.js';

/**
 * The README's "run" command, `flowstream serve --demo`, on the real process: within 30 s every
 * one of the seven event types reaches the demo's file stream, every event is strict-valid, every
 * helper event's parent and root executions are in the stream, and SIGTERM shuts down cleanly.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'fs-serve-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Event = Record<string, unknown> & { event_type: string; execution_id: string };

function readEvents(file: string): Event[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Event);
}

test('serve --demo: seven event types within 30 s, strict-valid, helpers chained; SIGTERM exits 0', {
  timeout: 90_000,
}, async () => {
  const data = path.join(dir, 'data');
  const serve = await startServe(['--demo', '--port', '0', '--data', data]);
  const file = path.join(data, 'demo-events.ndjson');
  let events: Event[] = [];
  let code: number | null;
  try {
    const deadline = Date.now() + 30_000;
    const missing = (): string[] => EVENT_TYPES.filter((type) => !events.some((e) => e.event_type === type));
    while (Date.now() < deadline) {
      events = readEvents(file);
      if (missing().length === 0) break;
      await sleep(250);
    }
    assert.deepEqual(missing(), [], `event types missing after 30 s (${events.length} events)`);
  } finally {
    code = await serve.stop();
  }
  assert.equal(code, 0, serve.output());
  assert.match(serve.output(), /admin token \(shown once/);
  assert.match(serve.output(), /SIGTERM, shutting down/);

  events = readEvents(file);
  for (const event of events) {
    const result = validateEvent(event, 'strict');
    assert.ok(result.ok, `not strict-valid: ${JSON.stringify(event)} ${JSON.stringify(result)}`);
  }
  const executions = new Set(events.map((e) => e.execution_id));
  const helpers = events.filter((e) => e.parent_execution_id !== undefined);
  assert.ok(helpers.length > 0, 'the demo ran no helper flow');
  for (const e of helpers) {
    assert.ok(
      executions.has(e.parent_execution_id as string),
      `parent of ${e.execution_id} is not in the stream`,
    );
    assert.ok(
      executions.has(e.root_execution_id as string),
      `root of ${e.execution_id} is not in the stream`,
    );
    if (e.event_type === 'FLOW_START')
      assert.ok((e.depth as number) >= 1, `helper start with depth ${String(e.depth)}`);
  }
});
