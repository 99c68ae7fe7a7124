/**
 * The aggregate a scrape of a node:cluster port answers: every worker's collected metrics merged
 * into one collection. The helpers' metrics (the `@gatewayz/telemetry` scope) merge by kind:
 * counters, up-down counters and histograms add up, gauges follow the rule the catalog states for
 * them. Metrics of other scopes (runtime, host, process) describe one process each and keep one
 * series per worker under a `worker` attribute.
 *
 * The helpers' series travel between processes in columns (label values, numbers, bucket counts as
 * flat arrays of primitives) rather than as one object per data point: on the IPC channel's JSON,
 * that is what makes a scrape of thousands of series per worker cheap to send, parse and merge.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  DataPointType,
  type AggregationTemporality,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricDescriptor,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/**
 * How a gauge of several workers becomes one value (the catalog's `clusterMerge`).
 *
 * @example
 * ```ts
 * const rule: GaugeMergeRule = 'sum'; // e.g. calls waiting in each worker's write-behind buffer
 * ```
 */
export type GaugeMergeRule = 'sum' | 'max' | 'min';

type Scope = { readonly name: string; readonly version?: string; readonly schemaUrl?: string };

interface ExemplarLike {
  readonly timestampSeconds: number;
}
/** Exemplar slots of one histogram series; empty slots arrive as `null` after JSON. */
interface SlotsLike {
  readonly boundaries: readonly number[];
  readonly slots: ReadonlyArray<ExemplarLike | null | undefined>;
}

/** One of the helpers' metrics in columns: point `i`'s labels are `labelValues[i * labels.length …]`. */
export interface ColumnarMetric {
  readonly descriptor: MetricDescriptor;
  readonly dataPointType: DataPointType;
  readonly aggregationTemporality: AggregationTemporality;
  readonly isMonotonic?: boolean;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly labels: string[];
  /** `null` where a point has no value for an (optional) label. */
  readonly labelValues: Array<string | null>;
  /** Sums and gauges: one value per point. */
  readonly values: number[];
  /** Histograms: the bucket boundaries, shared by every point of the metric. */
  readonly boundaries: number[];
  /** Histograms: `boundaries.length + 1` counts per point. */
  readonly counts: number[];
  readonly count: number[];
  readonly sum: number[];
  readonly min: Array<number | null>;
  readonly max: Array<number | null>;
  /** Histograms: the exemplars of the points that have any, by point index. */
  readonly exemplars: Array<[point: number, slots: SlotsLike]>;
}

/** One worker's collection on the wire. */
export interface WorkerCollection {
  readonly resource: Attributes;
  /** The helpers' metrics, in columns. */
  readonly own: { readonly scope: Scope; readonly metrics: ColumnarMetric[] } | undefined;
  /** Every other scope's metrics as collected (a few dozen series: runtime, host). */
  readonly other: ReadonlyArray<{ readonly scope: Scope; readonly metrics: readonly MetricData[] }>;
}

/** A worker's part of the merge: live workers with their id, retired counts without one. */
export interface MergePart {
  /** `undefined` for the counts kept from workers that exited. */
  readonly workerId: string | undefined;
  readonly collection: WorkerCollection;
}

function emptyColumns(from: ColumnarMetric): ColumnarMetric {
  return {
    descriptor: from.descriptor,
    dataPointType: from.dataPointType,
    aggregationTemporality: from.aggregationTemporality,
    ...(from.isMonotonic !== undefined ? { isMonotonic: from.isMonotonic } : {}),
    startTime: from.startTime,
    endTime: from.endTime,
    labels: [...from.labels],
    labelValues: [],
    values: [],
    boundaries: from.boundaries,
    counts: [],
    count: [],
    sum: [],
    min: [],
    max: [],
    exemplars: [],
  };
}

/** The helpers' metric `metric` in columns. */
function toColumns(metric: MetricData): ColumnarMetric {
  const points = metric.dataPoints as ReadonlyArray<DataPoint<unknown> & { exemplars?: SlotsLike }>;
  const first = points[0];
  const labels: string[] = [];
  for (const point of points)
    for (const label of Object.keys(point.attributes)) if (!labels.includes(label)) labels.push(label);
  const histogram = metric.dataPointType === DataPointType.HISTOGRAM;
  const columns = emptyColumns({
    descriptor: metric.descriptor,
    dataPointType: metric.dataPointType,
    aggregationTemporality: metric.aggregationTemporality,
    ...(metric.dataPointType === DataPointType.SUM ? { isMonotonic: metric.isMonotonic } : {}),
    startTime: first?.startTime ?? [0, 0],
    endTime: first?.endTime ?? [0, 0],
    labels,
    boundaries: histogram && first !== undefined ? [...(first.value as Histogram).buckets.boundaries] : [],
  } as ColumnarMetric);
  points.forEach((point, index) => {
    for (const label of labels) {
      const value = point.attributes[label];
      columns.labelValues.push(value === undefined ? null : String(value));
    }
    if (!histogram) {
      columns.values.push(point.value as number);
      return;
    }
    const value = point.value as Histogram;
    for (const bucket of value.buckets.counts) columns.counts.push(bucket);
    columns.count.push(value.count);
    columns.sum.push(value.sum ?? 0);
    columns.min.push(value.min ?? null);
    columns.max.push(value.max ?? null);
    if (point.exemplars !== undefined) columns.exemplars.push([index, point.exemplars]);
  });
  return columns;
}

/**
 * A collected `ResourceMetrics` as it travels to the primary: the helpers' scope (`ownScope`) in
 * columns, the rest as collected.
 *
 * @example
 * ```ts
 * process.send(message({ type: 'snapshot', id, collection: toWorkerCollection(resourceMetrics, PACKAGE_NAME) }));
 * ```
 */
export function toWorkerCollection(resourceMetrics: ResourceMetrics, ownScope: string): WorkerCollection {
  const own = resourceMetrics.scopeMetrics.find((scope) => scope.scope.name === ownScope);
  return {
    resource: resourceMetrics.resource.attributes,
    own: own === undefined ? undefined : { scope: own.scope, metrics: own.metrics.map(toColumns) },
    other: resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name !== ownScope),
  };
}

/** Per bucket, the newer of two exemplars. */
function newerExemplars(left: SlotsLike, right: SlotsLike): SlotsLike {
  if (left.slots.length !== right.slots.length) return left;
  return {
    boundaries: left.boundaries,
    slots: left.slots.map((mine, index) => {
      const theirs = right.slots[index];
      if (mine == null) return theirs ?? null;
      if (theirs == null) return mine;
      return theirs.timestampSeconds > mine.timestampSeconds ? theirs : mine;
    }),
  };
}

const earlier = (left: HrTime, right: HrTime): HrTime =>
  left[0] < right[0] || (left[0] === right[0] && left[1] <= right[1]) ? left : right;
const minOf = (left: number | null, right: number | null): number | null =>
  left === null ? right : right === null ? left : Math.min(left, right);
const maxOf = (left: number | null, right: number | null): number | null =>
  left === null ? right : right === null ? left : Math.max(left, right);

/** The columns being merged into, with the position of every label set seen so far. */
interface MergeTarget {
  columns: ColumnarMetric;
  readonly index: Map<string, number>;
  readonly exemplars: Map<number, SlotsLike>;
}

/** Add the points of `from` to `target` (same metric), adding values of label sets already there. */
function addColumns(target: MergeTarget, from: ColumnarMetric, rule: GaugeMergeRule): void {
  const into = target.columns;
  // The label order of the first worker wins; another order (an optional label seen elsewhere first) is mapped.
  for (const label of from.labels) if (!into.labels.includes(label)) into.labels.push(label);
  const width = from.labels.length;
  const positions = from.labels.map((label) => into.labels.indexOf(label));
  const sameOrder = width === into.labels.length && positions.every((position, index) => position === index);
  const buckets = from.boundaries.length + 1;
  const histogram = from.dataPointType === DataPointType.HISTOGRAM;
  const exemplarsOf = new Map(from.exemplars);
  const points = width === 0 ? from.values.length + from.count.length : from.labelValues.length / width;
  for (let point = 0; point < points; point++) {
    let values: Array<string | null>;
    if (sameOrder) values = from.labelValues.slice(point * width, point * width + width);
    else {
      values = new Array<string | null>(into.labels.length).fill(null);
      for (let label = 0; label < width; label++)
        values[positions[label] as number] = from.labelValues[point * width + label] ?? null;
    }
    const key = values.map((value) => (value === null ? '\u0002' : value)).join('\u0001');
    let at = target.index.get(key);
    const exemplars = exemplarsOf.get(point);
    if (at === undefined) {
      at = target.index.size;
      target.index.set(key, at);
      into.labelValues.push(...values);
      if (histogram) {
        for (let bucket = 0; bucket < buckets; bucket++) into.counts.push(from.counts[point * buckets + bucket] ?? 0);
        into.count.push(from.count[point] ?? 0);
        into.sum.push(from.sum[point] ?? 0);
        into.min.push(from.min[point] ?? null);
        into.max.push(from.max[point] ?? null);
      } else into.values.push(from.values[point] ?? 0);
      if (exemplars !== undefined) target.exemplars.set(at, exemplars);
      continue;
    }
    if (histogram) {
      for (let bucket = 0; bucket < buckets; bucket++)
        into.counts[at * buckets + bucket] =
          (into.counts[at * buckets + bucket] ?? 0) + (from.counts[point * buckets + bucket] ?? 0);
      into.count[at] = (into.count[at] ?? 0) + (from.count[point] ?? 0);
      into.sum[at] = (into.sum[at] ?? 0) + (from.sum[point] ?? 0);
      into.min[at] = minOf(into.min[at] ?? null, from.min[point] ?? null);
      into.max[at] = maxOf(into.max[at] ?? null, from.max[point] ?? null);
      if (exemplars !== undefined) {
        const mine = target.exemplars.get(at);
        target.exemplars.set(at, mine === undefined ? exemplars : newerExemplars(mine, exemplars));
      }
      continue;
    }
    const left = into.values[at] ?? 0;
    const right = from.values[point] ?? 0;
    into.values[at] =
      from.dataPointType === DataPointType.GAUGE && rule === 'max'
        ? Math.max(left, right)
        : from.dataPointType === DataPointType.GAUGE && rule === 'min'
          ? Math.min(left, right)
          : left + right;
  }
  if (earlier(from.startTime, into.startTime) === from.startTime)
    target.columns = { ...into, startTime: from.startTime };
}

/**
 * Merge the collections of several workers (and the counts retired from exited ones) into one.
 * `gaugeRule` gives the rule of each of the helpers' gauges by metric name.
 *
 * @example
 * ```ts
 * const merged = mergeWorkerMetrics(parts, (name) => (name === 'gatewayz_model_health_pending_calls' ? 'sum' : 'max'));
 * ```
 */
export function mergeWorkerMetrics(
  parts: readonly MergePart[],
  gaugeRule: (metricName: string) => GaugeMergeRule,
): WorkerCollection {
  const targets = new Map<string, MergeTarget>();
  let ownScope: Scope | undefined;
  let resource: Attributes | undefined;
  const other = new Map<string, { scope: Scope; metrics: Map<string, MetricData> }>();
  for (const part of parts) {
    if (part.workerId !== undefined) resource ??= part.collection.resource;
    const own = part.collection.own;
    if (own !== undefined) {
      ownScope ??= own.scope;
      for (const metric of own.metrics) {
        const name = metric.descriptor.name;
        let target = targets.get(name);
        if (target === undefined) {
          target = { columns: emptyColumns(metric), index: new Map(), exemplars: new Map() };
          targets.set(name, target);
        }
        addColumns(target, metric, metric.dataPointType === DataPointType.GAUGE ? gaugeRule(name) : 'sum');
      }
    }
    // Per-process metrics of a worker that exited are gone with it; live ones stay per worker.
    if (part.workerId === undefined) continue;
    for (const scopeMetrics of part.collection.other) {
      let scope = other.get(scopeMetrics.scope.name);
      if (scope === undefined)
        other.set(scopeMetrics.scope.name, (scope = { scope: scopeMetrics.scope, metrics: new Map() }));
      for (const metric of scopeMetrics.metrics) {
        const points = (metric.dataPoints as ReadonlyArray<DataPoint<unknown>>).map((point) => ({
          ...point,
          attributes: { ...point.attributes, worker: part.workerId },
        }));
        const existing = scope.metrics.get(metric.descriptor.name);
        scope.metrics.set(metric.descriptor.name, {
          ...metric,
          dataPoints: [...((existing?.dataPoints ?? []) as Array<DataPoint<unknown>>), ...points],
        } as MetricData);
      }
    }
  }
  // The aggregate is no one process: attributes naming one worker would mislabel it.
  const { ['process.pid']: _pid, ['service.instance.id']: _instance, ...shared } = resource ?? {};
  return {
    resource: shared,
    own:
      ownScope === undefined
        ? undefined
        : {
            scope: ownScope,
            metrics: [...targets.values()].map((target) => ({
              ...target.columns,
              exemplars: [...target.exemplars.entries()],
            })),
          },
    other: [...other.values()].map((scope) => ({ scope: scope.scope, metrics: [...scope.metrics.values()] })),
  };
}

/**
 * What a worker that exited leaves behind: its monotonic counters and histograms, added to the
 * counts already retired, so the aggregate never goes backwards. Gauges, up-down counters and
 * per-process metrics are dropped.
 *
 * @example
 * ```ts
 * retired = retireWorker(retired, lastSnapshotOf(worker));
 * ```
 */
export function retireWorker(retired: WorkerCollection | undefined, last: WorkerCollection): WorkerCollection {
  const kept: WorkerCollection = {
    resource: {},
    other: [],
    own:
      last.own === undefined
        ? undefined
        : {
            scope: last.own.scope,
            metrics: last.own.metrics
              .filter(
                (metric) =>
                  metric.dataPointType === DataPointType.HISTOGRAM ||
                  (metric.dataPointType === DataPointType.SUM && metric.isMonotonic === true),
              )
              .map((metric) => ({ ...metric, exemplars: [] })),
          },
  };
  const parts: MergePart[] = [{ workerId: undefined, collection: kept }];
  if (retired !== undefined) parts.push({ workerId: undefined, collection: retired });
  return mergeWorkerMetrics(parts, () => 'sum');
}

/** The columns of `metric` as the data points a serializer reads. */
function fromColumns(metric: ColumnarMetric): MetricData {
  const width = metric.labels.length;
  const histogram = metric.dataPointType === DataPointType.HISTOGRAM;
  const points = histogram ? metric.count.length : metric.values.length;
  const buckets = metric.boundaries.length + 1;
  const exemplars = new Map(metric.exemplars);
  const dataPoints: Array<DataPoint<unknown>> = [];
  for (let point = 0; point < points; point++) {
    const attributes: Attributes = {};
    for (let label = 0; label < width; label++) {
      const value = metric.labelValues[point * width + label];
      if (value !== null && value !== undefined) attributes[metric.labels[label] as string] = value;
    }
    let value: unknown = metric.values[point];
    if (histogram) {
      const min = metric.min[point];
      const max = metric.max[point];
      value = {
        buckets: {
          boundaries: metric.boundaries,
          counts: metric.counts.slice(point * buckets, point * buckets + buckets),
        },
        count: metric.count[point] ?? 0,
        sum: metric.sum[point],
        ...(min !== null && min !== undefined ? { min } : {}),
        ...(max !== null && max !== undefined ? { max } : {}),
      } satisfies Histogram;
    }
    const slots = exemplars.get(point);
    dataPoints.push({
      startTime: metric.startTime,
      endTime: metric.endTime,
      attributes,
      value,
      // JSON turned empty slots into null; the exposition expects undefined there.
      ...(slots !== undefined
        ? { exemplars: { boundaries: slots.boundaries, slots: slots.slots.map((slot) => slot ?? undefined) } }
        : {}),
    });
  }
  const {
    labels: _labels,
    labelValues: _values,
    values: _numbers,
    boundaries: _b,
    counts: _c,
    count: _n,
    sum: _s,
    min: _min,
    max: _max,
    exemplars: _e,
    startTime: _start,
    endTime: _end,
    ...rest
  } = metric;
  return { ...rest, dataPoints } as unknown as MetricData;
}

/**
 * The scopes of a (merged) collection as `ResourceMetrics.scopeMetrics`, for the serializers.
 *
 * @example
 * ```ts
 * const resourceMetrics = { resource: resourceFromAttributes(merged.resource), scopeMetrics: toScopeMetrics(merged) };
 * ```
 */
export function toScopeMetrics(collection: WorkerCollection): ResourceMetrics['scopeMetrics'] {
  const scopes = collection.other.map((scope) => ({ scope: scope.scope, metrics: [...scope.metrics] }));
  // Where a single process has them too: after the SDK's own scopes, as the metric producer adds them.
  if (collection.own !== undefined)
    scopes.push({ scope: collection.own.scope, metrics: collection.own.metrics.map(fromColumns) });
  return scopes;
}
