import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { NO_TIMEOUT_MILLIS } from '../env/standard-variables.js';

/**
 * The `timeoutMs` option of a cluster object: `fallback` when not given (`undefined`), otherwise a
 * number of milliseconds from 1 to 2147483647 (the longest delay a timer keeps). Anything else is
 * a `TelemetryConfigurationError` naming the option (`option`, as the caller's options spell it): a timer given `NaN`, a string or a negative
 * delay fires after 1 ms, so every scrape or store call would time out at once, and one given more
 * than 2^31 − 1 ms fires at once as well.
 */
export function clusterTimeoutMs(value: unknown, fallback: number, option = 'timeoutMs'): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > NO_TIMEOUT_MILLIS) {
    throw new TelemetryConfigurationError(
      option,
      `expected from 1 to ${NO_TIMEOUT_MILLIS} milliseconds (about 24.8 days, the longest delay a timer keeps), got ${typeof value === 'number' || typeof value === 'bigint' ? String(value) : JSON.stringify(value)}`,
    );
  }
  return value;
}
