/**
 * Errors the stream manager throws, each with a stable code and the HTTP status the API answers
 * with (the lead's error mapping uses `httpStatus`; the codes are listed in docs/streams.md).
 */
export const STREAM_ERRORS = {
  /** No stream has this id. */
  FS_STREAM_NOT_FOUND: 404,
  /** The stream definition or its settings are invalid; `causes` names each bad field. */
  FS_STREAM_INVALID: 400,
  /** A destination host is refused by the network policy (SPEC §4 `network.allowPrivateNetworks`). */
  FS_STREAM_DESTINATION_FORBIDDEN: 400,
  /** `create` with an id that already exists. */
  FS_STREAM_EXISTS: 409,
  /** The manager was stopped (the service is shutting down). */
  FS_STREAM_MANAGER_STOPPED: 503,
} as const satisfies Record<string, number>;

export type StreamErrorCode = keyof typeof STREAM_ERRORS;

export interface StreamErrorCause {
  /** JSON Pointer of the bad field in the stream object (`/settings/url`), `''` for the whole. */
  readonly path: string;
  readonly message: string;
}

export class StreamError extends Error {
  readonly code: StreamErrorCode;
  readonly httpStatus: number;
  readonly causes: readonly StreamErrorCause[];

  constructor(code: StreamErrorCode, message: string, causes: readonly StreamErrorCause[] = []) {
    super(message);
    this.name = 'StreamError';
    this.code = code;
    this.httpStatus = STREAM_ERRORS[code];
    this.causes = causes;
  }
}

export function streamNotFound(id: string): StreamError {
  return new StreamError('FS_STREAM_NOT_FOUND', `no log stream has the id "${id}"`);
}
