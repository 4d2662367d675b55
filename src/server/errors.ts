/**
 * Every error the HTTP API answers with, in one place: its stable code, HTTP status and summary.
 * The body has Okta's shape: `{"errorCode", "errorSummary", "errorCauses": [{"errorSummary"}]}`
 * (plus fields of the route's own, such as ingest's `rejected`). docs/http-api.md lists them all;
 * a test checks it does.
 */
export const API_ERRORS = {
  FS_UNAUTHENTICATED: { status: 401, summary: 'Authentication failed: a valid token is required.' },
  FS_FORBIDDEN_SCOPE: { status: 403, summary: 'The token does not have the scope this request needs.' },
  FS_FORBIDDEN_ORG: { status: 403, summary: 'The token is not allowed to act for this org.' },
  FS_FORBIDDEN_DESTINATION_TYPE: {
    status: 403,
    summary: 'Only an operator token (org "*") may manage log streams that write on the flowstream host.',
  },
  FS_NOT_FOUND: { status: 404, summary: 'Not found.' },
  FS_METHOD_NOT_ALLOWED: { status: 405, summary: 'Method not allowed.' },
  FS_BAD_REQUEST: { status: 400, summary: 'The request is malformed.' },
  FS_INVALID_JSON: { status: 400, summary: 'The request body is not valid JSON.' },
  FS_NO_VALID_EVENTS: { status: 400, summary: 'No event in the request body is valid.' },
  FS_EMPTY_BODY: { status: 400, summary: 'The request body holds no event.' },
  FS_BAD_ENCODING: { status: 400, summary: 'The request body could not be decoded.' },
  FS_VALIDATION: { status: 400, summary: 'The request has invalid values.' },
  FS_PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is over the size limit.' },
  FS_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'The content type or content encoding is not supported.',
  },
  FS_RATE_LIMITED: { status: 429, summary: 'Too many requests for this token; retry later.' },
  FS_STORAGE_FULL: { status: 503, summary: 'The event log is full; retry later.' },
  FS_SHUTTING_DOWN: { status: 503, summary: 'The service is shutting down; retry later.' },
  FS_NOT_READY: { status: 503, summary: 'The service is not ready.' },
  FS_INTERNAL: { status: 500, summary: 'An internal error occurred.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorBody {
  readonly errorCode: ApiErrorCode;
  readonly errorSummary: string;
  readonly errorCauses: readonly { readonly errorSummary: string }[];
}

/** Thrown by route code; the error handler turns it into the Okta-shaped body. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly causes: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly extra: Readonly<Record<string, unknown>>;
  constructor(
    code: ApiErrorCode,
    options: {
      summary?: string;
      causes?: readonly string[];
      headers?: Record<string, string>;
      extra?: Record<string, unknown>;
    } = {},
  ) {
    super(options.summary ?? API_ERRORS[code].summary);
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERRORS[code].status;
    this.causes = options.causes ?? [];
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  body(): ApiErrorBody & Record<string, unknown> {
    return {
      errorCode: this.code,
      errorSummary: this.message,
      errorCauses: this.causes.map((errorSummary) => ({ errorSummary })),
      ...this.extra,
    };
  }
}
