/**
 * One OTLP/HTTP export attempt, bounded by its timeout from start to end. The SDK's own transport
 * gives the request an idle timeout only (`request.setTimeout`): a collector that answers and then
 * sends its body a byte at a time, never finishing, holds the attempt, the exporter's
 * `forceFlush()` and `shutdown()`, and so a process's exit, for ever. This one sends the same
 * request (headers, `User-Agent`, gzip), reads the answer the same way (2xx a success with its body
 * for the partial-success check, 429/502/503/504 retryable, a body over 4 MB a failure) and ends
 * the attempt when its time is up, whatever is still arriving.
 */
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { parseRetryAfterSeconds } from '@gatewayz/telemetry/rate-limits';
import { OTLPExporterError, type ExportResponse, type IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { OtlpHttpDelegateOptions } from '../env/otlp-exporter-config.js';

const gzipAsync = promisify(gzip);

/** The largest answer body read: as the SDK's transport, a larger one fails the attempt. */
export const MAX_RESPONSE_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The version of `@opentelemetry/otlp-exporter-base` (pinned exactly in package.json) whose request
 * this transport sends, named in the `User-Agent` as the SDK's transport names it.
 */
export const OTLP_EXPORTER_BASE_VERSION = '0.223.0';
const USER_AGENT = `OTel-OTLP-Exporter-JavaScript/${OTLP_EXPORTER_BASE_VERSION}`;

/** The statuses the OTLP/HTTP specification calls retryable. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Network errors worth another attempt (as the SDK's transport): the collector may be back. */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/**
 * The wait a `Retry-After` header asks for, in milliseconds: a positive whole number of seconds, or
 * an HTTP date still ahead of `now` (read by `parseRetryAfterSeconds`, as the rate-limit headers of
 * providers are). `undefined` when it names no wait (absent, unreadable, `0`, a negative or
 * fractional number, a date passed): the retry then waits the backoff, where the SDK retried at
 * once and called such a collector five times within milliseconds.
 */
export function retryAfterMillis(header: string | undefined, now: number = Date.now()): number | undefined {
  const text = header?.trim();
  // RFC 9110's delay-seconds are whole; the shared parser also takes a provider's "1.5".
  if (text === undefined || text.includes('.')) return undefined;
  const seconds = parseRetryAfterSeconds(text, now);
  return seconds !== undefined && seconds > 0 ? seconds * 1000 : undefined;
}

/** The outcome of an answer whose status line and headers have arrived, with `body` read so far. */
function outcomeOf(answer: IncomingMessage, body: Buffer | undefined): ExportResponse {
  const status = answer.statusCode ?? 0;
  if (status >= 200 && status <= 299)
    return body === undefined ? { status: 'success' } : { status: 'success', data: body };
  const error = new OTLPExporterError(answer.statusMessage, status, body?.toString('utf8') ?? '');
  if (!RETRYABLE_STATUSES.has(status)) return { status: 'failure', error };
  const retryInMillis = retryAfterMillis(answer.headers['retry-after']);
  return retryInMillis === undefined ? { status: 'retryable', error } : { status: 'retryable', error, retryInMillis };
}

type RequestFunction = typeof httpRequest;

class OtlpHttpTransport implements IExporterTransport {
  private agent: Promise<HttpAgent | HttpsAgent> | undefined;
  private readonly request: RequestFunction;

  constructor(private readonly options: OtlpHttpDelegateOptions) {
    this.request = new URL(options.url).protocol === 'https:' ? httpsRequest : httpRequest;
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const started = performance.now();
    const remaining = (): number => Math.max(timeoutMillis - (performance.now() - started), 0);
    // A factory that failed is asked again at the next export, as the SDK's transport does.
    this.agent ??= Promise.resolve(this.options.agentFactory(new URL(this.options.url).protocol)).catch(
      (error: unknown) => {
        this.agent = undefined;
        throw error;
      },
    );
    const [agent, headers, body] = await Promise.all([
      this.agent,
      this.options.headers(),
      this.options.compression === 'gzip'
        ? gzipAsync(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    ]);
    const userAgent = this.options.userAgent === undefined ? USER_AGENT : `${this.options.userAgent} ${USER_AGENT}`;
    return new Promise<ExportResponse>((resolve) => {
      let answer: IncomingMessage | undefined;
      let settled = false;
      const settle = (response: ExportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(response);
      };
      const outgoing = this.request(
        this.options.url,
        {
          method: 'POST',
          agent,
          headers: {
            ...headers,
            ...(this.options.compression === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}),
            'Content-Length': body.byteLength,
            'User-Agent': userAgent,
          },
        },
        (incoming) => {
          answer = incoming;
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > MAX_RESPONSE_BODY_BYTES) {
              settle({
                status: 'failure',
                error: new Error(`OTLP export response body exceeded size limit of ${MAX_RESPONSE_BODY_BYTES} bytes`),
              });
              incoming.destroy();
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('end', () => settle(outcomeOf(incoming, Buffer.concat(chunks))));
          // The body broke off: the status stands (a 2xx was accepted, only its details are lost).
          incoming.on('error', () => settle(outcomeOf(incoming, undefined)));
        },
      );
      const deadline = setTimeout(() => {
        // An answer whose status arrived keeps it; without one the collector did not answer in time.
        settle(
          answer !== undefined
            ? outcomeOf(answer, undefined)
            : {
                status: 'retryable',
                error: new Error(`OTLP export request timed out after ${Math.round(timeoutMillis)} ms`),
              },
        );
        outgoing.destroy();
      }, remaining());
      outgoing.on('error', (error: Error & { code?: unknown }) => {
        // A reset after the status arrived (Node reports it on the request first): the status stands.
        if (answer !== undefined) settle(outcomeOf(answer, undefined));
        else
          settle(
            typeof error.code === 'string' && RETRYABLE_NETWORK_CODES.has(error.code)
              ? { status: 'retryable', error }
              : { status: 'failure', error },
          );
      });
      outgoing.end(body);
    });
  }

  shutdown(): void {
    // The agent is the caller's (its options) and is left as it is, as the SDK's transport does.
  }
}

/**
 * An OTLP/HTTP transport for `options` (the SDK's resolved delegate options: URL, headers, agent,
 * compression, `User-Agent` prefix) whose attempts end within their timeout.
 *
 * @example
 * ```ts
 * const transport = createOtlpHttpTransport(convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', {}));
 * ```
 */
export function createOtlpHttpTransport(options: OtlpHttpDelegateOptions): IExporterTransport {
  return new OtlpHttpTransport(options);
}
