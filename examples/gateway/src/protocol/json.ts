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

/**
 * Deepest nesting of objects and arrays the gateway takes in a JSON body, a request's or a
 * provider's answer (the body itself is level 1). JSON schemas in `tools` and `response_format`
 * rarely pass 20 levels; bodies go on to code that recurses over them (`JSON.stringify` when they
 * are sent on, among others), which a few thousand levels overflow. The bound is serde_json's
 * (Rust) default recursion limit too.
 */
export const MAX_JSON_DEPTH = 128;

/** Whether `root` (level 1) holds objects or arrays more than `limit` levels deep; iterative, so no depth overflows it. */
export function nestsDeeperThan(root: object, limit: number): boolean {
  const pending: object[] = [root];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const value = pending.pop() as Record<string, unknown> | unknown[];
    const childDepth = (depths.pop() as number) + 1;
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (typeof child !== 'object' || child === null) continue;
      if (childDepth > limit) return true;
      pending.push(child);
      depths.push(childDepth);
    }
  }
  return false;
}
