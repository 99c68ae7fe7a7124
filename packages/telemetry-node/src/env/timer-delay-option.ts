import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { NO_TIMEOUT_MILLIS } from './standard-variables.js';

/**
 * An option given in code that becomes a timer's delay (a timeout, a polling interval): `fallback`
 * when not given (`undefined`), otherwise a number of milliseconds from `min` to 2147483647 (the
 * longest delay a timer keeps). Anything else, `null` included, is a `TelemetryConfigurationError`
 * naming `option` as the caller's options spell it: a timer given `NaN`, a string or a negative
 * delay fires after 1 ms, and one given more than 2^31 − 1 ms fires at once as well.
 */
export function timerDelayOption(value: unknown, fallback: number, option: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > NO_TIMEOUT_MILLIS) {
    throw new TelemetryConfigurationError(
      option,
      `expected from ${min} to ${NO_TIMEOUT_MILLIS} milliseconds (about 24.8 days, the longest delay a timer keeps), got ${typeof value === 'number' || typeof value === 'bigint' ? String(value) : JSON.stringify(value)}`,
    );
  }
  return value;
}
