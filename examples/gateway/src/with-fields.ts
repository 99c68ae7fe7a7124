/**
 * `{ ...base, ...fields }`, made by copying both into a new object. On Node 20 (V8 11.3) an object
 * literal that begins with the spread of a non-empty object and then gains more properties
 * (`{ ...body, stream: false }`) builds new hidden classes at every evaluation: about 1-2.6 µs and
 * 150-200 bytes of old space each time, where `Object.assign` (and any literal on Node 22) takes
 * about 30-60 ns and none (docs/benchmarks.md). The request path uses this instead.
 */
export function withFields<T extends object, U extends object>(base: T, fields: U): Omit<T, keyof U> & U {
  return Object.assign({}, base, fields);
}
