import { diag } from '@opentelemetry/api';
import { peekTelemetry } from '../metrics/shared-telemetry.js';
import type { DropReason } from '../metrics/recorder-types.js';
import { wholeNumberProblem } from '../metrics/value-problem.js';

/*
 * The typed values of the GenAI span and event attributes, checked: callers in plain JavaScript
 * forward wire values as they come (OpenAI's `stop` is a string, an array or null; a port read from
 * a URL is a string), and an attribute the conventions type `int` or `string[]` must not carry a
 * string, a fraction or a list of characters. A value of the wrong type is left out, counted in the
 * shared instance's `gatewayz_telemetry_dropped_total{reason,metric="<attribute>"}` (the span helpers
 * take a tracer, not an instance) and warned about once per attribute and reason; never thrown.
 * `undefined` and `null` mean "not given": left out, not counted.
 */

/** The highest port number, the bound of `server.port`. */
export const MAX_PORT = 65_535;

/** Whether `value` is a string with something in it: from plain JavaScript, a field may hold anything. */
export function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Attribute and reason pairs already warned about (one warning each for the process). */
const warned = new Set<string>();

function describe(value: unknown): string {
  return typeof value === 'string' ? `the string "${value.slice(0, 32)}"` : String(value);
}

/** Count `attribute` left out for `reason` and warn once; always undefined. */
function leaveOut(attribute: string, reason: DropReason, value: unknown, expected: string): undefined {
  peekTelemetry()?.add('telemetryDropped', 1, { reason, metric: attribute });
  const key = `${attribute}\u0000${reason}`;
  if (warned.has(key)) return undefined;
  warned.add(key);
  diag.warn(
    `@gatewayz/telemetry: ${attribute} left out of a GenAI span or event: expected ${expected}, got ${describe(value)} (${reason}). Further ones are counted in the telemetry_dropped self-metric{reason="${reason}",metric="${attribute}"} without a warning.`,
  );
  return undefined;
}

/**
 * `value` when it is an integer from `min` to `max` (by default a count: 0 to
 * `Number.MAX_SAFE_INTEGER`); undefined otherwise, counted unless it was not given.
 */
export function wholeNumberAttribute(
  attribute: string,
  value: unknown,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = wholeNumberProblem(value, min, max);
  if (problem === undefined) return value as number;
  return leaveOut(attribute, problem, value, `an integer from ${min} to ${max}`);
}

/** `value` when it is a finite number of at least `min`; undefined otherwise, counted unless it was not given. */
export function finiteNumberAttribute(attribute: string, value: unknown, min = -Infinity): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) return leaveOut(attribute, 'not_a_number', value, 'a number');
  if (value === Infinity || value === -Infinity) return leaveOut(attribute, 'not_finite', value, 'a finite number');
  if (value < min) return leaveOut(attribute, 'out_of_range', value, `a number of at least ${min}`);
  return value;
}

/**
 * A copy of `value` when it is an array of strings, or `[value]` for one string (as OpenAI's `stop`
 * may be); undefined otherwise, counted (`not_an_array`) unless it was not given.
 */
export function stringListAttribute(attribute: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    const list: string[] = [];
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (typeof item !== 'string') return leaveOut(attribute, 'not_an_array', value, 'an array of strings');
      list.push(item);
    }
    return list;
  }
  return leaveOut(attribute, 'not_an_array', value, 'an array of strings, or one string');
}
