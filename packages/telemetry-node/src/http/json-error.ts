/**
 * The JSON error body every HTTP handler of this package answers with, in the OpenAI error shape:
 * `{ "error": { "message", "type", "code", "param" } }`. `type` defaults to `server_error` for a
 * 5xx status and `invalid_request_error` otherwise.
 *
 * @example
 * ```ts
 * return jsonError(400, 'limit must be an integer between 1 and 1000', 'invalid_parameter', { param: 'limit' });
 * ```
 */
export function jsonError(
  status: number,
  message: string,
  code: string,
  options: { param?: string | null; type?: 'invalid_request_error' | 'server_error' } = {},
): Response {
  const type = options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  return jsonResponse(status, { error: { message, type, code, param: options.param ?? null } });
}

/** A JSON response with the package's content type. */
export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}
