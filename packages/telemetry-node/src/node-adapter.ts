import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** A fetch-style handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Build a WHATWG `Request` from a `node:http` request. */
export function toFetchRequest(incoming: IncomingMessage, baseUrl?: string): Request {
  const host = incoming.headers.host ?? 'localhost';
  const url = new URL(incoming.url ?? '/', baseUrl ?? `http://${host}`);
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

/** Write a WHATWG `Response` to a `node:http` response, streaming the body. */
export async function writeFetchResponse(response: Response, outgoing: ServerResponse, method = 'GET'): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  outgoing.writeHead(response.status, headers);
  if (response.body === null || method === 'HEAD') {
    outgoing.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value)) await new Promise<void>((resolve) => outgoing.once('drain', resolve));
    }
  } finally {
    outgoing.end();
  }
}

/**
 * Adapt a fetch-style handler to a `node:http` request listener.
 *
 * @example
 * ```ts
 * http.createServer(toNodeListener(telemetry.metricsHandler)).listen(9464);
 * ```
 */
export function toNodeListener(handler: FetchHandler): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  return (incoming, outgoing) => {
    handler(toFetchRequest(incoming))
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
