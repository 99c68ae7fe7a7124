import { diag } from '@opentelemetry/api';

/**
 * How the metrics endpoints may encode an exposition: `gzip` when the scraper's `Accept-Encoding`
 * allows it (Prometheus always sends `Accept-Encoding: gzip`), or `none` to always answer
 * uncompressed (e.g. behind a proxy that compresses on its own).
 *
 * @example
 * ```ts
 * const compression: MetricsCompression = 'none';
 * createMetricsHandler({ source: exporter, compression });
 * ```
 */
export type MetricsCompression = 'gzip' | 'none';

/**
 * Expositions shorter than this are sent uncompressed: below it gzip's framing (18 bytes) and the
 * cost of a zlib stream outweigh the bytes saved (measured in docs/benchmarks.md, "Scrape compression").
 *
 * @example
 * ```ts
 * const compressed = bodyLength >= GZIP_MIN_BYTES;
 * ```
 */
export const GZIP_MIN_BYTES = 1024;

/**
 * Whether an `Accept-Encoding` header lets the response be gzip-coded (RFC 9110 §12.5.3): `gzip`
 * (or its alias `x-gzip`), else `*`, with a weight above 0 and at least the weight the header gives
 * `identity` (or `*` when it names no `identity`).
 *
 * @example
 * ```ts
 * acceptsGzip('gzip'); // true: what Prometheus sends
 * acceptsGzip('gzip;q=0, identity'); // false
 * acceptsGzip('br;q=1.0, gzip;q=0.8, *;q=0.1'); // true
 * ```
 */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (acceptEncoding === null || acceptEncoding.trim() === '') return false;
  const weights = new Map<string, number>();
  for (const element of acceptEncoding.split(',')) {
    const [coding = '', ...parameters] = element.split(';');
    const name = coding.trim().toLowerCase();
    if (name === '') continue;
    let quality = 1;
    for (const parameter of parameters) {
      const [key = '', value = ''] = parameter.split('=');
      if (key.trim().toLowerCase() !== 'q') continue;
      const parsed = Number(value.trim());
      // An unreadable weight makes the element unusable, as a malformed element would be.
      quality = value.trim() !== '' && Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
    }
    weights.set(name, Math.max(weights.get(name) ?? 0, quality));
  }
  const gzip = weights.get('gzip') ?? weights.get('x-gzip') ?? weights.get('*') ?? 0;
  // Identity competes only with the weight the header gives it (or `*`): a header that lists gzip
  // and says nothing of identity asks for gzip.
  const identity = weights.get('identity') ?? weights.get('*') ?? 0;
  return gzip > 0 && gzip >= identity;
}

/**
 * A response body written piece by piece, yielding to the event loop between pieces, so serialising
 * a large registry never blocks other requests for long.
 */
function streamChunks(first: readonly string[], rest: Iterator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let buffered = first.length > 0 ? first.join('') : undefined;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (buffered !== undefined) {
        controller.enqueue(encoder.encode(buffered));
        buffered = undefined;
        return;
      }
      if (started) await new Promise<void>((resolve) => setImmediate(resolve));
      started = true;
      try {
        const next = rest.next();
        if (next.done === true) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        diag.error('@gatewayz/telemetry-node: serialising metrics failed', error);
        controller.error(error);
      }
    },
    cancel() {
      rest.return?.();
    },
  });
}

/**
 * The body of an exposition and its `Content-Encoding` (undefined for identity). With `gzip`, the
 * chunks are compressed by a zlib stream (its work runs on libuv's thread pool, not the event loop)
 * as they are produced; an exposition whose whole text is shorter than {@link GZIP_MIN_BYTES} is sent
 * as is. The first chunks (at least {@link GZIP_MIN_BYTES} characters) are read before the answer
 * starts, with or without gzip: to know which case applies, and so that a failure there throws and
 * the handler answers 500 while nothing is sent yet. A later failure aborts the body.
 */
export function encodeExposition(
  chunks: Iterator<string>,
  gzip: boolean,
): { body: ReadableStream<Uint8Array>; contentEncoding: 'gzip' | undefined } {
  const first: string[] = [];
  let length = 0;
  let done = false;
  // Characters, not bytes: a UTF-8 body is at least this long.
  while (length < GZIP_MIN_BYTES) {
    const next = chunks.next();
    if (next.done === true) {
      done = true;
      break;
    }
    first.push(next.value);
    length += next.value.length;
  }
  const body = streamChunks(first, chunks);
  if (!gzip || (done && Buffer.byteLength(first.join('')) < GZIP_MIN_BYTES))
    return { body, contentEncoding: undefined };
  // DOM typings declare the writable side as BufferSource; Node's accepts the Uint8Arrays we write.
  const gzipStream = new CompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
  return { body: body.pipeThrough(gzipStream), contentEncoding: 'gzip' };
}
