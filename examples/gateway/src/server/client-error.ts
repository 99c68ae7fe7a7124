import type { Duplex } from 'node:stream';

/** Node's HTTP parser errors and the status each is answered with (Node's own choice for each). */
const STATUS_BY_CODE: Readonly<Record<string, readonly [number, string, string, string]>> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'Request headers are too large',
    'request_headers_too_large',
  ],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'Chunk extensions are too large', 'request_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time', 'request_timeout'],
};
const MALFORMED = [400, 'Bad Request', 'Malformed HTTP request', 'malformed_request'] as const;

/**
 * The `clientError` listener of the gateway's `node:http` server: a request Node's HTTP parser
 * refuses (a malformed request line or header, an invalid `Content-Length` or chunk, headers over
 * the size limit) never reaches the app, and Node's default answer is a bare status line. This
 * answers it in the OpenAI error shape like every other client error, with the status Node would
 * have used, and closes the connection. A connection already reset or half-written is destroyed,
 * and so, as Node's default does, is one whose previous answer is under way (a stream, with a
 * pipelined request after it): bytes written now would land inside that answer and corrupt it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // Node's http server keeps the response being written on the socket (`_httpMessage`).
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent === true) {
    socket.destroy();
    return;
  }
  const [status, reason, message, code] = STATUS_BY_CODE[error.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
