import type { ExemplarSlots } from '@gatewayz/telemetry/metrics';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';

/**
 * A histogram data point carrying the exemplars of its series, one per bucket:
 * `createTelemetryMetricProducer()` attaches them to each point it emits, and the OpenMetrics
 * serializer writes them next to the buckets. Exemplars thus travel with the data they belong to;
 * points from elsewhere simply have none.
 *
 * @example
 * ```ts
 * const point = metric.dataPoints[0] as ExemplarDataPoint;
 * const newest = point.exemplars?.slots.find((exemplar) => exemplar !== undefined);
 * ```
 */
export interface ExemplarDataPoint extends DataPoint<Histogram> {
  /** The series' exemplars: `boundaries` they were bucketed by, and one slot per bucket (the last is `+Inf`). */
  readonly exemplars?: ExemplarSlots;
}
