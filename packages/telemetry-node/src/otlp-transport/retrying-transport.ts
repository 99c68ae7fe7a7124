/**
 * Retries of an OTLP export within its timeout, for both transports: an attempt whose answer
 * `retryDelay` calls retryable is sent again after the delay it names (the server's, or the
 * exponential, jittered backoff it is given), as long as the next attempt still starts before the
 * export's deadline, at most five times after the first attempt (as the SDK's HTTP transport: a
 * collector that keeps asking for an immediate retry is not called in a tight loop until the
 * timeout). Each attempt is given what is left of the timeout, so no attempt outlasts it. A success
 * hands the request's item count on to the answer's bytes, for the partial-success check.
 */
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { FlushDeadline } from '../flush/flush-deadline.js';
import { carryRequestItems } from '../otlp-metrics/request-items.js';

/** How long to wait between attempts. */
export interface RetryBackoff {
  /** Wait before the first retry, before jitter (default 1000 ms, as the SDK's HTTP transport). */
  initialMillis: number;
  /** Cap on the wait before jitter (default 5000 ms). */
  maxMillis: number;
  /** Growth of the wait per attempt (default 1.5). */
  multiplier: number;
  /** Relative jitter: each wait is scaled by a random factor in `[1 - jitter, 1 + jitter]` (default 0.2). */
  jitter: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = {
  initialMillis: 1000,
  maxMillis: 5000,
  multiplier: 1.5,
  jitter: 0.2,
};

/** Retries after the first attempt, at most: the SDK's HTTP transport allows as many. */
export const DEFAULT_MAX_RETRIES = 5;

/** Options of {@link createRetryingTransport}; the clock and randomness are injectable for tests. */
export interface RetryingTransportOptions {
  backoff?: Partial<RetryBackoff>;
  /** Retries after the first attempt, at most (default 5, as the SDK's HTTP transport). */
  maxRetries?: number;
  /** Uniform in `[0, 1)`; default `Math.random`. */
  random?: () => number;
  /**
   * Milliseconds since some epoch, for the export timeout; default `performance.now()`, which a step
   * of the wall clock does not move (stepped back, `Date.now` stretched the timeout by the step).
   */
  now?: () => number;
  /**
   * The flushes of the signal: an export starting while one runs gets what is left of the timeout
   * counted from the flush's start, so a flush that first waited for an export in flight still ends
   * within one timeout.
   */
  flushDeadline?: FlushDeadline;
}

/**
 * The wait before sending again after `response`, or `undefined` when it is final. `backoffMillis`
 * is the jittered backoff due for this retry, for an answer that names no delay of its own.
 */
export type RetryDelay = (response: ExportResponse, backoffMillis: number) => number | undefined;

class RetryingTransport implements IExporterTransport {
  private readonly backoff: RetryBackoff;
  private readonly maxRetries: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly flushDeadline: FlushDeadline | undefined;

  constructor(
    private readonly transport: IExporterTransport,
    private readonly retryDelay: RetryDelay,
    options: RetryingTransportOptions,
  ) {
    this.backoff = { ...DEFAULT_RETRY_BACKOFF, ...options.backoff };
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    this.flushDeadline = options.flushDeadline;
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const allowedMillis = this.flushDeadline?.remaining(timeoutMillis) ?? timeoutMillis;
    // Not sent at all: a request with no time left would be sent, perhaps taken, and read as timed out.
    if (allowedMillis <= 0)
      return {
        status: 'retryable',
        error: new Error(
          `OTLP export timed out: the flush's ${Math.round(timeoutMillis)} ms had passed before it was sent`,
        ),
      };
    const deadline = this.now() + allowedMillis;
    let backoffMillis = this.backoff.initialMillis;
    for (let retries = 0; ; retries++) {
      const response = await this.transport.send(data, Math.max(deadline - this.now(), 0));
      if (response.status === 'success') {
        // The answer's partial success is capped at the items of this request (request-items.ts).
        if (response.data !== undefined) carryRequestItems(data, response.data);
        return response;
      }
      if (retries >= this.maxRetries) return response;
      const jittered = backoffMillis * (1 + (this.random() * 2 - 1) * this.backoff.jitter);
      const delay = this.retryDelay(response, jittered);
      // A retry that could only start at or after the deadline is not made: the last answer is the result.
      if (delay === undefined || this.now() + delay >= deadline) return response;
      await new Promise<void>((resolve) => setTimeout(resolve, delay));
      // A timer fires late on a busy event loop: an attempt with no time left would be sent, perhaps
      // taken, and still read as timed out.
      if (deadline - this.now() <= 0) return response;
      backoffMillis = Math.min(backoffMillis * this.backoff.multiplier, this.backoff.maxMillis);
    }
  }

  shutdown(): void {
    this.transport.shutdown();
  }
}

/**
 * `transport` retrying the answers `retryDelay` calls retryable within the export timeout. An export
 * that finally fails resolves with its last answer, so the exporter reports one failure per batch,
 * with the reason the collector gave last.
 *
 * @example
 * ```ts
 * const transport = createRetryingTransport(createOtlpHttpTransport(options), (response, backoffMillis) =>
 *   response.status === 'retryable' ? (response.retryInMillis ?? backoffMillis) : undefined,
 * );
 * ```
 */
export function createRetryingTransport(
  transport: IExporterTransport,
  retryDelay: RetryDelay,
  options: RetryingTransportOptions = {},
): IExporterTransport {
  return new RetryingTransport(transport, retryDelay, options);
}
