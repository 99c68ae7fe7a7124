/**
 * Which OTLP/gRPC answers are retried, as the OTLP specification asks of a gRPC client: the
 * retryable statuses, after the delay the server's `google.rpc.RetryInfo` names or else the backoff
 * of the shared retry loop (`otlp-transport/retrying-transport.ts`). The SDK's gRPC transport sends
 * once; this wraps it in that loop.
 */
import type { IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import {
  createRetryingTransport,
  type RetryDelay,
  type RetryingTransportOptions,
} from '../otlp-transport/retrying-transport.js';
import { isGrpcStatusError, serverRetryDelayMillis } from './grpc-retry-info.js';

// gRPC status codes (values fixed by the gRPC protocol), named here so `@grpc/grpc-js` stays unloaded until the first send.
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const OUT_OF_RANGE = 11;
const UNAVAILABLE = 14;
const DATA_LOSS = 15;

/** The codes the OTLP specification lists as retryable; RESOURCE_EXHAUSTED only with RetryInfo. */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  CANCELLED,
  DEADLINE_EXCEEDED,
  ABORTED,
  OUT_OF_RANGE,
  UNAVAILABLE,
  DATA_LOSS,
]);

/**
 * The wait before retrying a call that failed with `error`, or `undefined` when it must not be
 * retried: a non-gRPC error (no connection could even be attempted), a code the specification
 * does not call retryable, or RESOURCE_EXHAUSTED without RetryInfo (the server is out of quota
 * rather than overloaded).
 */
export function grpcRetryDelayMillis(error: unknown, backoffMillis: number): number | undefined {
  if (!isGrpcStatusError(error)) return undefined;
  const serverDelay = serverRetryDelayMillis(error);
  if (error.code === RESOURCE_EXHAUSTED) return serverDelay;
  if (!RETRYABLE_CODES.has(error.code)) return undefined;
  return serverDelay ?? backoffMillis;
}

/** A gRPC answer's wait: the server's RetryInfo or the backoff, for a retryable status only. */
const grpcRetryDelay: RetryDelay = (response, backoffMillis) =>
  response.status === 'failure' ? grpcRetryDelayMillis(response.error, backoffMillis) : undefined;

/**
 * `transport` with OTLP/gRPC retries. A call that finally fails resolves with its last failure (the
 * gRPC error with its status code), so the exporter reports one failure per batch, with the
 * reason the collector gave last.
 *
 * @example
 * ```ts
 * const transport = createRetryingGrpcTransport(createOtlpGrpcExporterTransport(parameters));
 * ```
 */
export function createRetryingGrpcTransport(
  transport: IExporterTransport,
  options: RetryingTransportOptions = {},
): IExporterTransport {
  return createRetryingTransport(transport, grpcRetryDelay, options);
}
