/**
 * Base-2 exponential bucket histograms, as the OpenTelemetry metrics data model defines them: at
 * scale `s` the buckets' bounds are powers of `2^(2^-s)`, bucket `i` holding the values in
 * `(base^i, base^(i+1)]`. A series starts at the finest scale allowed and halves its resolution
 * (scale − 1 merges each pair of neighbouring buckets) whenever its values would need more than
 * `maxSize` buckets, so it covers any range in bounded memory: at scale 3 the bounds are 9 % apart
 * and 160 buckets span 1 ms to 1,000 s.
 */
import { TelemetryConfigurationError } from '../errors.js';

/**
 * The finest scale the data model allows, and the scale a series starts at by default.
 *
 * @example
 * ```ts
 * new GatewayTelemetry({ exportVia: 'producer', exponentialHistograms: { maxScale: MAX_EXPONENTIAL_SCALE } });
 * ```
 */
export const MAX_EXPONENTIAL_SCALE = 20;
/**
 * The coarsest scale the data model allows (bucket bounds `2^(1024 i)`: every double fits in two buckets).
 *
 * @example
 * ```ts
 * exponentialBucketIndex(Number.MAX_VALUE, MIN_EXPONENTIAL_SCALE); // 0
 * ```
 */
export const MIN_EXPONENTIAL_SCALE = -10;
/**
 * The specification's default for `MaxSize`: buckets per sign before the scale goes down.
 *
 * @example
 * ```ts
 * new GatewayTelemetry({ exportVia: 'producer', exponentialHistograms: { maxSize: 2 * DEFAULT_EXPONENTIAL_MAX_SIZE } });
 * ```
 */
export const DEFAULT_EXPONENTIAL_MAX_SIZE = 160;

/**
 * Limits of the exponential aggregation: at most `maxSize` buckets per sign, starting at `maxScale`.
 *
 * @example
 * ```ts
 * const limits: ExponentialHistogramLimits = { maxSize: 160, maxScale: 20 }; // the specification's defaults
 * ```
 */
export interface ExponentialHistogramLimits {
  /** Buckets per sign before the scale goes down. Integer, 2 to 16 384. Default 160. */
  readonly maxSize: number;
  /** The scale a series starts at. Integer, −10 to 20. Default 20. */
  readonly maxScale: number;
}

/**
 * Bucket counts of one sign: `counts[k]` counts the values of bucket index `offset + k`.
 *
 * @example
 * ```ts
 * const buckets: ExponentialBuckets = { offset: -3, counts: [1, 0, 2] }; // indices -3 and -1
 * ```
 */
export interface ExponentialBuckets {
  /** Bucket index of `counts[0]`. */
  readonly offset: number;
  /** Observations per bucket, from index `offset` up. */
  readonly counts: readonly number[];
}

/**
 * One series' exponential histogram, read at collection time.
 *
 * @example
 * ```ts
 * const state: ExponentialHistogramState | undefined = cell.exponentialHistogram;
 * if (state !== undefined) console.log(state.scale, state.positive.offset, state.positive.counts);
 * ```
 */
export interface ExponentialHistogramState {
  /** Bucket `i` holds the values in `(2^(i·2^-scale), 2^((i+1)·2^-scale)]`. */
  readonly scale: number;
  /** Observations equal to zero. */
  readonly zeroCount: number;
  /** Buckets of the positive values. */
  readonly positive: ExponentialBuckets;
  /** Buckets of the negative values, by magnitude. */
  readonly negative: ExponentialBuckets;
  /** Number of observations, zeros included. */
  readonly count: number;
  /** Sum of the observed values. */
  readonly sum: number;
  /** Smallest observed value (`Infinity` before the first). */
  readonly min: number;
  /** Largest observed value (`-Infinity` before the first). */
  readonly max: number;
}

// IEEE 754 double: 52 bits of significand, an 11-bit exponent biased by 1023.
const SIGNIFICAND_BITS_HIGH = 0x000fffff;
const MIN_NORMAL_EXPONENT = -1022;
const bits = new DataView(new ArrayBuffer(8));

/**
 * The bucket index of `value` (finite, > 0) at `scale`: the `i` with `base^i < value <= base^(i+1)`.
 * Exact for every scale ≤ 0 and for powers of two; above 0 it uses the logarithm, so a value within
 * a rounding error of a bound may land in the neighbouring bucket, as the specification allows.
 * Subnormal values count as the smallest normal one. Allocates nothing.
 *
 * @example
 * ```ts
 * exponentialBucketIndex(4, 0); // 1: (2, 4]
 * exponentialBucketIndex(3, 1); // 3: (2^1.5, 4]
 * ```
 */
export function exponentialBucketIndex(value: number, scale: number): number {
  return indexAt(value, scale, 2 ** scale);
}

/** {@link exponentialBucketIndex} with `power = 2^scale` given (the record path keeps it per scale). */
function indexAt(value: number, scale: number, power: number): number {
  // value = 2^exponent · (1 + fraction); a zero fraction is an exact power of two.
  bits.setFloat64(0, value);
  const high = bits.getUint32(0);
  const biased = (high >>> 20) & 0x7ff;
  const exponent = biased === 0 ? MIN_NORMAL_EXPONENT : biased - 1023;
  const powerOfTwo = biased === 0 || ((high & SIGNIFICAND_BITS_HIGH) === 0 && bits.getUint32(4) === 0);
  if (scale <= 0) {
    // A power of two is the upper bound of the bucket below its exponent's.
    const exact = powerOfTwo ? exponent - 1 : exponent;
    return exact >> -scale;
  }
  if (powerOfTwo) return exponent * power - 1;
  const index = Math.floor(Math.log(value) * (Math.LOG2E * power));
  // The logarithm's rounding never moves a value past its exponent's first or last bucket.
  const lowest = exponent * power;
  const highest = lowest + power - 1;
  return index < lowest ? lowest : index > highest ? highest : index;
}

/**
 * Merge each `2^change` neighbouring buckets of `buckets` into one, in place: the same counts
 * `change` scales down (bucket `i` becomes bucket `i >> change`). Zero counts are kept as they are.
 *
 * @example
 * ```ts
 * const buckets = { offset: 3, counts: [1, 2, 4] }; // indices 3, 4, 5
 * downscaleExponentialBuckets(buckets, 1); // { offset: 1, counts: [1, 6] }: indices 1 (3) and 2 (4, 5)
 * ```
 */
export function downscaleExponentialBuckets(buckets: { offset: number; counts: number[] }, change: number): void {
  const counts = buckets.counts;
  if (change === 0 || counts.length === 0) return;
  const offset = buckets.offset >> change;
  const merged = new Array<number>(((buckets.offset + counts.length - 1) >> change) - offset + 1).fill(0);
  for (let k = 0; k < counts.length; k++) merged[((buckets.offset + k) >> change) - offset]! += counts[k]!;
  buckets.offset = offset;
  buckets.counts = merged;
}

/** How many scales `low..high` must go down to fit in `maxSize` buckets. */
function changeToFit(low: number, high: number, maxSize: number): number {
  let change = 0;
  while ((high >> change) - (low >> change) + 1 > maxSize) change++;
  return change;
}

/** Growable bucket counts of one sign; `counts[k]` is index `offset + k`, both ends non-zero. */
class Buckets implements ExponentialBuckets {
  offset = 0;
  counts: number[] = [];

  get low(): number {
    return this.offset;
  }

  get high(): number {
    return this.offset + this.counts.length - 1;
  }

  /** Count one value at `index`, which fits within `maxSize` together with the others. */
  increment(index: number): void {
    const counts = this.counts;
    if (counts.length === 0) {
      this.offset = index;
      counts.push(1);
      return;
    }
    const position = index - this.offset;
    if (position >= 0 && position < counts.length) {
      counts[position]! += 1;
      return;
    }
    if (position >= counts.length) {
      while (counts.length < position) counts.push(0);
      counts.push(1);
      return;
    }
    // Below the lowest bucket so far (rare once warm): shift the counts up.
    const grown = new Array<number>(counts.length - position).fill(0);
    grown[0] = 1;
    for (let k = 0; k < counts.length; k++) grown[k - position] = counts[k]!;
    this.counts = grown;
    this.offset = index;
  }
}

/**
 * The exponential histogram of one series: {@link record} counts a value, adjusting the scale so
 * each sign keeps at most `maxSize` buckets. Values are expected finite (the recorder drops the
 * others before they get here); zero, `-0` included, goes to `zeroCount`.
 *
 * @example
 * ```ts
 * const histogram = new ExponentialHistogram({ maxSize: 160, maxScale: 20 });
 * histogram.record(0.25);
 * histogram.record(3);
 * histogram.scale; // 5: 3 / 0.25 = 2^3.6 spans 116 buckets at scale 5, and would need 232 at scale 6
 * ```
 */
export class ExponentialHistogram implements ExponentialHistogramState {
  scale: number;
  /** `2^scale`, kept with the scale. */
  private power: number;
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly positiveBuckets = new Buckets();
  private readonly negativeBuckets = new Buckets();
  private readonly maxSize: number;

  /** Buckets of the positive values. */
  get positive(): ExponentialBuckets {
    return this.positiveBuckets;
  }

  /** Buckets of the negative values, by magnitude. */
  get negative(): ExponentialBuckets {
    return this.negativeBuckets;
  }

  /** An empty histogram at `limits.maxScale` that keeps at most `limits.maxSize` buckets per sign. */
  constructor(limits: ExponentialHistogramLimits) {
    this.maxSize = limits.maxSize;
    this.scale = limits.maxScale;
    this.power = 2 ** limits.maxScale;
  }

  /** Count `value` (finite), going down a scale or more first when its bucket would not fit. */
  record(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) {
      this.zeroCount++;
      return;
    }
    const buckets = value > 0 ? this.positiveBuckets : this.negativeBuckets;
    const magnitude = value > 0 ? value : -value;
    let index = indexAt(magnitude, this.scale, this.power);
    // The common case once warm: a bucket that already exists.
    const position = index - buckets.offset;
    if (position >= 0 && position < buckets.counts.length) {
      buckets.counts[position]! += 1;
      return;
    }
    // Recomputed after each downscale: near a bound the logarithm may round the other way.
    for (;;) {
      if (buckets.counts.length === 0) break;
      const change = changeToFit(Math.min(index, buckets.low), Math.max(index, buckets.high), this.maxSize);
      if (change === 0) break;
      this.downscale(change);
      index = indexAt(magnitude, this.scale, this.power);
    }
    buckets.increment(index);
  }

  private downscale(change: number): void {
    downscaleExponentialBuckets(this.positiveBuckets, change);
    downscaleExponentialBuckets(this.negativeBuckets, change);
    this.scale -= change;
    this.power = 2 ** this.scale;
  }
}

/**
 * Check `exponentialHistograms` of `GatewayTelemetryOptions`: `true` (the specification's defaults),
 * `false`, or `{ maxSize, maxScale }` with either left out for its default.
 */
export function exponentialLimitsOf(given: unknown): ExponentialHistogramLimits | undefined {
  if (given === undefined || given === false) return undefined;
  if (given === true) return { maxSize: DEFAULT_EXPONENTIAL_MAX_SIZE, maxScale: MAX_EXPONENTIAL_SCALE };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new TelemetryConfigurationError(
      'exponentialHistograms',
      `expected true, false or { maxSize, maxScale }, got ${typeof given === 'string' ? JSON.stringify(given) : given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`,
    );
  }
  const { maxSize = DEFAULT_EXPONENTIAL_MAX_SIZE, maxScale = MAX_EXPONENTIAL_SCALE } = given as Record<string, unknown>;
  if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 2 || maxSize > 16_384) {
    throw new TelemetryConfigurationError(
      'exponentialHistograms.maxSize',
      `expected a whole number of buckets from 2 to 16384, got ${String(maxSize)}`,
    );
  }
  if (
    typeof maxScale !== 'number' ||
    !Number.isInteger(maxScale) ||
    maxScale < MIN_EXPONENTIAL_SCALE ||
    maxScale > MAX_EXPONENTIAL_SCALE
  ) {
    throw new TelemetryConfigurationError(
      'exponentialHistograms.maxScale',
      `expected a whole number from ${MIN_EXPONENTIAL_SCALE} to ${MAX_EXPONENTIAL_SCALE}, got ${String(maxScale)}`,
    );
  }
  return { maxSize, maxScale };
}
