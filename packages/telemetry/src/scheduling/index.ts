/**
 * The clock and the non-overlapping periodic task behind the background loops (provider health
 * tracker, model-health recorder, and the health-service poller of `@gatewayz/telemetry-node`).
 * A scheduled run that fails is logged (`diag.warn`, once per run of failures) and the loop goes
 * on. Inject a `TrackerClock` for deterministic tests. `monotonicNow()` is the clock deadlines are
 * measured on, which a step of the wall clock does not move. `requireClockOption()` and
 * `requireTelemetryOption()` check a `clock` or `telemetry` option where it is given, so a wrong one
 * fails with a `TelemetryConfigurationError` naming it instead of a `TypeError` from a timer later.
 *
 * @example
 * ```ts
 * import { startPeriodicTask, systemClock } from '@gatewayz/telemetry/scheduling';
 *
 * const task = startPeriodicTask(async () => poll(), { intervalMs: 30_000, clock: systemClock, runImmediately: true });
 * await task.stop();
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry/scheduling
 */
export { startPeriodicTask, systemClock } from './periodic-task.js';
export { monotonicNow } from './monotonic-now.js';
export type { PeriodicTask, TrackerClock } from './periodic-task.js';
export { requireClockOption, requireTelemetryOption } from '../option-checks.js';
