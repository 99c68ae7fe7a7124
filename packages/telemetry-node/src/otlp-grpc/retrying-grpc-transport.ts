/**
 * Retries for OTLP/gRPC exports, as the OTLP specification asks of a gRPC client: a call that
 * failed with a retryable status is sent again after an exponential, jittered backoff (or after the
 * delay the server's `google.rpc.RetryInfo` names), as long as the next attempt still starts within
 * the export timeout, at most five times after the first attempt (as the SDK's HTTP transport: a
 * collector that keeps asking for an immediate retry is not called in a tight loop until the
 * timeout). The SDK's gRPC transport sends once; this wraps it.
 */
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
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

/** How long to wait between attempts. */
export interface GrpcRetryBackoff {
  /** Wait before the first retry, before jitter (default 1000 ms, as the SDK's HTTP transport). */
  initialMillis: number;
  /** Cap on the wait before jitter (default 5000 ms). */
  maxMillis: number;
  /** Growth of the wait per attempt (default 1.5). */
  multiplier: number;
  /** Relative jitter: each wait is scaled by a random factor in `[1 - jitter, 1 + jitter]` (default 0.2). */
  jitter: number;
}

export const DEFAULT_GRPC_RETRY_BACKOFF: GrpcRetryBackoff = {
  initialMillis: 1000,
  maxMillis: 5000,
  multiplier: 1.5,
  jitter: 0.2,
};

/** Retries after the first attempt, at most: the SDK's HTTP transport allows as many. */
export const DEFAULT_GRPC_MAX_RETRIES = 5;

/** Options for {@link createRetryingGrpcTransport}; the clock and randomness are injectable for tests. */
export interface RetryingGrpcTransportOptions {
  backoff?: Partial<GrpcRetryBackoff>;
  /** Retries after the first attempt, at most (default 5, as the SDK's HTTP transport). */
  maxRetries?: number;
  /** Uniform in `[0, 1)`; default `Math.random`. */
  random?: () => number;
  /**
   * Milliseconds since some epoch, for the export timeout; default `performance.now()`, which a step
   * of the wall clock does not move (stepped back, `Date.now` stretched the timeout by the step).
   */
  now?: () => number;
}

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

class RetryingGrpcTransport implements IExporterTransport {
  private readonly backoff: GrpcRetryBackoff;
  private readonly maxRetries: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    private readonly transport: IExporterTransport,
    options: RetryingGrpcTransportOptions,
  ) {
    this.backoff = { ...DEFAULT_GRPC_RETRY_BACKOFF, ...options.backoff };
    this.maxRetries = options.maxRetries ?? DEFAULT_GRPC_MAX_RETRIES;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = this.now() + timeoutMillis;
    let backoffMillis = this.backoff.initialMillis;
    for (let retries = 0; ; retries++) {
      // Each attempt's gRPC deadline is what is left of the export timeout, so retries never outlast it.
      const response = await this.transport.send(data, Math.max(deadline - this.now(), 0));
      if (response.status !== 'failure' || retries >= this.maxRetries) return response;
      const jittered = backoffMillis * (1 + (this.random() * 2 - 1) * this.backoff.jitter);
      const delay = grpcRetryDelayMillis(response.error, jittered);
      // A retry that could only start at or after the deadline is not made: the last answer is the result.
      if (delay === undefined || this.now() + delay >= deadline) return response;
      await new Promise<void>((resolve) => setTimeout(resolve, delay));
      backoffMillis = Math.min(backoffMillis * this.backoff.multiplier, this.backoff.maxMillis);
    }
  }

  shutdown(): void {
    this.transport.shutdown();
  }
}

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
  options: RetryingGrpcTransportOptions = {},
): IExporterTransport {
  return new RetryingGrpcTransport(transport, options);
}
