import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import type { DestinationContext, StreamFormat } from '../../src/destinations/destination.js';
import { createStdoutDestination, stdoutDestination } from '../../src/destinations/stdout.js';
import { cloudEventJson } from '../../src/formats/cloudevents.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import { outboundEvent, outboundEvents } from '../helpers/outbound-events.js';

function context(format: StreamFormat = 'okta'): DestinationContext {
  return {
    streamId: 'out',
    streamName: 'stdout',
    format,
    network: openNetworkPolicy(),
    logger: pino({ level: 'silent' }),
    timeoutMillis: 5000,
  };
}

const live = new AbortController().signal;

/** A Writable whose reader accepts each chunk only when the test says so. */
class SlowReader extends Writable {
  readonly chunks: string[] = [];
  private readonly held: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 16, decodeStrings: false });
  }
  override _write(
    chunk: string | Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.chunks.push(chunk.toString());
    this.held.push(() => callback());
  }
  /** Accepts every chunk received so far. */
  release(): void {
    for (const accept of this.held.splice(0)) accept();
  }
  get waiting(): number {
    return this.held.length;
  }
}

/** A signal aborted after `millis` by a timer that keeps the test alive (AbortSignal.timeout's does not). */
function abortAfter(millis: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), millis);
  return controller.signal;
}

/** Tracks whether a promise has settled, without awaiting it. */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  return () => done;
}

describe('stdout destination', () => {
  test('writes NDJSON, one line per event', async () => {
    const output = new SlowReader();
    const destination = createStdoutDestination(context(), output);
    const batch = outboundEvents(3);
    const pending = destination.send(batch, live);
    await tick();
    output.release();
    const result = await pending;
    assert.deepEqual(result, {
      outcome: 'delivered',
      bytes: batch.reduce((n, e) => n + Buffer.byteLength(e.json), 0),
    });
    assert.deepEqual(output.chunks, [batch.map((e) => `${e.json}\n`).join('')]);
    await destination.close();
  });

  test('cloudevents: one structured event per line', async () => {
    const output = new SlowReader();
    const destination = createStdoutDestination(context('cloudevents'), output);
    const event = outboundEvent({ indent: 2 });
    const pending = destination.send([event], live);
    await tick();
    output.release();
    await pending;
    assert.deepEqual(JSON.parse(output.chunks[0] ?? ''), JSON.parse(cloudEventJson(event)));
    assert.equal(output.chunks[0]?.split('\n').length, 2);
    await destination.close();
  });

  test('backpressure: a send is delivered only when the reader took it; the next waits', async () => {
    const output = new SlowReader();
    const destination = createStdoutDestination(context(), output);
    const first = destination.send(outboundEvents(2), live);
    const second = destination.send(outboundEvents(2, 3), live);
    const firstDone = settled(first);
    const secondDone = settled(second);
    await tick();
    await tick();
    assert.equal(firstDone(), false);
    assert.equal(secondDone(), false);
    assert.equal(output.chunks.length, 1, 'the second batch is not written while the first is buffered');
    output.release();
    assert.equal((await first).outcome, 'delivered');
    await tick();
    assert.equal(output.chunks.length, 2);
    assert.equal(secondDone(), false);
    output.release();
    assert.equal((await second).outcome, 'delivered');
    await destination.close();
  });

  test('a stuck reader: abort is a TIMEOUT, and retries do not pile up more data', async () => {
    const output = new SlowReader();
    const destination = createStdoutDestination(context(), output);
    const controller = new AbortController();
    const first = destination.send(outboundEvents(2), controller.signal);
    await tick();
    controller.abort();
    const result = await first;
    assert.equal(result.outcome, 'retryable');
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'TIMEOUT');
    // A retry while the reader is still stuck writes nothing and times out again.
    const retry = await destination.send(outboundEvents(2), abortAfter(30));
    assert.equal(retry.outcome, 'retryable');
    assert.equal(output.chunks.length, 1);
    // Once the reader catches up, the retry goes through.
    const again = destination.send(outboundEvents(2), live);
    await tick();
    output.release();
    await tick();
    output.release();
    assert.equal((await again).outcome, 'delivered');
    assert.equal(output.chunks.length, 2);
    await destination.close();
  });

  test('a destroyed output is fatal', async () => {
    const output = new SlowReader();
    const destination = createStdoutDestination(context(), output);
    output.destroy();
    const result = await destination.send([outboundEvent()], live);
    assert.equal(result.outcome, 'fatal');
    assert.ok(result.outcome === 'fatal');
    assert.equal(result.error.code, 'STDOUT_CLOSED');
    await destination.close();
  });

  test('an EPIPE on the output fails the stream instead of crashing the process', async () => {
    const output = new SlowReader();
    const destination = createStdoutDestination(context(), output);
    const pending = destination.send([outboundEvent()], live);
    await tick();
    output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const result = await pending;
    assert.equal(result.outcome, 'fatal');
    assert.ok(result.outcome === 'fatal');
    assert.equal(result.error.code, 'EPIPE');
    assert.equal((await destination.send([outboundEvent()], live)).outcome, 'fatal');
    await destination.close();
    await destination.close();
    // One error listener per output, however many destinations were created on it.
    createStdoutDestination(context(), output);
    assert.equal(output.listenerCount('error'), 1);
  });

  test('settings: none allowed', () => {
    const validate = new Ajv({ strict: true }).compile(stdoutDestination.settingsSchema);
    assert.equal(validate({}), true);
    assert.equal(validate({ path: '/x' }), false);
    assert.deepEqual(stdoutDestination.targets({}), []);
  });
});

describe('stdout destination in a real process', () => {
  const moduleUrl = pathToFileURL(new URL('../../src/destinations/stdout.ts', import.meta.url).pathname).href;
  const helperUrl = pathToFileURL(new URL('../helpers/outbound-events.ts', import.meta.url).pathname).href;
  const childScript = (batches: number) => `
    import { pino } from 'pino';
    import { stdoutDestination } from '${moduleUrl}';
    import { outboundEvents } from '${helperUrl}';
    const destination = stdoutDestination.create({}, {
      streamId: 's', streamName: 's', format: 'okta', network: undefined, logger: pino({ level: 'silent' }), timeoutMillis: 5000,
    });
    const outcomes = [];
    for (let i = 0; i < ${batches}; i++) {
      const result = await destination.send(outboundEvents(100, i * 100 + 1), new AbortController().signal);
      outcomes.push(result.outcome === 'delivered' ? 'delivered' : result.outcome + ':' + result.error.code);
      if (result.outcome !== 'delivered') break;
    }
    await destination.close();
    process.stderr.write(JSON.stringify(outcomes));
  `;
  const run = (batches: number) =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript(batches)], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  test('a slow reader of a pipe gets every line, in order', async () => {
    const child = run(30);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Do not read for a while: the pipe fills (64 KiB) and the child must wait, not buffer 2 MB.
    child.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdout.resume();
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    const lines = Buffer.concat(chunks).toString().split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 3000);
    assert.deepEqual(
      lines,
      outboundEvents(3000).map((e) => e.json),
    );
    assert.deepEqual(JSON.parse(stderr), Array(30).fill('delivered'));
  });

  test('a reader that went away (EPIPE) is fatal, not a crash', async () => {
    const child = run(30);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.destroy();
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    const outcomes = JSON.parse(stderr) as string[];
    assert.match(outcomes.at(-1) ?? '', /^fatal:(EPIPE|STDOUT_CLOSED)$/);
  });
});
