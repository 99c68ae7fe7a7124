import type { DropReason, MetricState } from './recorder-types.js';

/**
 * Why `value` cannot be recorded in `state`, or undefined when it can: not a number, not finite,
 * outside the metric's range, or a fraction for a metric of whole numbers (`integer` in its catalog
 * entry). The record path's one check: a number inside the range costs three comparisons, plus one
 * `Number.isInteger` for the metrics that count whole things.
 */
export function valueProblem(state: MetricState, value: number): DropReason | undefined {
  if (typeof value !== 'number' || Number.isNaN(value)) return 'not_a_number';
  if (value === Infinity || value === -Infinity) return 'not_finite';
  // A counter only goes up, whether or not its catalog entry spells out a range (see `range`).
  const range = state.range;
  if (
    range !== undefined &&
    ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max))
  )
    return 'out_of_range';
  if (state.integer && !Number.isInteger(value)) return 'not_an_integer';
  return undefined;
}

/** The message of a value `valueProblem()` refused for `reason`. */
export function valueProblemMessage(state: MetricState, value: unknown, reason: DropReason): string {
  const range = state.range;
  switch (reason) {
    case 'not_a_number':
      return `${state.name} got ${String(value)} instead of a number`;
    case 'not_finite':
      return `${state.name} got ${String(value)}; values must be finite`;
    case 'not_an_integer':
      return `${state.name} got ${String(value)}; it counts whole things, so values must be integers`;
    default:
      return `${state.name} got ${String(value)}; expected a value in [${range?.min ?? '-inf'}, ${range?.max ?? '+inf'}]`;
  }
}

/**
 * Why `value` is not a whole number from `min` to `max` (a token count, a port), or undefined when
 * it is one: the reasons of `gatewayz_telemetry_dropped_total` for a count given outside a metric's
 * own value (a record's `outputTokens`, a span attribute).
 */
export function wholeNumberProblem(value: unknown, min: number, max: number): DropReason | undefined {
  if (typeof value !== 'number' || Number.isNaN(value)) return 'not_a_number';
  if (value === Infinity || value === -Infinity) return 'not_finite';
  if (value < min || value > max) return 'out_of_range';
  return Number.isInteger(value) ? undefined : 'not_an_integer';
}
