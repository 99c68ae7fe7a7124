import type { IncomingMessage } from 'node:http';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../protocol/json.js';
import { ApiError, CLIENT_CLOSED_REQUEST, badRequest } from '../protocol/openai-errors.js';
import { parserRefusal } from '../server/client-error.js';

/** Chunks of a request body, and a way to stop reading them. */
interface BodyChunks {
  next(): Promise<IteratorResult<Uint8Array, unknown>>;
  stop(): void;
}

function chunksOf(request: Request, incoming: IncomingMessage | undefined): BodyChunks | undefined {
  if (incoming !== undefined) {
    // Straight from Node's request: `request.body` would make @hono/node-server build a WHATWG
    // Request, which undici registers with a FinalizationRegistry, so every request's objects then
    // survive young-generation collections and wait for a full mark-compact.
    const iterator = incoming.iterator({ destroyOnReturn: false }) as AsyncIterator<Uint8Array, unknown>;
    return { next: () => iterator.next(), stop: () => void iterator.return?.() };
  }
  if (request.body === null) return undefined;
  const reader = request.body.getReader();
  return { next: () => reader.read(), stop: () => void reader.cancel().catch(() => {}) };
}

/**
 * Read a JSON object body with a size limit. Rejects non-JSON content types (415), bodies over the
 * limit (413), a body the client cuts off by closing the connection (499 `client_closed_request`,
 * counted as the client's doing rather than a 500) or with a chunk Node's parser refuses (400
 * `malformed_request`, as the server's clientError listener answered it), malformed JSON or
 * non-object JSON (400 `invalid_json`) and JSON nested deeper than {@link MAX_JSON_DEPTH} levels
 * (400 `nesting_too_deep`, before any provider is tried). With `incoming` (the Node request
 * behind `request`, served by @hono/node-server), the body is read from it directly.
 */
export async function readJsonObject(
  request: Request,
  maxBytes: number,
  incoming?: IncomingMessage,
): Promise<Record<string, unknown>> {
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
  const body = chunksOf(request, incoming);
  if (body !== undefined) {
    for (;;) {
      let next: IteratorResult<Uint8Array, unknown>;
      try {
        next = await body.next();
      } catch (error) {
        // The client's doing, not a server error: it closed the connection mid-body (Node's
        // `aborted`, ECONNRESET: 499, as any request whose client went away), or sent something
        // Node's parser refused (a bad chunk): the server's clientError listener has answered that
        // (400 for a bad chunk) and failed this read with the parser's error; the same answer here
        // counts the request with the status its client was sent.
        const code = (error as { code?: unknown } | null)?.code;
        if (code === 'ECONNRESET') {
          throw new ApiError(
            CLIENT_CLOSED_REQUEST,
            'The client closed the connection before the request body was complete',
            'invalid_request_error',
            'client_closed_request',
          );
        }
        throw parserRefusal(code);
      }
      const { done, value } = next;
      if (done) break;
      const chunk = value;
      size += chunk.byteLength;
      if (size > maxBytes) {
        body.stop();
        throw new ApiError(
          413,
          `Request body exceeds the limit of ${maxBytes} bytes`,
          'invalid_request_error',
          'request_too_large',
        );
      }
      chunks.push(chunk);
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
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) {
    throw badRequest(
      `Request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} are accepted`,
      null,
      'nesting_too_deep',
    );
  }
  return parsed as Record<string, unknown>;
}
