/**
 * The cluster IPC channel serialises messages as JSON by default, which turns a `Date` into a
 * string. Model-health records and batches carry dates, so they travel tagged and come back as
 * `Date`s whichever serialisation the application chose for its cluster.
 */

const DATE_TAG = '@gatewayz/date';

/** `value` with every `Date` replaced by a tagged ISO string, recursively. */
export function encodeDates(value: unknown): unknown {
  if (value instanceof Date) return { [DATE_TAG]: value.toISOString() };
  if (Array.isArray(value)) return value.map(encodeDates);
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) copy[key] = encodeDates(field);
    return copy;
  }
  return value;
}

/** The inverse of {@link encodeDates}. */
export function decodeDates(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeDates);
  if (typeof value === 'object' && value !== null) {
    const tagged = (value as Record<string, unknown>)[DATE_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) return new Date(tagged);
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) copy[key] = decodeDates(field);
    return copy;
  }
  return value;
}
