/**
 * Errors of the event log, each with a stable string code (undici style: one code per failure, the
 * code is the contract, the message is for people). `StorageFullError` (FS_STORAGE_FULL) lives in
 * `event-log.ts` because ingest maps it to 503 + Retry-After.
 *
 * | code                    | when                                                                  |
 * |-------------------------|-----------------------------------------------------------------------|
 * | FS_LOG_OPEN_FAILED      | the directory or database file cannot be created or opened            |
 * | FS_LOG_READ_ONLY        | the directory or database file is not writable                        |
 * | FS_LOG_LOCKED           | another process (or another open log in this one) holds the database  |
 * | FS_LOG_CORRUPT          | the file is not a SQLite database, or SQLite reports corruption       |
 * | FS_LOG_NOT_EVENT_LOG    | a SQLite database that is not a flowstream event log                  |
 * | FS_LOG_SCHEMA_TOO_NEW   | written by a newer flowstream whose schema this version cannot read   |
 * | FS_LOG_CLOSED           | an operation on a log after `close()`                                 |
 * | FS_LOG_INVALID_EVENT    | `append` got an event with a missing or non-string field              |
 * | FS_LOG_INVALID_ARGUMENT | a bad option or argument (the message names it and its value)         |
 * | FS_LOG_IO               | any other storage failure (I/O error, failed commit)                  |
 */

export type EventLogErrorCode =
  | 'FS_LOG_OPEN_FAILED'
  | 'FS_LOG_READ_ONLY'
  | 'FS_LOG_LOCKED'
  | 'FS_LOG_CORRUPT'
  | 'FS_LOG_NOT_EVENT_LOG'
  | 'FS_LOG_SCHEMA_TOO_NEW'
  | 'FS_LOG_CLOSED'
  | 'FS_LOG_INVALID_EVENT'
  | 'FS_LOG_INVALID_ARGUMENT'
  | 'FS_LOG_IO';

export class EventLogError extends Error {
  readonly code: EventLogErrorCode;
  /** The database file or directory concerned, when there is one. */
  readonly path: string | undefined;

  constructor(code: EventLogErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventLogError';
    this.code = code;
    this.path = options.path;
  }
}

export function isEventLogError(error: unknown, code?: EventLogErrorCode): error is EventLogError {
  return error instanceof EventLogError && (code === undefined || error.code === code);
}
