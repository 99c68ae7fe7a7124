import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from '../protocol/openai-errors.js';

/** Node's HTTP parser errors and the status each is answered with (Node's own choice for each). */
const STATUS_BY_CODE: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request headers are too large', 'request_headers_too_large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Chunk extensions are too large', 'request_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request was not received in time', 'request_timeout'],
};
const MALFORMED = [400, 'Malformed HTTP request', 'malformed_request'] as const;

/**
 * The answer to a request Node's HTTP parser refused with the error `code` (an `HPE_*` code, or
 * `ERR_HTTP_REQUEST_TIMEOUT`): Node's own status for it, in the OpenAI error shape. The
 * `clientError` listener writes it on the socket; a handler whose body read failed with that error
 * throws it, so the request is counted with the status its client was sent.
 */
export function parserRefusal(code: unknown): ApiError {
  const [status, message, errorCode] = (typeof code === 'string' ? STATUS_BY_CODE[code] : undefined) ?? MALFORMED;
  return new ApiError(status, message, 'invalid_request_error', errorCode);
}

/**
 * Whether the refused request is a `HEAD`, whose answer carries no content (RFC 9110, 9.3.2): a
 * client reading one takes the bytes after the header block for the next answer, and Node's
 * fails the request with a parse error instead of seeing the status. The method is that of the
 * request the app is reading, or else the request line that starts the bytes the parser refused
 * (`rawPacket`: the chunk it was reading, which starts with the request line unless that arrived in
 * an earlier chunk; a method not known counts as not `HEAD`).
 */
function refusedHead(error: Error & { rawPacket?: unknown }, request: IncomingMessage | undefined): boolean {
  if (request?.method !== undefined) return request.method === 'HEAD';
  const packet = error.rawPacket;
  return Buffer.isBuffer(packet) && packet.subarray(0, 5).toString('latin1') === 'HEAD ';
}

/** What `_httpMessage` holds: the response being written on the socket, and its request. */
interface CurrentResponse {
  readonly headersSent?: boolean;
  readonly req?: IncomingMessage;
}

/**
 * The `clientError` listener of the gateway's `node:http` server: a request Node's HTTP parser
 * refuses (a malformed request line or header, an invalid `Content-Length` or chunk, headers over
 * the size limit) never reaches the app, and Node's default answer is a bare status line. This
 * answers it in the OpenAI error shape like every other client error, with the status Node would
 * have used (`parserRefusal`), and closes the connection (a `HEAD` gets the status line and
 * headers only).
 *
 * A connection the client reset, or ended in the middle of a request (it went away: a handler
 * reading that body counts it as 499), is destroyed without an answer, and so, as Node's default
 * does, is one whose previous answer is under way (a stream, with a pipelined request after it):
 * bytes written now would land inside that answer and corrupt it. When the app is reading the
 * refused request's body, that read is failed with the parser's error once the answer is out, so
 * the handler ends now (not when the client hangs up) and counts the status the client was sent.
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  // Node's http server keeps the response being written on the socket in `_httpMessage`.
  const current = (socket as Duplex & { _httpMessage?: CurrentResponse | null })._httpMessage;
  if (
    error.code === 'ECONNRESET' ||
    error.code === 'HPE_INVALID_EOF_STATE' ||
    !socket.writable ||
    current?.headersSent === true
  ) {
    socket.destroy();
    return;
  }
  const refusal = parserRefusal(error.code);
  const request = current?.req;
  const body = refusedHead(error, request)
    ? ''
    : JSON.stringify({
        error: { message: refusal.message, type: refusal.type, param: refusal.param, code: refusal.code },
      });
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
    () => {
      if (request !== undefined && !request.complete) request.destroy(error);
    },
  );
}
