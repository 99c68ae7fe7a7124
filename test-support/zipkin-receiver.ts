/**
 * A minimal in-process Zipkin v2 receiver for integration tests: `POST /api/v2/spans` with a JSON
 * array of Zipkin v2 spans (what `@opentelemetry/exporter-zipkin` sends), answered `202` as a Zipkin
 * server does. Every request is recorded, whatever its path, so a test can also assert that a
 * receiver got nothing.
 *
 * ```ts
 * const zipkin = await startZipkinReceiver();
 * // OTEL_EXPORTER_ZIPKIN_ENDPOINT=zipkin.url ... produce spans, flush ...
 * const spans = await zipkin.waitForSpans((s) => s.some((x) => x.name === 'chat'));
 * await zipkin.close();
 * ```
 *
 * @packageDocumentation
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One span as the Zipkin v2 JSON API carries it (the fields the tests read). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp: number;
  duration: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** One HTTP request the receiver saw. */
export interface ZipkinRequestRecord {
  method: string;
  path: string;
  contentType: string | undefined;
}

/** A running receiver from {@link startZipkinReceiver}. */
export interface ZipkinReceiver {
  /** `http://127.0.0.1:<port>/api/v2/spans`, as for `OTEL_EXPORTER_ZIPKIN_ENDPOINT`. */
  url: string;
  /** Spans received so far (copy), in arrival order. */
  spans(): ZipkinSpan[];
  /** Every request seen (copy). */
  requests(): ZipkinRequestRecord[];
  /** Read the next `count` requests' bodies and never answer them (a collector that hangs). */
  hangNext(count: number): void;
  /** Polls (every 25 ms) until `predicate(spans)` holds; rejects after `timeoutMs` (default 10,000). */
  waitForSpans(predicate: (spans: ZipkinSpan[]) => boolean, timeoutMs?: number): Promise<ZipkinSpan[]>;
  /** Stops the server, closing open connections (hung ones included). Idempotent. */
  close(): Promise<void>;
}

export async function startZipkinReceiver(): Promise<ZipkinReceiver> {
  const spans: ZipkinSpan[] = [];
  const requests: ZipkinRequestRecord[] = [];
  let hanging = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'],
      });
      if (hanging > 0) {
        hanging--;
        return;
      }
      if (request.method !== 'POST' || request.url !== '/api/v2/spans') {
        response.writeHead(404).end();
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      if (!Array.isArray(body)) {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"expected a JSON array"}');
        return;
      }
      spans.push(...(body as ZipkinSpan[]));
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    spans: () => [...spans],
    requests: () => [...requests],
    hangNext: (count) => void (hanging += count),
    async waitForSpans(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate([...spans])) {
        if (Date.now() > deadline)
          throw new Error(`Zipkin receiver: timed out; got ${JSON.stringify(spans.map((span) => span.name))}`);
        await sleep(25);
      }
      return [...spans];
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
