/**
 * The aggregate a scrape of a node:cluster port answers: every worker's collected metrics merged
 * into one collection. The helpers' metrics (the `@gatewayz/telemetry` scope) merge by kind:
 * counters, up-down counters and histograms add up, gauges follow the rule the catalog states for
 * them. Metrics of other scopes (runtime, host, process) describe one process each and keep one
 * series per worker under a `worker` attribute.
 *
 * The primary numbers every label set of a metric once, in a {@link SeriesTable} kept from scrape
 * to scrape: a worker's point carries its slot in the table (found once per series, see
 * `wire-decoder.ts`), so merging is adding typed arrays slot by slot, with no label in sight.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { DataPointType, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import type { Slots, WireHeader } from './series-wire.js';

/**
 * How a gauge of several workers becomes one value (the catalog's `clusterMerge`).
 *
 * @example
 * ```ts
 * const rule: GaugeMergeRule = 'sum'; // e.g. calls waiting in each worker's write-behind buffer
 * ```
 */
export type GaugeMergeRule = 'sum' | 'max' | 'min';

export type Scope = { readonly name: string; readonly version?: string; readonly schemaUrl?: string };

/**
 * The label sets of one metric across every worker, each with its slot, in the order first seen.
 * Slots are never reused; the label names only grow (a label first seen later has no value in the
 * label sets before it).
 */
export class SeriesTable {
  readonly labels: string[] = [];
  /** Per slot, the attributes of the label set (the first worker's object). */
  readonly attributes: Attributes[] = [];
  private readonly slots = new Map<string, number>();

  private keyOf(attributes: Attributes): string {
    let key = '';
    for (let label = 0; label < this.labels.length; label++) {
      const value = attributes[this.labels[label] as string];
      key += (label === 0 ? '' : '\u0001') + (value === undefined || value === null ? '\u0002' : String(value));
    }
    return key;
  }

  /** The slot of a label set, numbered now if it is new. */
  slotOf(attributes: Attributes): number {
    let widened = false;
    for (const label in attributes)
      if (!this.labels.includes(label)) {
        this.labels.push(label);
        widened = true;
      }
    if (widened) {
      this.slots.clear();
      this.attributes.forEach((known, slot) => this.slots.set(this.keyOf(known), slot));
    }
    const key = this.keyOf(attributes);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.attributes.length;
      this.slots.set(key, slot);
      this.attributes.push(attributes);
    }
    return slot;
  }

  get size(): number {
    return this.attributes.length;
  }
}

/** Number columns of a metric: sums and gauges have `values`, histograms the rest. */
export interface NumberColumns {
  readonly values?: Float64Array;
  /** `boundaries.length + 1` counts per point. */
  readonly counts?: Float64Array;
  readonly count?: Float64Array;
  readonly sum?: Float64Array;
  /** NaN: no min or max. */
  readonly min?: Float64Array;
  readonly max?: Float64Array;
}

/** One of the helpers' metrics of one worker (or of the merge): its points by slot, with their numbers. */
export interface SlotMetric extends NumberColumns {
  readonly header: WireHeader;
  readonly table: SeriesTable;
  /** The slot of each point. */
  readonly slots: Int32Array;
  /** Histograms: `[point, exemplar slots]` of the points that have exemplars. */
  readonly exemplars: ReadonlyArray<readonly [number, Slots]>;
}

/** One worker's collection as the primary holds it, or the merged one. */
export interface WorkerCollection {
  readonly resource: Attributes;
  readonly scope: Scope | undefined;
  /** The helpers' metrics. */
  readonly metrics: readonly SlotMetric[];
  /** Every other scope's metrics as collected (a few dozen series: runtime, host). */
  readonly other: ReadonlyArray<{ readonly scope: Scope; readonly metrics: readonly MetricData[] }>;
}

/** A worker's part of the merge: live workers with their id, retired counts without one. */
export interface MergePart {
  /** `undefined` for the counts kept from workers that exited. */
  readonly workerId: string | undefined;
  readonly collection: WorkerCollection;
}

type Exemplar = { readonly timestampSeconds: number } | null | undefined;

/** Per bucket, the newer of two exemplars. */
function newerExemplars(left: Slots, right: Slots): Slots {
  if (left.slots.length !== right.slots.length) return left;
  return {
    boundaries: left.boundaries,
    slots: left.slots.map((mine, index) => {
      const theirs = right.slots[index] as Exemplar;
      if (mine == null) return theirs ?? null;
      if (theirs == null) return mine;
      return theirs.timestampSeconds > (mine as NonNullable<Exemplar>).timestampSeconds ? theirs : mine;
    }),
  };
}

const earlier = (left: HrTime, right: HrTime): HrTime =>
  left[0] < right[0] || (left[0] === right[0] && left[1] <= right[1]) ? left : right;

/** One metric being merged: numbers by slot, and which slots some part had. */
class Accumulator {
  readonly present: Uint8Array;
  readonly values: Float64Array;
  readonly counts: Float64Array;
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly exemplars = new Map<number, Slots>();
  private readonly buckets: number;
  startTime: HrTime;

  constructor(
    readonly first: SlotMetric,
    private readonly rule: GaugeMergeRule,
  ) {
    const size = first.table.size;
    const histogram = first.header.dataPointType === DataPointType.HISTOGRAM;
    this.buckets = first.header.boundaries.length + 1;
    this.present = new Uint8Array(size);
    this.values = new Float64Array(histogram ? 0 : size);
    this.counts = new Float64Array(histogram ? size * this.buckets : 0);
    this.count = new Float64Array(histogram ? size : 0);
    this.sum = new Float64Array(histogram ? size : 0);
    this.min = new Float64Array(histogram ? size : 0).fill(NaN);
    this.max = new Float64Array(histogram ? size : 0).fill(NaN);
    this.startTime = first.header.startTime;
  }

  add(metric: SlotMetric): void {
    const { slots } = metric;
    // Workers of two versions of an application during a rolling restart: the first one's shape
    // wins. Buckets with other bounds, even as many, count other things: never added up.
    const boundaries = metric.header.boundaries;
    const firstBoundaries = this.first.header.boundaries;
    if (
      metric.header.dataPointType !== this.first.header.dataPointType ||
      boundaries.length !== firstBoundaries.length ||
      (boundaries !== firstBoundaries && boundaries.some((bound, index) => bound !== firstBoundaries[index]))
    )
      return;
    const present = this.present;
    if (earlier(metric.header.startTime, this.startTime) === metric.header.startTime)
      this.startTime = metric.header.startTime;
    if (this.first.header.dataPointType !== DataPointType.HISTOGRAM) {
      const into = this.values;
      const from = metric.values as Float64Array;
      const gauge = this.first.header.dataPointType === DataPointType.GAUGE;
      const rule = gauge ? this.rule : 'sum';
      for (let point = 0; point < slots.length; point++) {
        const slot = slots[point] as number;
        const value = from[point] as number;
        if (present[slot] === 0) {
          present[slot] = 1;
          into[slot] = value;
        } else if (rule === 'sum') into[slot] = (into[slot] as number) + value;
        else if (rule === 'max') into[slot] = Math.max(into[slot] as number, value);
        else into[slot] = Math.min(into[slot] as number, value);
      }
      return;
    }
    const buckets = this.buckets;
    const { counts, count, sum, min, max } = metric as Required<NumberColumns>;
    for (let point = 0; point < slots.length; point++) {
      const slot = slots[point] as number;
      present[slot] = 1;
      for (let bucket = 0; bucket < buckets; bucket++)
        (this.counts[slot * buckets + bucket] as number) += counts[point * buckets + bucket] as number;
      (this.count[slot] as number) += count[point] as number;
      (this.sum[slot] as number) += sum[point] as number;
      const low = min[point] as number;
      const high = max[point] as number;
      if (!(low >= (this.min[slot] as number))) this.min[slot] = Number.isNaN(low) ? (this.min[slot] as number) : low;
      if (!(high <= (this.max[slot] as number)))
        this.max[slot] = Number.isNaN(high) ? (this.max[slot] as number) : high;
    }
    for (const [point, exemplars] of metric.exemplars) {
      const slot = slots[point] as number;
      const mine = this.exemplars.get(slot);
      this.exemplars.set(slot, mine === undefined ? exemplars : newerExemplars(mine, exemplars));
    }
  }

  /** The merged metric: the slots some part had, in slot order. */
  result(): SlotMetric {
    const slots: number[] = [];
    for (let slot = 0; slot < this.present.length; slot++) if (this.present[slot] === 1) slots.push(slot);
    const header = { ...this.first.header, startTime: this.startTime };
    const base = { header, table: this.first.table, slots: Int32Array.from(slots) };
    if (header.dataPointType !== DataPointType.HISTOGRAM)
      return { ...base, values: Float64Array.from(slots, (slot) => this.values[slot] as number), exemplars: [] };
    const buckets = this.buckets;
    const counts = new Float64Array(slots.length * buckets);
    slots.forEach((slot, point) =>
      counts.set(this.counts.subarray(slot * buckets, slot * buckets + buckets), point * buckets),
    );
    const pointOf = new Map(this.exemplars.size === 0 ? [] : slots.map((slot, point) => [slot, point]));
    return {
      ...base,
      counts,
      count: Float64Array.from(slots, (slot) => this.count[slot] as number),
      sum: Float64Array.from(slots, (slot) => this.sum[slot] as number),
      min: Float64Array.from(slots, (slot) => this.min[slot] as number),
      max: Float64Array.from(slots, (slot) => this.max[slot] as number),
      exemplars: [...this.exemplars].map(([slot, exemplars]) => [pointOf.get(slot) as number, exemplars] as const),
    };
  }
}

/**
 * A point's attributes with the `worker` attribute of its worker. An application's own `worker`
 * attribute is kept as `exported_worker`, as Prometheus keeps a scraped label that clashes with a
 * target label (`exported_exported_worker` when that is taken too, and so on): overwritten, the
 * series of one worker that differed only by it became one series, written several times.
 */
function withWorker(attributes: Attributes, workerId: string): Attributes {
  if (!('worker' in attributes)) return { ...attributes, worker: workerId };
  const { worker: own, ...rest } = attributes;
  let exported = 'exported_worker';
  while (exported in rest) exported = `exported_${exported}`;
  return { ...rest, [exported]: own, worker: workerId };
}

/**
 * Merge the collections of several workers (and the counts retired from exited ones) into one.
 * `gaugeRule` gives the rule of each of the helpers' gauges by metric name. Every part's metrics
 * must number their series in the same tables (one {@link SeriesTable} per metric name).
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
  const accumulators = new Map<string, Accumulator>();
  let scope: Scope | undefined;
  let resource: Attributes | undefined;
  const other = new Map<string, { scope: Scope; metrics: Map<string, MetricData> }>();
  for (const part of parts) {
    if (part.workerId !== undefined) resource ??= part.collection.resource;
    scope ??= part.collection.scope;
    for (const metric of part.collection.metrics) {
      const name = metric.header.descriptor.name;
      let accumulator = accumulators.get(name);
      if (accumulator === undefined) accumulators.set(name, (accumulator = new Accumulator(metric, gaugeRule(name))));
      accumulator.add(metric);
    }
    // Per-process metrics of a worker that exited are gone with it; live ones stay per worker.
    if (part.workerId === undefined) continue;
    for (const scopeMetrics of part.collection.other) {
      let kept = other.get(scopeMetrics.scope.name);
      if (kept === undefined)
        other.set(scopeMetrics.scope.name, (kept = { scope: scopeMetrics.scope, metrics: new Map() }));
      for (const metric of scopeMetrics.metrics) {
        const points = (metric.dataPoints as ReadonlyArray<DataPoint<unknown>>).map((point) => ({
          ...point,
          attributes: withWorker(point.attributes, part.workerId as string),
        }));
        const existing = kept.metrics.get(metric.descriptor.name);
        kept.metrics.set(metric.descriptor.name, {
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
    scope,
    metrics: [...accumulators.values()].map((accumulator) => accumulator.result()),
    other: [...other.values()].map((kept) => ({ scope: kept.scope, metrics: [...kept.metrics.values()] })),
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
    scope: last.scope,
    other: [],
    metrics: last.metrics
      .filter(
        (metric) =>
          metric.header.dataPointType === DataPointType.HISTOGRAM ||
          (metric.header.dataPointType === DataPointType.SUM && metric.header.isMonotonic === true),
      )
      .map((metric) => ({ ...metric, exemplars: [] })),
  };
  const parts: MergePart[] = [{ workerId: undefined, collection: kept }];
  if (retired !== undefined) parts.push({ workerId: undefined, collection: retired });
  return mergeWorkerMetrics(parts, () => 'sum');
}
