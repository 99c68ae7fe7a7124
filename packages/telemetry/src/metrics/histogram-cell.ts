import { bucketIndex } from './exemplars.js';
import { ExponentialHistogram, type ExponentialHistogramLimits } from './exponential-histogram.js';
import type { SeriesCell } from './series-store.js';

/**
 * Add `value` to the in-process histogram of the series `cell` (producer export): its bucket count,
 * count, sum, min and max, and its exponential aggregation when the instance keeps one. Returns the
 * index of the bucket it fell in (`boundaries.length` for `+Inf`), where its exemplar goes.
 */
export function aggregateHistogramValue(
  cell: SeriesCell,
  boundaries: readonly number[],
  value: number,
  exponentialLimits: ExponentialHistogramLimits | undefined,
): number {
  const index = bucketIndex(boundaries, value);
  let histogram = cell.histogram;
  if (histogram === undefined) {
    histogram = cell.histogram = {
      counts: new Array<number>(boundaries.length + 1).fill(0),
      count: 0,
      sum: 0,
      min: value,
      max: value,
    };
  }
  histogram.counts[index]! += 1;
  histogram.count++;
  histogram.sum += value;
  if (value < histogram.min) histogram.min = value;
  if (value > histogram.max) histogram.max = value;
  if (exponentialLimits !== undefined)
    (cell.exponentialHistogram ??= new ExponentialHistogram(exponentialLimits)).record(value);
  return index;
}
