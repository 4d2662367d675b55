import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
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
 * `file`: events appended to a local NDJSON file, with size-based rotation
 * (docs/destinations/file.md).
 *
 * Invariants:
 * - Durability before the cursor moves: `send` reports `delivered` only after the appended lines
 *   were written and `fdatasync`ed (and, when the file was just created or rotated, after its
 *   directory was fsynced), so a crash after the cursor moved loses none of them.
 * - The file only ever holds whole lines: when a write or sync fails part way, the file is cut back
 *   to its length before the batch (best effort), then the whole batch is retried.
 * - Sends are serialized (one write at a time, in call order), whatever the stream's concurrency.
 * - Only a regular file is written: a symlink at `path` (O_NOFOLLOW), a device, FIFO or directory
 *   is refused (fatal), so rotation never renames something that is not ours.
 * - If something else renames or deletes the file (logrotate's default), the next batch goes to a
 *   new file at `path`.
 * - Rotation: before a batch that would take the file past `maxBytes`, `path.{n}` becomes
 *   `path.{n+1}` (the oldest beyond `maxFiles` is deleted), `path` becomes `path.1`, and a new
 *   `path` is started. A batch larger than `maxBytes` goes whole into a fresh file.
 */

/** Default rotation size: 100 MiB. */
export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
/** Default number of rotated files kept (`path.1` … `path.5`). */
export const DEFAULT_MAX_FILES = 5;
/** Events per batch; the stream's `delivery.batchMaxEvents` is usually lower. */
export const FILE_MAX_BATCH_EVENTS = 10_000;
/** Event JSON per batch, to bound the memory of one write: 16 MiB. */
export const FILE_MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** New files are readable by their owner only: events hold user emails and names. */
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o750;

export const FileSettingsSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      maxLength: 4096,
      // No `..` segment anywhere (a relative path cannot climb out of the working directory) and no NUL.
      pattern: '^(?!(?:.*[/\\\\])?\\.\\.(?:[/\\\\]|$))[^\\u0000]+$',
      description: 'The NDJSON file. Absolute, or relative to the working directory of flowstream.',
    }),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Rotate before the file would exceed this size; 0 = never. Default 100 MiB.',
      }),
    ),
    maxFiles: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        description: 'Rotated files kept (path.1 …). Default 5; 0 = none.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type FileSettings = Static<typeof FileSettingsSchema>;

/** `path` as an absolute path: relative paths are resolved against `cwd`. */
export function resolveFilePath(path: string, cwd: string = process.cwd()): string {
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}

/** Codes of failures that will not go away by themselves: the stream is misconfigured. */
const FATAL_FILE_ERRORS = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'EISDIR',
  'ENOTDIR',
  // mkdir of a parent directory that exists as a file.
  'EEXIST',
  'ELOOP',
  'ENAMETOOLONG',
  'ENXIO',
  'EINVAL',
  'EFBIG',
  'FILE_NOT_REGULAR',
]);

/**
 * A file-system failure as a SendResult: permissions, a read-only file system, a path that is not a
 * regular file are fatal for the stream; anything else (ENOSPC, EDQUOT, EIO, EMFILE ...) may pass
 * and is retryable. The code is the errno name (`ENOSPC`).
 */
export function classifyFileError(err: unknown, path: string): SendResult {
  const code = errnoCode(err) ?? 'FILE_ERROR';
  const reason = err instanceof Error ? err.message : String(err);
  const error = { code, message: `cannot append to ${path}: ${reason}` };
  return FATAL_FILE_ERRORS.has(code) ? { outcome: 'fatal', error } : { outcome: 'retryable', error };
}

export const fileDestination: DestinationDefinition<FileSettings> = {
  type: 'file',
  settingsSchema: FileSettingsSchema,
  secretSettings: [],
  targets: () => [],
  create: (settings, context) => new FileDestination(settings, context),
};

class NotRegularFileError extends Error {
  readonly code = 'FILE_NOT_REGULAR';
  constructor(path: string) {
    super(`${path} is not a regular file (symlinks, devices, FIFOs and directories are refused)`);
  }
}

class FileDestination implements Destination {
  readonly maxBatchEvents = FILE_MAX_BATCH_EVENTS;
  readonly maxBatchBytes = FILE_MAX_BATCH_BYTES;
  private readonly path: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private handle: FileHandle | undefined;
  /** Identity of the open file, to notice it was renamed or deleted under us. */
  private identity: { readonly dev: bigint; readonly ino: bigint } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | undefined;

  constructor(
    settings: FileSettings,
    private readonly context: DestinationContext,
  ) {
    this.path = resolveFilePath(settings.path);
    this.maxBytes = settings.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxFiles = settings.maxFiles ?? DEFAULT_MAX_FILES;
  }

  send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    const result = this.queue.then(() => this.append(batch, signal));
    this.queue = result.catch(() => {});
    return result;
  }

  close(): Promise<void> {
    this.closed ??= this.queue.then(() => this.closeHandle());
    return this.closed;
  }

  private async append(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    if (this.closed !== undefined) {
      return { outcome: 'retryable', error: { code: 'CLOSED', message: 'the file destination is closed' } };
    }
    if (signal.aborted) {
      return { outcome: 'retryable', error: { code: 'TIMEOUT', message: 'aborted before writing' } };
    }
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    const data = Buffer.from(ndjson(batch, this.context.format), 'utf8');
    try {
      let handle = await this.openFile();
      let size = Number((await handle.stat()).size);
      if (this.maxBytes > 0 && size > 0 && size + data.byteLength > this.maxBytes) {
        await this.rotate();
        handle = await this.openFile();
        size = 0;
      }
      try {
        await writeAll(handle, data);
        await handle.datasync();
      } catch (err: unknown) {
        await handle.truncate(size).catch(() => {});
        throw err;
      }
      return { outcome: 'delivered', bytes: batchJsonBytes(batch) };
    } catch (err: unknown) {
      // Reopen on the next attempt: the handle may point at a file that is gone or broken.
      await this.closeHandle();
      const result = classifyFileError(err, this.path);
      this.context.logger.warn(
        { err, path: this.path, outcome: result.outcome },
        'file destination write failed',
      );
      return result;
    }
  }

  /** The handle of the file now at `path`, opening (and creating) it when needed. */
  private async openFile(): Promise<FileHandle> {
    if (this.handle !== undefined) {
      const current = await stat(this.path, { bigint: true }).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw err;
      });
      if (current !== undefined && current.dev === this.identity?.dev && current.ino === this.identity.ino) {
        return this.handle;
      }
      await this.closeHandle();
    }
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
    // O_NONBLOCK: opening a FIFO without a reader fails (ENXIO) instead of blocking a libuv thread.
    const flags =
      constants.O_WRONLY |
      constants.O_APPEND |
      constants.O_CREAT |
      constants.O_NOFOLLOW |
      constants.O_NONBLOCK;
    const handle = await open(this.path, flags, FILE_MODE);
    try {
      const info = await handle.stat({ bigint: true });
      if (!info.isFile()) throw new NotRegularFileError(this.path);
      // The directory entry of a file this open may have created must be durable too.
      await syncDirectory(directory);
      this.handle = handle;
      this.identity = { dev: info.dev, ino: info.ino };
      return handle;
    } catch (err: unknown) {
      await handle.close().catch(() => {});
      throw err;
    }
  }

  private async rotate(): Promise<void> {
    await this.closeHandle();
    if (this.maxFiles === 0) {
      await rm(this.path, { force: true });
    } else {
      await rm(`${this.path}.${this.maxFiles}`, { force: true });
      for (let i = this.maxFiles - 1; i >= 1; i--) {
        await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch((err: unknown) => {
          if (errnoCode(err) !== 'ENOENT') throw err;
        });
      }
      await rename(this.path, `${this.path}.1`);
    }
    await syncDirectory(dirname(this.path));
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.identity = undefined;
    await handle?.close().catch(() => {});
  }
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
