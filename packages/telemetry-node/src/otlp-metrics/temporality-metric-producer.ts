/**
 * The helpers aggregate in-process and report cumulative values. An OTLP exporter may ask for delta
 * temporality (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta` or `lowmemory`); this
 * producer turns the cumulative series of the producer it wraps into what the exporter selects.
 *
 * A delta is what the backend has not been sent yet: the cumulative value minus what earlier
 * pushes carried, counting those it accepted and those still under way. A push that fails gives its
 * counts back, so they travel with the next one; a push still under way when the next collection
 * starts (an answer slower than the export timeout) is neither sent again nor lost, whichever way
 * it ends. The sum of all accepted deltas equals the cumulative count exactly, and a non-integer
 * cumulative value (a histogram's sum, a cost) to its 15 significant digits.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type AggregationTemporalitySelector,
  type CollectionResult,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import {
  addExponentialCounts,
  emptyExponentialCounts,
  exponentialCountsOf,
  exponentialDifference,
  exponentialPointOf,
  type ExponentialCounts,
} from './exponential-counts.js';

/** The amounts of one series: a sum's value, or a histogram's bucket counts (explicit or exponential), count and sum. */
interface Amounts {
  value: number;
  counts: number[];
  /** Exponential histograms only. */
  exponential: ExponentialCounts | undefined;
  count: number;
  sum: number;
}

/** What the backend has of one series, or may have: what accepted pushes and pushes under way carry. */
interface SeriesState {
  readonly kind: 'number' | 'histogram' | 'exponential';
  /** Carried by accepted pushes and pushes not settled yet; a refused push gives its delta back. */
  readonly covered: Amounts;
  /** End of the last point sent: the start of the next one. */
  time: HrTime;
}

/** One series' point in a collection not settled yet. */
interface SentPoint {
  readonly state: SeriesState;
  readonly delta: Amounts;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
}

/** A collection whose deltas have not been accepted or refused yet. */
interface PendingCollection {
  readonly sequence: number;
  readonly sent: SentPoint[];
  /** Handed to an export (a collection never exported is refused by the next one). */
  exported: boolean;
}

const zero = (buckets: number): Amounts => ({
  value: 0,
  counts: new Array<number>(buckets).fill(0),
  exponential: undefined,
  count: 0,
  sum: 0,
});

/** The fields of amounts a kind does not use, for building a point's current amounts (never changed). */
const NO_AMOUNTS: Readonly<Amounts> = Object.freeze({ value: 0, counts: [], exponential: undefined, count: 0, sum: 0 });

/** `into += sign · amounts`. */
function addAmounts(into: Amounts, amounts: Amounts, sign: 1 | -1): void {
  into.value += sign * amounts.value;
  into.count += sign * amounts.count;
  into.sum += sign * amounts.sum;
  const counts = amounts.counts;
  for (let index = 0; index < counts.length; index++)
    into.counts[index] = (into.counts[index] ?? 0) + sign * counts[index]!;
  if (amounts.exponential !== undefined)
    addExponentialCounts((into.exponential ??= emptyExponentialCounts()), amounts.exponential, sign);
}

/** Decimal digits every double keeps exactly (some keep 16, not all). */
const SIGNIFICANT_DIGITS = 15;

/**
 * How far, relative to the larger value, a monotonic sum may read below what was sent of it and
 * still be the same series. What was sent is a running sum of deltas rounded to 15 digits, added
 * when sent and taken back when refused, so it lands a few units of the last digit either side of
 * the cumulative floating-point sum: a long run with idle series went "down" that way and, read as a
 * restart, sent the whole total again. A restart drops a counter far below (usually near 0). Keeping
 * the running sum exact would take the exact decimal sum of every delta sent, taken back in any
 * order; a tolerance far above the noise and far below any restart is simpler and as correct.
 */
const ROUNDING_TOLERANCE = 1e-9;

/** Whether monotonic `current` dropped below `covered` by more than rounding (a restart). */
function wentDown(current: number, covered: number): boolean {
  return covered - current > ROUNDING_TOLERANCE * Math.max(Math.abs(current), Math.abs(covered));
}

/**
 * `a − b` to the precision of the larger of the two: the cumulative value is a floating-point
 * sum, no more precise than that, so the digits below it are rounding noise of the subtraction
 * (`(1e6 + 0.3) − 1e6` is `0.30000000004656613`; rounded, `0.3`, what was observed). Integers stay exact.
 */
export function difference(a: number, b: number): number {
  const exact = a - b;
  if (exact === 0 || !Number.isFinite(exact) || (Number.isInteger(a) && Number.isInteger(b))) return exact;
  // The place value of the last significant digit kept, as a power of ten.
  const digits = SIGNIFICANT_DIGITS - 1 - Math.floor(Math.log10(Math.max(Math.abs(a), Math.abs(b))));
  const power = 10 ** Math.abs(digits);
  // Below about 1e-294 the power leaves the double range: the subtraction is as precise as it gets.
  if (!Number.isFinite(power)) return exact;
  // Whole multiples of an exact power of ten (up to 1e22) give the double nearest the rounded decimal.
  const units = Math.round(digits >= 0 ? Math.abs(exact) * power : Math.abs(exact) / power);
  return Math.sign(exact) * (digits >= 0 ? units / power : units * power);
}

/** `current − covered`, in new arrays (the delta's point may keep them: they never change). */
function amountsDifference(current: Amounts, covered: Amounts): Amounts {
  const counts = new Array<number>(current.counts.length);
  for (let index = 0; index < counts.length; index++)
    counts[index] = current.counts[index]! - (covered.counts[index] ?? 0);
  const exponential =
    current.exponential === undefined
      ? undefined
      : exponentialDifference(current.exponential, covered.exponential ?? emptyExponentialCounts());
  return {
    value: difference(current.value, covered.value),
    counts,
    exponential,
    count: current.count - covered.count,
    sum: difference(current.sum, covered.sum),
  };
}

function instrumentTypeOf(metric: MetricData): InstrumentType | undefined {
  if (metric.dataPointType === DataPointType.HISTOGRAM || metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM)
    return InstrumentType.HISTOGRAM;
  if (metric.dataPointType === DataPointType.SUM)
    return metric.isMonotonic ? InstrumentType.COUNTER : InstrumentType.UP_DOWN_COUNTER;
  return undefined;
}

/**
 * States of one metric's series. The helpers' producer hands out the same frozen attributes object
 * for a series on every collection, so the object identifies the series without building a key; a
 * series whose object is new (another producer, a new start) simply starts a state.
 */
type MetricStates = WeakMap<Attributes, SeriesState>;

/**
 * Wraps a cumulative `MetricProducer` and reports sums and histograms with the temporality
 * `selector` picks per instrument type. After a collection, {@link pendingToken} names it for its
 * export; call {@link settle} with that token once the export succeeded or failed.
 *
 * @example
 * ```ts
 * const delta = new TemporalityMetricProducer(createTelemetryMetricProducer(telemetry), DeltaTemporalitySelector);
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [delta] });
 * ```
 */
export class TemporalityMetricProducer implements MetricProducer {
  private readonly states = new Map<string, MetricStates>();
  private readonly pending = new Map<number, PendingCollection>();
  private latest: PendingCollection | undefined;
  private sequence = 0;
  /** The delta metrics this producer made: a refused push gives their counts back. */
  private readonly converted = new WeakSet<MetricData>();
  /** Collections so far, delta or not: the number of the latest, to order pushes by the data they carry. */
  collections = 0;

  constructor(
    private readonly source: MetricProducer,
    private readonly selector: AggregationTemporalitySelector,
  ) {}

  /** Whether any instrument type this producer emits is reported as delta. */
  get convertsToDelta(): boolean {
    return (
      this.selector(InstrumentType.COUNTER) === AggregationTemporality.DELTA ||
      this.selector(InstrumentType.HISTOGRAM) === AggregationTemporality.DELTA ||
      this.selector(InstrumentType.UP_DOWN_COUNTER) === AggregationTemporality.DELTA
    );
  }

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await this.source.collect(options);
    this.collections++;
    if (!this.convertsToDelta) return result;
    // A collection no export took (the reader gave up before exporting it) carried nothing anywhere.
    for (const collection of this.pending.values()) if (!collection.exported) this.settle(collection.sequence, false);
    const collection: PendingCollection = { sequence: ++this.sequence, sent: [], exported: false };
    this.pending.set(collection.sequence, collection);
    this.latest = collection;
    const scopeMetrics = result.resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.flatMap((metric) => {
        const type = instrumentTypeOf(metric);
        if (type === undefined || this.selector(type) !== AggregationTemporality.DELTA) return [metric];
        const converted = this.toDelta(metric, collection.sent);
        return converted === undefined ? [] : [converted];
      }),
    }));
    return { ...result, resourceMetrics: { ...result.resourceMetrics, scopeMetrics } };
  }

  /** Whether `metric` is a delta this producer made (its counts go out again when its push is refused). */
  givesBack(metric: MetricData): boolean {
    return this.converted.has(metric);
  }

  /** Token of the latest collection, to hand to {@link settle} when its export finished. */
  pendingToken(): number {
    const latest = this.latest;
    if (latest === undefined) return 0;
    latest.exported = true;
    return latest.sequence;
  }

  /**
   * Accept (the backend has the data) or refuse (it does not) the collection `token` names, in any
   * order: a refused collection's counts go out with the next one.
   */
  settle(token: number, accepted: boolean): void {
    const collection = this.pending.get(token);
    if (collection === undefined) return;
    this.pending.delete(token);
    if (this.latest === collection) this.latest = undefined;
    // Accepted: the backend has what the points carried, which their series already count as covered.
    if (accepted) return;
    for (const point of collection.sent) {
      addAmounts(point.state.covered, point.delta, -1);
      // The next point starts where the last one the backend may have begins.
      if (point.state.time === point.endTime) point.state.time = point.startTime;
    }
  }

  /**
   * The delta of one series: its cumulative `current` amounts minus what was sent of it. A new
   * series, or a monotonic one that went down (restarted), starts over from `current`.
   */
  private deltaOf(
    states: MetricStates,
    point: DataPoint<unknown>,
    kind: SeriesState['kind'],
    current: Amounts,
    monotonic: boolean,
    sent: SentPoint[],
  ): { delta: Amounts; startTime: HrTime; reset: boolean } | undefined {
    let state = states.get(point.attributes);
    let reset = state === undefined || state.kind !== kind;
    if (state !== undefined && !reset && monotonic) {
      const covered = state.covered;
      reset = kind === 'number' ? wentDown(current.value, covered.value) : current.count < covered.count;
    }
    if (state === undefined || reset) {
      // Pushes under way settle into the state they were sent from, not this one.
      state = { kind, covered: zero(current.counts.length), time: point.startTime };
      states.set(point.attributes, state);
    }
    const delta = amountsDifference(current, state.covered);
    // A monotonic sum a rounding below what was sent has nothing new: no point, rather than a negative one.
    if (kind === 'number' ? delta.value === 0 || (monotonic && delta.value < 0) : delta.count === 0) return undefined;
    const startTime = state.time;
    addAmounts(state.covered, delta, 1);
    state.time = point.endTime;
    sent.push({ state, delta, startTime, endTime: point.endTime });
    return { delta, startTime, reset };
  }

  private toDelta(metric: MetricData, sent: SentPoint[]): MetricData | undefined {
    const name = metric.descriptor.name;
    let states = this.states.get(name);
    if (states === undefined) this.states.set(name, (states = new WeakMap()));
    const convert = <V>(
      points: ReadonlyArray<DataPoint<V>>,
      kind: SeriesState['kind'],
      monotonic: boolean,
      currentOf: (value: V) => Amounts,
      deltaValueOf: (value: V, delta: Amounts, reset: boolean) => V,
    ): MetricData | undefined => {
      const dataPoints: Array<DataPoint<V>> = [];
      for (const point of points) {
        const found = this.deltaOf(states, point, kind, currentOf(point.value), monotonic, sent);
        if (found === undefined) continue;
        // Whatever else the point carries (its exemplars) travels with it.
        dataPoints.push({
          ...point,
          startTime: found.startTime,
          value: deltaValueOf(point.value, found.delta, found.reset),
        });
      }
      if (dataPoints.length === 0) return undefined;
      const delta = { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints } as MetricData;
      this.converted.add(delta);
      return delta;
    };
    // The in-process aggregation keeps cumulative extremes only: a delta histogram point has none,
    // unless it restarts the series (then it is the cumulative point).
    const extremes = (value: { min?: number; max?: number }, reset: boolean): { min?: number; max?: number } =>
      reset ? { min: value.min, max: value.max } : {};
    switch (metric.dataPointType) {
      case DataPointType.HISTOGRAM:
        return convert<Histogram>(
          metric.dataPoints,
          'histogram',
          true,
          // Only read: the delta is computed into arrays of its own.
          (value) => ({ ...NO_AMOUNTS, counts: value.buckets.counts, count: value.count, sum: value.sum ?? 0 }),
          (value, delta, reset) => ({
            buckets: { boundaries: value.buckets.boundaries, counts: delta.counts },
            count: delta.count,
            sum: reset ? value.sum : delta.sum,
            ...extremes(value, reset),
          }),
        );
      case DataPointType.EXPONENTIAL_HISTOGRAM:
        return convert<ExponentialHistogram>(
          metric.dataPoints,
          'exponential',
          true,
          (value) => ({
            ...NO_AMOUNTS,
            exponential: exponentialCountsOf(value),
            count: value.count,
            sum: value.sum ?? 0,
          }),
          (value, delta, reset) => ({
            ...exponentialPointOf(delta.exponential ?? emptyExponentialCounts(), value.scale, {
              count: delta.count,
              sum: reset ? (value.sum ?? 0) : delta.sum,
            }),
            ...extremes(value, reset),
          }),
        );
      case DataPointType.SUM:
        return convert<number>(
          metric.dataPoints,
          'number',
          metric.isMonotonic,
          (value) => ({ ...NO_AMOUNTS, value }),
          (_value, delta) => delta.value,
        );
      default:
        return metric;
    }
  }
}
