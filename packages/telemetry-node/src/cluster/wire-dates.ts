/**
 * The cluster IPC channel serialises messages as JSON by default, which turns a `Date` into a
 * string and NaN, ±Infinity into `null`. Model-health records and batches carry dates, and the
 * collected data of scopes other than the helpers' carries any number, so they travel tagged and come
 * back as they were whichever serialisation the application chose for its cluster.
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

const NUMBER_TAG = '@gatewayz/number';

/** Whether JSON carries `value` as it is: NaN and ±Infinity become `null`, −0 becomes 0. */
const jsonSafe = (value: number): boolean => Number.isFinite(value) && !Object.is(value, -0);

/**
 * `value` with every number JSON would not carry exactly (NaN, ±Infinity, −0) replaced by a tagged
 * string, recursively, as {@link encodeDates} does for dates. Collected data of other scopes travels
 * as it was collected (a gauge of NaN, a histogram whose sum is +Inf): under the channel's default
 * `json` serialisation those came out as `null`, which the exposition then wrote, and Prometheus
 * refused the whole scrape. Arrays and objects holding no such number are returned as they are, not
 * copied: the common case costs one walk.
 *
 * @example
 * ```ts
 * send({ head: encodeNonFiniteNumbers(head) }); // { value: NaN } travels as { value: { '@gatewayz/number': 'NaN' } }
 * ```
 */
export function encodeNonFiniteNumbers(value: unknown): unknown {
  if (typeof value === 'number')
    return jsonSafe(value) ? value : { [NUMBER_TAG]: Object.is(value, -0) ? '-0' : String(value) };
  return mapShallow(value, encodeNonFiniteNumbers);
}

/** The inverse of {@link encodeNonFiniteNumbers} (after a trip through either serialisation). */
export function decodeNonFiniteNumbers(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[NUMBER_TAG];
    if (typeof tagged === 'string' && Object.keys(value).length === 1) return Number(tagged);
  }
  return mapShallow(value, decodeNonFiniteNumbers);
}

/**
 * The array or plain object `value` with `map` applied to each item, copied only from the first item
 * `map` changes; anything else as it is.
 */
function mapShallow(value: unknown, map: (item: unknown) => unknown): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const mapped = map(item);
      if (copy !== undefined) copy.push(mapped);
      else if (!Object.is(mapped, item)) (copy = value.slice(0, index)).push(mapped);
    }
    return copy ?? value;
  }
  if (typeof value !== 'object' || value === null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const mapped = map(item);
    if (copy !== undefined) copy[key] = mapped;
    else if (!Object.is(mapped, item)) {
      copy = { ...(value as Record<string, unknown>) };
      copy[key] = mapped;
    }
  }
  return copy ?? value;
}
