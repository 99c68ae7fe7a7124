import { withFields } from '../with-fields.js';

/** An error answered in the OpenAI error shape: `{ error: { message, type, param, code } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  /** The provider whose answer this error passes on (the last one tried), for the GenAI server metrics. */
  provider: string | undefined;

  /** Name the provider this error comes from; returns this error. */
  answeredBy(provider: string): this {
    this.provider = provider;
    return this;
  }

  /** Headers its answer carries besides `content-type` (e.g. `retry-after`), in either error shape. */
  readonly headers: Record<string, string> = {};

  /** Set a header of its answer; returns this error. */
  withHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  toResponse(): Response {
    return new Response(
      JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.code } }),
      { status: this.status, headers: withFields(this.headers, { 'content-type': 'application/json; charset=utf-8' }) },
    );
  }
}

/** The status of a request whose client went away before it was answered (nginx's 499); nobody reads the answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** `code` of the error a request the gateway's shutdown cut is answered with (503; its connection is closed under it). */
export const SERVER_SHUTDOWN_CODE = 'server_shutdown';

/** The error of a request cut by the shutdown drain deadline, passing on `provider`'s attempt, if any. */
export function serverShutdownError(provider: string | undefined): ApiError {
  const error = new ApiError(
    503,
    'The gateway shut down before the request was answered',
    'server_error',
    SERVER_SHUTDOWN_CODE,
  );
  return provider !== undefined ? error.answeredBy(provider) : error;
}

/** The code of a 400 for a parameter the gateway does not take (OpenAI's `unsupported_parameter`). */
export const UNSUPPORTED_PARAMETER = 'unsupported_parameter';

export const badRequest = (message: string, param: string | null = null, code = 'invalid_request'): ApiError =>
  new ApiError(400, message, 'invalid_request_error', code, param);
