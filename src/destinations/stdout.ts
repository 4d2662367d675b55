import type { Writable } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import { batchJsonBytes, ndjson } from '../formats/json-framing.js';
import type {
  Destination,
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
} from './destination.js';

/**
 * `stdout`: events as NDJSON on the process's standard output (docs/destinations/stdout.md), for
 * containers whose log collector reads stdout, and for piping into `jq`.
 *
 * Invariants:
 * - A batch is `delivered` once its bytes were handed to the operating system (the write callback),
 *   not merely buffered in the process.
 * - Backpressure: a send resolves only when its bytes left the process's buffer (the write
 *   callback, which comes no earlier than 'drain' would), and while an earlier write is still
 *   buffered (a slow reader, an attempt that timed out) nothing more is written, so a stuck reader
 *   cannot grow memory by more than one batch. An abort while waiting is a retryable TIMEOUT.
 * - Sends are serialized, so batches never interleave.
 * - The output is not ended on close: it is the process's (or the caller's), not ours. Its 'error'
 *   listener stays (see watchErrors).
 * - A closed reader (EPIPE) or a destroyed output is fatal for the stream.
 */

export const StdoutSettingsSchema = Type.Object({}, { additionalProperties: false });
export type StdoutSettings = Static<typeof StdoutSettingsSchema>;

/** Events per batch; the stream's `delivery.batchMaxEvents` is usually lower. */
export const STDOUT_MAX_BATCH_EVENTS = 10_000;
/** Event JSON per batch, to bound what one write buffers: 4 MiB. */
export const STDOUT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Failures after which nothing more can be written to this output. */
const FATAL_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'STDOUT_CLOSED']);

export const stdoutDestination: DestinationDefinition<StdoutSettings> = {
  type: 'stdout',
  settingsSchema: StdoutSettingsSchema,
  secretSettings: [],
  targets: () => [],
  create: (_settings, context) => createStdoutDestination(context, process.stdout),
};

/** The stdout destination writing to `output` instead (tests, or another stream such as stderr). */
export function createStdoutDestination(context: DestinationContext, output: Writable): Destination {
  return new StdoutDestination(context, output);
}

type WaitOutcome = 'ready' | 'aborted' | Error;

/** The first error each output emitted: every later send to it fails with that error. */
const outputFailures = new WeakMap<Writable, Error>();
const watchedOutputs = new WeakSet<Writable>();

/**
 * Listens for the output's errors, once per output and for its whole life: without a listener an
 * EPIPE on stdout (the reader went away) would crash the process, and the error can arrive after a
 * destination was closed. Here it fails the streams writing to it instead.
 */
function watchErrors(output: Writable): void {
  if (watchedOutputs.has(output)) return;
  watchedOutputs.add(output);
  output.on('error', (err: Error) => {
    if (!outputFailures.has(output)) outputFailures.set(output, err);
  });
}

class StdoutDestination implements Destination {
  readonly maxBatchEvents = STDOUT_MAX_BATCH_EVENTS;
  readonly maxBatchBytes = STDOUT_MAX_BATCH_BYTES;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The callback of the last write, until it fires: the bytes are still buffered in the process. */
  private inFlight: Promise<Error | null | undefined> | undefined;

  constructor(
    private readonly context: DestinationContext,
    private readonly output: Writable,
  ) {
    watchErrors(output);
  }

  send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    const result = this.queue.then(() => this.write(batch, signal));
    this.queue = result.catch(() => {});
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
  }

  private async write(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (this.closed) {
      return { outcome: 'retryable', error: { code: 'CLOSED', message: 'the stdout destination is closed' } };
    }
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    const unusable = this.unusable();
    if (unusable !== undefined) return this.failed(unusable);
    // An earlier write (perhaps of an attempt that timed out) is not flushed yet: wait for the reader.
    if (this.inFlight !== undefined) {
      const previous = await this.race(this.inFlight, signal);
      if (previous !== 'ready') return this.failed(previous);
    }

    const data = ndjson(batch, this.context.format);
    const written = new Promise<Error | null | undefined>((resolve) => {
      this.output.write(data, 'utf8', resolve);
    });
    this.inFlight = written;
    void written.then(() => {
      if (this.inFlight === written) this.inFlight = undefined;
    });
    const outcome = await this.race(written, signal);
    if (outcome !== 'ready') return this.failed(outcome);
    return { outcome: 'delivered', bytes: batchJsonBytes(batch) };
  }

  private unusable(): Error | undefined {
    const failure = outputFailures.get(this.output);
    if (failure !== undefined) return failure;
    if (this.output.destroyed || this.output.writableEnded || !this.output.writable) {
      return Object.assign(new Error('the output is closed'), { code: 'STDOUT_CLOSED' });
    }
    return undefined;
  }

  /** Resolves when `done` does, the output fails or closes, or `signal` aborts. */
  private race(done: Promise<Error | null | undefined>, signal: AbortSignal): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve) => {
      const finish = (outcome: WaitOutcome): void => {
        signal.removeEventListener('abort', onAbort);
        this.output.off('close', onClose);
        this.output.off('error', onError);
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      const onClose = (): void =>
        finish(
          outputFailures.get(this.output) ??
            Object.assign(new Error('the output closed'), { code: 'STDOUT_CLOSED' }),
        );
      const onError = (err: Error): void => finish(err);
      if (signal.aborted) return finish('aborted');
      // 'close' and 'error' fire once: an output that already went away will not say so again.
      const unusable = this.unusable();
      if (unusable !== undefined) return finish(unusable);
      signal.addEventListener('abort', onAbort, { once: true });
      this.output.once('close', onClose);
      this.output.once('error', onError);
      void done.then((err) => finish(err ?? 'ready'));
    });
  }

  private failed(outcome: 'aborted' | Error): SendResult {
    if (outcome === 'aborted') {
      return {
        outcome: 'retryable',
        error: { code: 'TIMEOUT', message: 'the reader of standard output did not keep up' },
      };
    }
    const own = (outcome as Error & { code?: unknown }).code;
    const code = typeof own === 'string' ? own : 'STDOUT_ERROR';
    const error = { code, message: `cannot write to standard output: ${outcome.message}` };
    return FATAL_CODES.has(code) ? { outcome: 'fatal', error } : { outcome: 'retryable', error };
  }
}
