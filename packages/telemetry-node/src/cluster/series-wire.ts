/**
 * How the helpers' series travel between the processes of a cluster, scrape after scrape, cheaply:
 *
 * - **A dictionary per sender and receiver.** A series' labels cross the channel once: the sender
 *   numbers each series the first time it sends it and sends its label values with it; afterwards
 *   only the number travels. The receiver keeps the label values (and, for the exposition, one
 *   attributes object per series, so the serializer's label cache holds across scrapes).
 * - **Numbers as bytes.** Values and bucket counts travel as the base64 text of a `Float64Array`:
 *   one string per column, which both serializations of the IPC channel (JSON and `advanced`)
 *   carry without looking at each number.
 * - **In parts.** A collection is sent as a sequence of messages of at most `pointsPerPart` points
 *   each, encoded lazily, so the sender can yield to the event loop between parts and no single
 *   step of a large collection holds the loop.
 *
 * The dictionaries are reset when they outgrow the series they describe (a series store that
 * replaced its label sets), and wholesale when the other side is a new one (`session`).
 *
 * - `wire-encoder.ts`: the sender, from collected data points (a worker) or merged columns (the primary)
 * - `wire-decoder.ts`: the receiver, to columns (the primary merges them) or data points (a worker serves them)
 */
import type { HrTime } from '@opentelemetry/api';
import type { AggregationTemporality, DataPointType, MetricDescriptor } from '@opentelemetry/sdk-metrics';

/** Default points per message: a few milliseconds of encoding or decoding. */
export const DEFAULT_POINTS_PER_PART = 2000;

/** Exemplar slots of one histogram series as they travel (empty slots become `null` in JSON). */
export type Slots = { readonly boundaries: readonly number[]; readonly slots: ReadonlyArray<unknown> };

/** What describes a metric, sent with its first slice of a collection. */
export interface WireHeader {
  readonly descriptor: MetricDescriptor;
  readonly dataPointType: DataPointType;
  readonly aggregationTemporality: AggregationTemporality;
  readonly isMonotonic?: boolean;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  /** Histograms: the bucket boundaries of every point. */
  readonly boundaries: number[];
}

/** Points `[from, from + points)` of one metric of a collection. */
export interface WireSlice {
  readonly name: string;
  readonly header?: WireHeader;
  /** The sender's dictionary of this metric was rebuilt: forget its ids first. */
  readonly reset?: true;
  readonly points: number;
  /** Label names of the dictionary's rows (they only grow until a reset). */
  readonly labels: string[];
  /** How many series are numbered for the first time here (the next ids, in order). */
  readonly added: number;
  /** Their label values, `labels.length` per series. */
  readonly rows: Array<string | null>;
  /** The series ids of the points (base64 `Uint32Array`), unless they are `firstId, firstId + 1, …`. */
  readonly ids?: string;
  readonly firstId?: number;
  /**
   * Sums and gauges: one value per point. Histograms: `counts` (`boundaries.length + 1` per point),
   * `count`, `sum`, `min`, `max` (NaN: none). Each column is {@link encodeNumbers}' text.
   */
  readonly values?: string;
  readonly counts?: string;
  readonly count?: string;
  readonly sum?: string;
  readonly min?: string;
  readonly max?: string;
  /** Histograms: `[point in this slice, slots]`. */
  readonly exemplars?: Array<[number, Slots]>;
}

export const toBase64 = (array: Float64Array | Uint32Array): string =>
  Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');

function denseNumbers(column: Float64Array): string {
  for (let index = 0; index < column.length; index++) {
    const value = column[index] as number;
    if (!(value >= 0 && value <= 0xffffffff && Math.floor(value) === value)) return `f${toBase64(column)}`;
  }
  return `u${toBase64(Uint32Array.from(column))}`;
}

/**
 * A column of numbers as text, whichever is shortest of: `u` and the base64 of a `Uint32Array`
 * when every number is a whole number that fits (counts mostly are: half the bytes); `f` and the
 * base64 of the `Float64Array`; `s` when most numbers are zero (histogram buckets mostly are): the
 * length, the positions of the others (`Uint32Array`) and their values, `:`-separated.
 */
export function encodeNumbers(column: Float64Array): string {
  let others = 0;
  for (let index = 0; index < column.length; index++) if (!Object.is(column[index], 0)) others++;
  if (column.length < 16 || others * 2 > column.length) return denseNumbers(column);
  const positions = new Uint32Array(others);
  const values = new Float64Array(others);
  let at = 0;
  for (let index = 0; index < column.length; index++) {
    const value = column[index] as number;
    if (Object.is(value, 0)) continue;
    positions[at] = index;
    values[at++] = value;
  }
  return `s${column.length}:${toBase64(positions)}:${denseNumbers(values)}`;
}

/** The inverse of {@link encodeNumbers}. */
export function decodeNumbers(text: string): Float64Array {
  if (text[0] === 's') {
    const [length, positions, values] = text.slice(1).split(':') as [string, string, string];
    const column = new Float64Array(Number(length));
    const at = uint32s(positions);
    const found = decodeNumbers(values);
    for (let index = 0; index < at.length; index++) column[at[index] as number] = found[index] as number;
    return column;
  }
  const bytes = Buffer.from(text.slice(1), 'base64');
  if (text[0] === 'u') {
    const whole = new Uint32Array(bytes.length / 4);
    new Uint8Array(whole.buffer).set(bytes);
    return Float64Array.from(whole);
  }
  const array = new Float64Array(bytes.length / 8);
  new Uint8Array(array.buffer).set(bytes);
  return array;
}

export function uint32s(text: string): Uint32Array {
  const bytes = Buffer.from(text, 'base64');
  const array = new Uint32Array(bytes.length / 4);
  new Uint8Array(array.buffer).set(bytes);
  return array;
}
