/**
 * Latency at or below which the latency score is 1 (seconds).
 *
 * @example
 * ```ts
 * latencyScore(LATENCY_SCORE_FULL_SECONDS); // 1
 * ```
 */
export const LATENCY_SCORE_FULL_SECONDS = 2;
/**
 * Latency at or above which the latency score is 0 (seconds).
 *
 * @example
 * ```ts
 * latencyScore(LATENCY_SCORE_ZERO_SECONDS); // 0
 * ```
 */
export const LATENCY_SCORE_ZERO_SECONDS = 10;

/**
 * Inputs of the composite provider health score.
 *
 * @example
 * ```ts
 * const inputs: ProviderHealthInputs = { availability: 1, errorRate: 0.05, responseTimeSeconds: 0.8 };
 * setProviderHealthScore('openai', providerHealthScore(inputs));
 * ```
 */
export interface ProviderHealthInputs {
  /** 1 when the provider is available, 0 when not (fractions allowed). */
  availability: number;
  /** Share of failed calls, 0-1. */
  errorRate: number;
  /** Mean response time in seconds. */
  responseTimeSeconds: number;
}

function requireFinite(name: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
}

/**
 * Latency score: 1 at or below 2 s, falling linearly to 0 at 10 s, 0 above. Throws a `RangeError`
 * for a negative or non-finite time.
 *
 * @example
 * ```ts
 * latencyScore(1.2); // 1
 * latencyScore(6);   // 0.5
 * ```
 */
export function latencyScore(responseTimeSeconds: number): number {
  requireFinite('responseTimeSeconds', responseTimeSeconds, 0, Number.MAX_VALUE);
  if (responseTimeSeconds <= LATENCY_SCORE_FULL_SECONDS) return 1;
  if (responseTimeSeconds >= LATENCY_SCORE_ZERO_SECONDS) return 0;
  return (LATENCY_SCORE_ZERO_SECONDS - responseTimeSeconds) / (LATENCY_SCORE_ZERO_SECONDS - LATENCY_SCORE_FULL_SECONDS);
}

/**
 * Composite provider health score in [0, 1]:
 * `0.4 * availability + 0.3 * (1 - errorRate) + 0.3 * latencyScore(responseTimeSeconds)`.
 * Throws a `RangeError` for inputs outside their ranges.
 *
 * @example
 * ```ts
 * providerHealthScore({ availability: 1, errorRate: 0.05, responseTimeSeconds: 0.8 }); // ≈ 0.985
 * ```
 */
export function providerHealthScore(inputs: ProviderHealthInputs): number {
  requireFinite('availability', inputs.availability, 0, 1);
  requireFinite('errorRate', inputs.errorRate, 0, 1);
  return 0.4 * inputs.availability + 0.3 * (1 - inputs.errorRate) + 0.3 * latencyScore(inputs.responseTimeSeconds);
}
