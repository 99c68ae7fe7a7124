/** A JSON object as the wire formats read it: a record of unknown values. */
export type Json = Record<string, unknown>;

/**
 * Whether `value` is a JSON object (not `null`, not an array), for reading bodies of any shape
 * without throwing.
 *
 * @example
 * ```ts
 * isObject({ role: 'user' }); // true
 * isObject([1, 2]); // false
 * ```
 */
export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether `value` is a string with at least one character (an id, a name). */
export const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';
