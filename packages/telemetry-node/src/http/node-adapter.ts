import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * A fetch-style handler: takes a WHATWG `Request`, resolves to a `Response`. `MetricsHandler` and
 * `ModelHealthHandler` are both fetch handlers.
 *
 * @example
 * ```ts
 * const health: FetchHandler = async () => Response.json({ status: 'ok' });
 * http.createServer(toNodeListener(health)).listen(8080);
 * ```
 */
export type FetchHandler = (request: Request) => Promise<Response>;

/**
 * Build a WHATWG `Request` from a `node:http` request: the URL is resolved against `baseUrl`
 * (default `http://` plus the `Host` header, or `localhost`), repeated headers are kept, and the body
 * of any method other than GET and HEAD is streamed, not buffered. A request target that is a path
 * stays a path (`//x` is the path `//x`, not a host). Throws a `TypeError` when the target or the
 * `Host` header make no URL (`Host: a b`); `toNodeListener` answers such a request 400.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const response = await otel.metricsHandler(toFetchRequest(req));
 *   await writeFetchResponse(response, res, req.method);
 * });
 * ```
 */
export function toFetchRequest(incoming: IncomingMessage, baseUrl?: string): Request {
  const url = requestUrl(incoming.url ?? '/', baseUrl ?? `http://${incoming.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const method = incoming.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : undefined,
    // Required by undici for streamed request bodies.
    ...(hasBody ? { duplex: 'half' } : {}),
  });
}

/** The URL of a request target against `base`; a `TypeError` naming the target when there is none. */
function requestUrl(target: string, base: string): URL {
  try {
    // An origin-form target is a path: put after the base's origin as text, so that `//x` is not
    // read as a protocol-relative URL naming the host `x`.
    return target.startsWith('/') ? new URL(`${new URL(base).origin}${target}`) : new URL(target, base);
  } catch {
    throw new TypeError(
      `no URL in the request target ${JSON.stringify(target.slice(0, 64))} with base ${JSON.stringify(base.slice(0, 64))}`,
    );
  }
}

/**
 * Write a WHATWG `Response` to a `node:http` response: status and headers, then the body streamed
 * chunk by chunk, waiting for `drain` when the socket is full. For `method` `HEAD` only the head is
 * written. The response is ended once the body was read to its end; when reading it fails part-way,
 * the response is destroyed instead (the client sees a cut transfer, not a complete body) and the
 * promise rejects.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   await writeFetchResponse(Response.json({ providers: ['openai', 'anthropic'] }), res, req.method);
 * });
 * ```
 */
export async function writeFetchResponse(response: Response, outgoing: ServerResponse, method = 'GET'): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  outgoing.writeHead(response.status, headers);
  if (response.body === null || method === 'HEAD') {
    // A HEAD answer has no body: release the stream (a streamed scrape stops producing chunks).
    await response.body?.cancel();
    outgoing.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      if (outgoing.destroyed) {
        // The client went away: stop producing the rest of the body.
        await reader.cancel();
        return;
      }
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value)) await drainedOrClosed(outgoing);
    }
  } catch (error) {
    // Ended normally, a body that failed part-way looks complete: the last chunk of the chunked
    // encoding closes it cleanly and a scraper takes the truncated exposition (with gzip, an empty
    // one) for the whole, under a 200. Destroyed, the transfer is cut and the client sees an error.
    outgoing.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  outgoing.end();
}

/**
 * Adapt a fetch-style handler to a `node:http` request listener. A request whose target or `Host`
 * header make no URL is answered 400 with
 * `{ "error": { "message": "Invalid request target or Host header", "type": "invalid_request_error" } }`
 * (the handler is not called). When the handler rejects before the head is sent, the listener
 * answers 500 with `{ "error": { "message": "Internal error", "type": "server_error" } }`; later, it
 * destroys the socket.
 *
 * @example
 * ```ts
 * http.createServer(toNodeListener(telemetry.metricsHandler)).listen(9464);
 * ```
 */
export function toNodeListener(handler: FetchHandler): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  return (incoming, outgoing) => {
    let request: Request;
    try {
      request = toFetchRequest(incoming);
    } catch {
      // Thrown here, it would be an uncaught exception: one malformed request would end the process.
      const body = JSON.stringify({
        error: { message: 'Invalid request target or Host header', type: 'invalid_request_error' },
      });
      outgoing.writeHead(400, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      outgoing.end(body);
      return;
    }
    handler(request)
      .then((response) => writeFetchResponse(response, outgoing, incoming.method))
      .catch((error: unknown) => {
        if (!outgoing.headersSent) {
          outgoing.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          outgoing.end(JSON.stringify({ error: { message: 'Internal error', type: 'server_error' } }));
        } else {
          outgoing.destroy(error instanceof Error ? error : undefined);
        }
      });
  };
}

/** Resolves when `outgoing` can take more data, or when its connection has closed. */
function drainedOrClosed(outgoing: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      outgoing.off('drain', done);
      outgoing.off('close', done);
      resolve();
    };
    outgoing.once('drain', done);
    outgoing.once('close', done);
  });
}
