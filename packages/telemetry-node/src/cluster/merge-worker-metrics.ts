/**
 * The aggregate a scrape of a node:cluster port answers: every worker's collected metrics merged
 * into one collection. The helpers' metrics (the `@gatewayz/telemetry` scope) merge by kind:
 * counters, up-down counters and histograms add up, gauges follow the rule the catalog states for
 * them. Metrics of other scopes (runtime, host, process) describe one process each and keep one
 * series per worker under a `worker` attribute.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { DataPointType, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';

/**
 * How a gauge of several workers becomes one value (the catalog's `clusterMerge`).
 *
 * @example
 * ```ts
 * const rule: GaugeMergeRule = 'sum'; // e.g. calls waiting in each worker's write-behind buffer
 * ```
 */
export type GaugeMergeRule = 'sum' | 'max' | 'min';

/** One worker's collection on the wire: `ResourceMetrics` with the resource reduced to its attributes. */
export interface WorkerCollection {
  readonly resource: Attributes;
  readonly scopeMetrics: ReadonlyArray<{
    readonly scope: { readonly name: string; readonly version?: string; readonly schemaUrl?: string };
    readonly metrics: readonly MetricData[];
  }>;
}

/** A worker's part of the merge: live workers with their id, retired counts without one. */
export interface MergePart {
  /** `undefined` for the counts kept from workers that exited. */
  readonly workerId: string | undefined;
  readonly collection: WorkerCollection;
}

interface MergedMetric {
  readonly scope: { readonly name: string; readonly version?: string; readonly schemaUrl?: string };
  readonly metric: MetricData;
  readonly points: Map<string, DataPoint<unknown>>;
}

function earlier(left: HrTime, right: HrTime): HrTime {
  return left[0] < right[0] || (left[0] === right[0] && left[1] <= right[1]) ? left : right;
}

function later(left: HrTime, right: HrTime): HrTime {
  return earlier(left, right) === left ? right : left;
}

function addHistograms(into: Histogram, from: Histogram): Histogram {
  const counts = into.buckets.counts.map((count, index) => count + (from.buckets.counts[index] ?? 0));
  const min = into.min === undefined ? from.min : from.min === undefined ? into.min : Math.min(into.min, from.min);
  const max = into.max === undefined ? from.max : from.max === undefined ? into.max : Math.max(into.max, from.max);
  return {
    buckets: { boundaries: into.buckets.boundaries, counts },
    count: into.count + from.count,
    sum: (into.sum ?? 0) + (from.sum ?? 0),
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
  };
}

interface ExemplarLike {
  readonly timestampSeconds: number;
}
interface SlotsLike {
  readonly boundaries: readonly number[];
  readonly slots: ReadonlyArray<ExemplarLike | null | undefined>;
}

/** Per bucket, the newer of two workers' exemplars (slots arrive as `null` after JSON). */
function newerExemplars(left: SlotsLike | undefined, right: SlotsLike | undefined): SlotsLike | undefined {
  if (left === undefined || right === undefined || left.slots.length !== right.slots.length) return left ?? right;
  return {
    boundaries: left.boundaries,
    slots: left.slots.map((mine, index) => {
      const theirs = right.slots[index];
      if (mine == null) return theirs ?? undefined;
      if (theirs == null) return mine;
      return theirs.timestampSeconds > mine.timestampSeconds ? theirs : mine;
    }),
  };
}

function combine(
  metric: MetricData,
  rule: GaugeMergeRule,
  into: DataPoint<unknown>,
  from: DataPoint<unknown>,
): unknown {
  if (metric.dataPointType === DataPointType.HISTOGRAM)
    return addHistograms(into.value as Histogram, from.value as Histogram);
  const left = into.value as number;
  const right = from.value as number;
  if (metric.dataPointType === DataPointType.SUM) return left + right;
  if (rule === 'max') return Math.max(left, right);
  if (rule === 'min') return Math.min(left, right);
  return left + right;
}

/**
 * Merge the collections of several workers (and the counts retired from exited ones) into one.
 * `ownScope` names the instrumentation scope whose metrics merge by kind; `gaugeRule` gives the
 * rule of each of its gauges by metric name.
 *
 * @example
 * ```ts
 * const merged = mergeWorkerMetrics(parts, '@gatewayz/telemetry', (name) => (name === 'model_health_pending_calls' ? 'sum' : 'max'));
 * ```
 */
export function mergeWorkerMetrics(
  parts: readonly MergePart[],
  ownScope: string,
  gaugeRule: (metricName: string) => GaugeMergeRule,
): WorkerCollection {
  const merged = new Map<string, MergedMetric>();
  let resource: Attributes | undefined;
  for (const part of parts) {
    if (part.workerId !== undefined) resource ??= part.collection.resource;
    for (const scopeMetrics of part.collection.scopeMetrics) {
      const own = scopeMetrics.scope.name === ownScope;
      // Per-process metrics of a worker that exited are gone with it.
      if (!own && part.workerId === undefined) continue;
      for (const metric of scopeMetrics.metrics) {
        const metricKey = `${scopeMetrics.scope.name}\u0000${metric.descriptor.name}`;
        let entry = merged.get(metricKey);
        if (entry === undefined) {
          entry = { scope: scopeMetrics.scope, metric, points: new Map() };
          merged.set(metricKey, entry);
        }
        const rule = metric.dataPointType === DataPointType.GAUGE && own ? gaugeRule(metric.descriptor.name) : 'sum';
        for (const point of metric.dataPoints as ReadonlyArray<DataPoint<unknown>>) {
          const attributes: Attributes = own ? point.attributes : { ...point.attributes, worker: part.workerId };
          const pointKey = JSON.stringify(attributes);
          const existing = entry.points.get(pointKey);
          if (existing === undefined) {
            entry.points.set(pointKey, { ...point, attributes });
            continue;
          }
          const exemplars = newerExemplars(
            (existing as { exemplars?: SlotsLike }).exemplars,
            (point as { exemplars?: SlotsLike }).exemplars,
          );
          entry.points.set(pointKey, {
            ...existing,
            startTime: earlier(existing.startTime, point.startTime),
            endTime: later(existing.endTime, point.endTime),
            value: combine(metric, rule, existing, point),
            ...(exemplars !== undefined ? { exemplars } : {}),
          });
        }
      }
    }
  }
  const byScope = new Map<string, { scope: MergedMetric['scope']; metrics: MetricData[] }>();
  for (const entry of merged.values()) {
    let scope = byScope.get(entry.scope.name);
    if (scope === undefined) byScope.set(entry.scope.name, (scope = { scope: entry.scope, metrics: [] }));
    scope.metrics.push({ ...entry.metric, dataPoints: [...entry.points.values()] } as MetricData);
  }
  // The aggregate is no one process: attributes naming one worker would mislabel it.
  const { ['process.pid']: _pid, ['service.instance.id']: _instance, ...shared } = resource ?? {};
  return { resource: shared, scopeMetrics: [...byScope.values()] };
}

/**
 * What a worker that exited leaves behind: its monotonic counters and histograms, added to the
 * counts already retired, so the aggregate never goes backwards. Gauges, up-down counters and
 * per-process metrics are dropped.
 *
 * @example
 * ```ts
 * retired = retireWorker(retired, lastSnapshotOf(worker), '@gatewayz/telemetry');
 * ```
 */
export function retireWorker(
  retired: WorkerCollection | undefined,
  last: WorkerCollection,
  ownScope: string,
): WorkerCollection {
  const kept: WorkerCollection = {
    resource: {},
    scopeMetrics: last.scopeMetrics
      .filter((scope) => scope.scope.name === ownScope)
      .map((scope) => ({
        scope: scope.scope,
        metrics: scope.metrics.filter(
          (metric) =>
            metric.dataPointType === DataPointType.HISTOGRAM ||
            (metric.dataPointType === DataPointType.SUM && metric.isMonotonic),
        ),
      })),
  };
  const parts: MergePart[] = [{ workerId: undefined, collection: kept }];
  if (retired !== undefined) parts.push({ workerId: undefined, collection: retired });
  return mergeWorkerMetrics(parts, ownScope, () => 'sum');
}
