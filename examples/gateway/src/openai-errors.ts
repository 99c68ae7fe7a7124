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

  toResponse(): Response {
    return new Response(
      JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.code } }),
      { status: this.status, headers: { 'content-type': 'application/json; charset=utf-8' } },
    );
  }
}

export const badRequest = (message: string, param: string | null = null, code = 'invalid_request'): ApiError =>
  new ApiError(400, message, 'invalid_request_error', code, param);

/**
 * Read a JSON object body with a size limit. Rejects non-JSON content types (415), bodies over the
 * limit (413) and malformed JSON or non-object JSON (400).
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    throw new ApiError(415, 'Content-Type must be application/json', 'invalid_request_error', 'unsupported_media_type');
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(
      413,
      `Request body exceeds the limit of ${maxBytes} bytes`,
      'invalid_request_error',
      'request_too_large',
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new ApiError(
          413,
          `Request body exceeds the limit of ${maxBytes} bytes`,
          'invalid_request_error',
          'request_too_large',
        );
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('Request body is not valid JSON', null, 'invalid_json');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('Request body must be a JSON object', null, 'invalid_json');
  }
  return parsed as Record<string, unknown>;
}
