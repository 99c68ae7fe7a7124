/**
 * The receiver side of `series-wire.ts`: parts of a collection put together, with the sender's
 * dictionary kept from one collection to the next.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import type { SeriesTable, SlotMetric } from './merge-worker-metrics.js';
import { decodeNumbers, uint32s, type Slots, type WireHeader, type WireSlice } from './series-wire.js';

/** A series the receiver knows: its attributes, and where the primary merges it. */
interface Entry {
  readonly attributes: Attributes;
  /** Its slot in `table` (the primary's numbering across workers), once looked up. */
  table?: SeriesTable;
  slot?: number;
}

/** The receiver's copy of one metric's dictionary. */
interface ReceivedDictionary {
  readonly entries: Entry[];
}

/** One metric of a collection being received: its header and the decoded slices so far. */
interface ReceivedMetric {
  header: WireHeader | undefined;
  readonly slices: Array<{ entries: Entry[]; slice: WireSlice; numbers: Record<string, Float64Array> }>;
}

/** A collection being received, part by part. */
export type Assembly = Map<string, ReceivedMetric>;

const NUMBER_FIELDS = ['values', 'counts', 'count', 'sum', 'min', 'max'] as const;

/** The receiver side of one sender: its dictionaries, and collections put together from parts. */
export class WireDecoder {
  private readonly metrics = new Map<string, ReceivedDictionary>();
  private session: string | undefined;

  /** Forget every dictionary when the sender is a new one. */
  useSession(session: string | undefined): void {
    if (session === this.session) return;
    this.session = session;
    this.metrics.clear();
  }

  /**
   * Read one part into `assembly`. Every part must be read, in the order sent, even of a
   * collection no one waits for any more: the dictionary grows with it.
   */
  apply(assembly: Assembly, slices: readonly WireSlice[]): void {
    for (const slice of slices) {
      let dictionary = this.metrics.get(slice.name);
      if (dictionary === undefined || slice.reset === true) {
        dictionary = { entries: [] };
        this.metrics.set(slice.name, dictionary);
      }
      const width = slice.labels.length;
      for (let added = 0; added < slice.added; added++) {
        const attributes: Attributes = {};
        for (let label = 0; label < width; label++) {
          const value = slice.rows[added * width + label];
          if (value !== null && value !== undefined) attributes[slice.labels[label] as string] = value;
        }
        dictionary.entries.push({ attributes: Object.freeze(attributes) });
      }
      let metric = assembly.get(slice.name);
      if (metric === undefined) assembly.set(slice.name, (metric = { header: undefined, slices: [] }));
      if (slice.header !== undefined) metric.header = slice.header;
      // Resolved now: a later reset of the dictionary must not change what this slice meant.
      const entries: Entry[] = new Array<Entry>(slice.points);
      const ids = slice.ids !== undefined ? uint32s(slice.ids) : undefined;
      for (let index = 0; index < slice.points; index++) {
        const entry = dictionary.entries[ids !== undefined ? (ids[index] as number) : (slice.firstId ?? 0) + index];
        if (entry === undefined) throw new Error(`cluster metrics: series of ${slice.name} unknown to the receiver`);
        entries[index] = entry;
      }
      const numbers: Record<string, Float64Array> = {};
      for (const field of NUMBER_FIELDS) if (slice[field] !== undefined) numbers[field] = decodeNumbers(slice[field]);
      metric.slices.push({ entries, slice, numbers });
    }
  }

  /**
   * The metrics of a complete `assembly` with each point's slot in its metric's table (looked up
   * once per series and kept): what the primary merges.
   */
  toSlots(assembly: Assembly, tableOf: (name: string) => SeriesTable): SlotMetric[] {
    const metrics: SlotMetric[] = [];
    for (const [name, received] of assembly) {
      const header = received.header;
      if (header === undefined) continue;
      const table = tableOf(name);
      const points = received.slices.reduce((total, { entries }) => total + entries.length, 0);
      const slots = new Int32Array(points);
      const exemplars: Array<readonly [number, Slots]> = [];
      let offset = 0;
      for (const { entries, slice } of received.slices) {
        for (let index = 0; index < entries.length; index++) {
          const entry = entries[index] as Entry;
          if (entry.table !== table) {
            entry.table = table;
            entry.slot = table.slotOf(entry.attributes);
          }
          slots[offset + index] = entry.slot as number;
        }
        for (const [point, found] of slice.exemplars ?? []) exemplars.push([offset + point, found]);
        offset += entries.length;
      }
      const numbers: Record<string, Float64Array> = {};
      for (const field of NUMBER_FIELDS)
        if (received.slices.some((slice) => slice.numbers[field] !== undefined))
          numbers[field] = concat(received.slices.map((slice) => slice.numbers[field]));
      metrics.push({ header, table, slots, exemplars, ...numbers });
    }
    return metrics;
  }

  /** The metrics of a complete `assembly` as data points; a series keeps its attributes object from one collection to the next. */
  toMetricData(assembly: Assembly): MetricData[] {
    const metrics: MetricData[] = [];
    for (const received of assembly.values()) {
      const header = received.header;
      if (header === undefined) continue;
      const { startTime, endTime, boundaries } = header;
      const histogram = header.dataPointType === DataPointType.HISTOGRAM;
      const buckets = boundaries.length + 1;
      const dataPoints: Array<DataPoint<unknown>> = [];
      for (const { entries, slice, numbers } of received.slices) {
        if (!histogram) {
          const values = numbers['values'] as Float64Array;
          for (let index = 0; index < entries.length; index++)
            dataPoints.push({
              startTime,
              endTime,
              attributes: (entries[index] as Entry).attributes,
              value: values[index],
            });
          continue;
        }
        const exemplars = new Map(slice.exemplars ?? []);
        const all = numbers['counts'] as Float64Array;
        const count = numbers['count'] as Float64Array;
        const sum = numbers['sum'] as Float64Array;
        const minimum = numbers['min'] as Float64Array;
        const maximum = numbers['max'] as Float64Array;
        for (let index = 0; index < entries.length; index++) {
          const counts = new Array<number>(buckets);
          for (let bucket = 0; bucket < buckets; bucket++) counts[bucket] = all[index * buckets + bucket] as number;
          const value: Histogram = {
            buckets: { boundaries, counts },
            count: count[index] as number,
            sum: sum[index],
          };
          const min = minimum[index] as number;
          const max = maximum[index] as number;
          if (!Number.isNaN(min)) value.min = min;
          if (!Number.isNaN(max)) value.max = max;
          const point: DataPoint<Histogram> & { exemplars?: unknown } = {
            startTime,
            endTime,
            attributes: (entries[index] as Entry).attributes,
            value,
          };
          const slots = exemplars.get(index);
          // JSON turned empty slots into null; the exposition expects undefined there.
          if (slots !== undefined)
            point.exemplars = { boundaries: slots.boundaries, slots: slots.slots.map((slot) => slot ?? undefined) };
          dataPoints.push(point);
        }
      }
      const { boundaries: _boundaries, startTime: _start, endTime: _end, ...rest } = header;
      metrics.push({ ...rest, dataPoints } as unknown as MetricData);
    }
    return metrics;
  }
}

/** Slices' columns one after the other. */
function concat(parts: ReadonlyArray<Float64Array | undefined>): Float64Array {
  const present = parts.filter((part): part is Float64Array => part !== undefined);
  if (present.length === 1) return present[0] as Float64Array;
  const all = new Float64Array(present.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of present) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
