/**
 * The helpers aggregate in-process and report cumulative values. An OTLP exporter may ask for delta
 * temporality (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta` or `lowmemory`); this
 * producer turns the cumulative series of the producer it wraps into what the exporter selects.
 *
 * A delta is measured from the last export the backend accepted, not from the last attempt: an
 * export that fails is rolled back, so its counts travel with the next one and the sum of all
 * accepted deltas equals the cumulative count exactly.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type AggregationTemporalitySelector,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';

type SeriesBaseline =
  | { readonly kind: 'number'; readonly value: number; readonly time: HrTime }
  | {
      readonly kind: 'histogram';
      readonly counts: readonly number[];
      readonly count: number;
      readonly sum: number;
      readonly time: HrTime;
    };

/** A collection whose deltas have not been accepted or refused yet. */
interface PendingCollection {
  readonly sequence: number;
  readonly updates: Array<{ baselines: MetricBaselines; attributes: Attributes; baseline: SeriesBaseline }>;
}

function instrumentTypeOf(metric: MetricData): InstrumentType | undefined {
  if (metric.dataPointType === DataPointType.HISTOGRAM) return InstrumentType.HISTOGRAM;
  if (metric.dataPointType === DataPointType.SUM)
    return metric.isMonotonic ? InstrumentType.COUNTER : InstrumentType.UP_DOWN_COUNTER;
  return undefined;
}

/**
 * Baselines of one metric. The helpers' producer hands out the same frozen attributes object for a
 * series on every collection, so the object identifies the series without building a key; a
 * series whose object is new (another producer, a new start) simply starts a baseline.
 */
type MetricBaselines = WeakMap<Attributes, SeriesBaseline>;

/**
 * Wraps a cumulative `MetricProducer` and reports sums and histograms with the temporality
 * `selector` picks per instrument type. Call {@link settle} with the token {@link pendingToken}
 * returned after a collection once its export succeeded or failed.
 *
 * @example
 * ```ts
 * const delta = new TemporalityMetricProducer(createTelemetryMetricProducer(telemetry), DeltaTemporalitySelector);
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [delta] });
 * ```
 */
export class TemporalityMetricProducer implements MetricProducer {
  private readonly baselines = new Map<string, MetricBaselines>();
  private pending: PendingCollection | undefined;
  private sequence = 0;

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
    if (!this.convertsToDelta) return result;
    // A collection that starts before the previous one was settled supersedes it: whatever that
    // export did, its deltas are measured again from the last accepted baseline.
    const updates: PendingCollection['updates'] = [];
    this.pending = { sequence: ++this.sequence, updates };
    const scopeMetrics = result.resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.flatMap((metric) => {
        const type = instrumentTypeOf(metric);
        if (type === undefined || this.selector(type) !== AggregationTemporality.DELTA) return [metric];
        const converted = this.toDelta(metric, updates);
        return converted === undefined ? [] : [converted];
      }),
    }));
    return { ...result, resourceMetrics: { ...result.resourceMetrics, scopeMetrics } };
  }

  /** Token of the latest collection, to hand to {@link settle} when its export finished. */
  pendingToken(): number {
    return this.pending?.sequence ?? 0;
  }

  /** Accept (the backend has the data) or refuse (it does not) the collection `token` names. */
  settle(token: number, accepted: boolean): void {
    const pending = this.pending;
    if (pending === undefined || pending.sequence !== token) return;
    this.pending = undefined;
    if (!accepted) return;
    for (const update of pending.updates) update.baselines.set(update.attributes, update.baseline);
  }

  private toDelta(metric: MetricData, updates: PendingCollection['updates']): MetricData | undefined {
    const name = metric.descriptor.name;
    let baselines = this.baselines.get(name);
    if (baselines === undefined) this.baselines.set(name, (baselines = new WeakMap()));
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      const dataPoints: Array<DataPoint<Histogram>> = [];
      for (const point of metric.dataPoints) {
        const before = baselines.get(point.attributes);
        const value = point.value;
        const counts = value.buckets.counts;
        updates.push({
          baselines,
          attributes: point.attributes,
          baseline: {
            kind: 'histogram',
            counts: [...counts],
            count: value.count,
            sum: value.sum ?? 0,
            time: point.endTime,
          },
        });
        const reset = before === undefined || before.kind !== 'histogram' || value.count < before.count;
        const count = reset ? value.count : value.count - before.count;
        if (count === 0) continue;
        dataPoints.push({
          // Whatever else the point carries (its exemplars) travels with it.
          ...point,
          startTime: reset ? point.startTime : before.time,
          value: {
            buckets: {
              boundaries: value.buckets.boundaries,
              counts: reset ? [...counts] : counts.map((bucket, index) => bucket - (before.counts[index] ?? 0)),
            },
            count,
            sum: reset ? value.sum : (value.sum ?? 0) - before.sum,
            // The in-process aggregation keeps cumulative extremes only; a delta point has none.
            ...(reset ? { min: value.min, max: value.max } : {}),
          },
        });
      }
      return dataPoints.length === 0
        ? undefined
        : { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
    }
    if (metric.dataPointType !== DataPointType.SUM) return metric;
    const dataPoints: Array<DataPoint<number>> = [];
    for (const point of metric.dataPoints) {
      const before = baselines.get(point.attributes);
      updates.push({
        baselines,
        attributes: point.attributes,
        baseline: { kind: 'number', value: point.value, time: point.endTime },
      });
      // A monotonic sum that went down was restarted; an up-down counter may go down.
      const reset =
        before === undefined || before.kind !== 'number' || (metric.isMonotonic && point.value < before.value);
      const delta = reset ? point.value : point.value - before.value;
      if (delta === 0) continue;
      dataPoints.push({ ...point, startTime: reset ? point.startTime : before.time, value: delta });
    }
    return dataPoints.length === 0
      ? undefined
      : { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
  }
}
