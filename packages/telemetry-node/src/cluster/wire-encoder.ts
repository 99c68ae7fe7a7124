/**
 * The sender side of `series-wire.ts`: a collection's metrics as slices of columns, in parts, each
 * series' labels sent once per receiver.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import type { NumberColumns, SlotMetric } from './merge-worker-metrics.js';
import {
  DEFAULT_POINTS_PER_PART,
  encodeNumbers,
  toBase64,
  type Slots,
  type WireHeader,
  type WireSlice,
} from './series-wire.js';

/** One metric of a collection as the encoder reads it, whatever it was collected as. */
export interface PointSource {
  readonly name: string;
  readonly header: WireHeader;
  readonly points: number;
  /** What identifies point `point`'s series from one collection to the next (a `Map` key). */
  identity(point: number): unknown;
  attributes(point: number): Attributes;
  /** The numbers of points `[from, from + points)`. */
  numbers(from: number, points: number): NumberColumns;
  /** Histograms: `[point − from, slots]` of the points of `[from, from + points)` that have exemplars. */
  exemplars(from: number, points: number): Array<[number, Slots]>;
}

/** A collected metric (`DataPoint`s) as a {@link PointSource}; a series is its attributes object. */
export function pointsOfMetricData(metric: MetricData): PointSource {
  const points = metric.dataPoints as ReadonlyArray<DataPoint<unknown> & { exemplars?: Slots }>;
  const first = points[0];
  const histogram = metric.dataPointType === DataPointType.HISTOGRAM;
  const boundaries = histogram && first !== undefined ? [...(first.value as Histogram).buckets.boundaries] : [];
  const buckets = boundaries.length + 1;
  return {
    name: metric.descriptor.name,
    header: {
      descriptor: metric.descriptor,
      dataPointType: metric.dataPointType,
      aggregationTemporality: metric.aggregationTemporality,
      ...(metric.dataPointType === DataPointType.SUM ? { isMonotonic: metric.isMonotonic } : {}),
      startTime: first?.startTime ?? [0, 0],
      endTime: first?.endTime ?? [0, 0],
      boundaries,
    },
    points: points.length,
    identity: (point) => (points[point] as DataPoint<unknown>).attributes,
    attributes: (point) => (points[point] as DataPoint<unknown>).attributes,
    numbers(from, count) {
      if (!histogram) {
        const values = new Float64Array(count);
        for (let index = 0; index < count; index++) values[index] = (points[from + index] as DataPoint<number>).value;
        return { values };
      }
      const columns = {
        counts: new Float64Array(count * buckets),
        count: new Float64Array(count),
        sum: new Float64Array(count),
        min: new Float64Array(count),
        max: new Float64Array(count),
      };
      for (let index = 0; index < count; index++) {
        const value = (points[from + index] as DataPoint<Histogram>).value;
        const bucketCounts = value.buckets.counts;
        for (let bucket = 0; bucket < buckets; bucket++)
          columns.counts[index * buckets + bucket] = bucketCounts[bucket] ?? 0;
        columns.count[index] = value.count;
        columns.sum[index] = value.sum ?? 0;
        columns.min[index] = value.min ?? NaN;
        columns.max[index] = value.max ?? NaN;
      }
      return columns;
    },
    exemplars(from, count) {
      const found: Array<[number, Slots]> = [];
      if (!histogram) return found;
      for (let index = 0; index < count; index++) {
        const slots = points[from + index]?.exemplars;
        if (slots !== undefined) found.push([index, slots]);
      }
      return found;
    },
  };
}

/** A merged metric as a {@link PointSource}; a series is its slot in the primary's table. */
export function pointsOfSlotMetric(metric: SlotMetric): PointSource {
  const { slots, table, header } = metric;
  const buckets = header.boundaries.length + 1;
  const histogram = header.dataPointType === DataPointType.HISTOGRAM;
  return {
    name: header.descriptor.name,
    header,
    points: slots.length,
    identity: (point) => slots[point],
    attributes: (point) => table.attributes[slots[point] as number] as Attributes,
    numbers(from, count) {
      const to = from + count;
      if (!histogram) return { values: (metric.values as Float64Array).subarray(from, to) };
      return {
        counts: (metric.counts as Float64Array).subarray(from * buckets, to * buckets),
        count: (metric.count as Float64Array).subarray(from, to),
        sum: (metric.sum as Float64Array).subarray(from, to),
        min: (metric.min as Float64Array).subarray(from, to),
        max: (metric.max as Float64Array).subarray(from, to),
      };
    },
    exemplars(from, count) {
      const found: Array<[number, Slots]> = [];
      for (const [point, slots] of metric.exemplars)
        if (point >= from && point < from + count) found.push([point - from, slots]);
      return found;
    },
  };
}

/** The sender's numbering of one metric's series. */
interface SentDictionary {
  readonly labels: string[];
  readonly ids: Map<unknown, number>;
}

/** The sender side: which series the receiver already knows, per metric. */
export class WireEncoder {
  private readonly metrics = new Map<string, SentDictionary>();
  private session: string | undefined;

  /** Forget everything sent when the receiver is a new one. */
  useSession(session: string | undefined): void {
    if (session === this.session) return;
    this.session = session;
    this.metrics.clear();
  }

  /**
   * The slices of `sources`, in parts of at most `pointsPerPart` points, encoded as the parts are
   * taken. Take them in order and send every one: the dictionary counts a series as sent when its
   * part is made.
   */
  *parts(sources: readonly PointSource[], pointsPerPart = DEFAULT_POINTS_PER_PART): Generator<WireSlice[]> {
    let part: WireSlice[] = [];
    let room = pointsPerPart;
    for (const source of sources) {
      let dictionary = this.metrics.get(source.name);
      // A dictionary that outgrew the series it describes (label sets replaced) starts again.
      const reset = dictionary === undefined || dictionary.ids.size > 2 * source.points + 1024;
      if (reset) this.metrics.set(source.name, (dictionary = { labels: [], ids: new Map() }));
      let from = 0;
      do {
        const points = Math.min(room, source.points - from);
        part.push(this.slice(source, dictionary as SentDictionary, from, points, from === 0, reset && from === 0));
        from += points;
        room -= points;
        if (room === 0) {
          yield part;
          part = [];
          room = pointsPerPart;
        }
      } while (from < source.points);
    }
    if (part.length > 0) yield part;
  }

  private slice(
    source: PointSource,
    dictionary: SentDictionary,
    from: number,
    points: number,
    first: boolean,
    reset: boolean,
  ): WireSlice {
    const { labels, ids } = dictionary;
    const identities = new Uint32Array(points);
    const rows: Array<string | null> = [];
    const newAttributes: Attributes[] = [];
    let sequential = true;
    let firstId = -1;
    for (let index = 0; index < points; index++) {
      const identity = source.identity(from + index);
      let id = ids.get(identity);
      if (id === undefined) {
        id = ids.size;
        ids.set(identity, id);
        const attributes = source.attributes(from + index);
        for (const label in attributes) if (!labels.includes(label)) labels.push(label);
        newAttributes.push(attributes);
      }
      identities[index] = id;
      if (index === 0) firstId = id;
      else if (id !== firstId + index) sequential = false;
    }
    // Rows after the labels they use are known: a label first seen in this slice counts for all of them.
    for (const attributes of newAttributes)
      for (const label of labels) {
        const value = attributes[label];
        rows.push(value === undefined || value === null ? null : String(value));
      }
    const numbers: Record<string, string> = {};
    for (const [field, column] of Object.entries(source.numbers(from, points)))
      if (column !== undefined) numbers[field] = encodeNumbers(column as Float64Array);
    const exemplars = source.exemplars(from, points);
    if (exemplars.length > 0) Object.assign(numbers, { exemplars });
    return {
      name: source.name,
      ...(first ? { header: source.header } : {}),
      ...(reset ? { reset: true as const } : {}),
      points,
      labels: [...labels],
      added: newAttributes.length,
      rows,
      ...(sequential ? { firstId: points === 0 ? 0 : firstId } : { ids: toBase64(identities) }),
      ...numbers,
    };
  }
}
