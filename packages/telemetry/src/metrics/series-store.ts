import type { Attributes } from '@opentelemetry/api';
import type { ExemplarSlots } from './exemplars.js';
import type { ExponentialHistogram } from './exponential-histogram.js';
import type { MetricDefinition } from './metric-definition.js';

/**
 * Bucket counts of one histogram series aggregated in-process (producer export). `counts` has one
 * slot per boundary plus the `+Inf` slot.
 *
 * @example
 * ```ts
 * const histogram: HistogramState | undefined = cell.histogram;
 * const meanSeconds = histogram !== undefined && histogram.count > 0 ? histogram.sum / histogram.count : undefined;
 * ```
 */
export interface HistogramState {
  /** Observations per bucket (not cumulative): a value lands in the first bucket whose boundary is >= it. */
  readonly counts: number[];
  /** Number of observations. */
  count: number;
  /** Sum of the observed values. */
  sum: number;
  /** Smallest observed value. */
  min: number;
  /** Largest observed value. */
  max: number;
}

/**
 * One label set of one metric: its running value (counters, gauges) and its frozen attributes.
 *
 * @example
 * ```ts
 * for (const { name, cells } of telemetry.exportableMetrics()) {
 *   for (const cell of cells) console.log(name, cell.attributes, cell.value);
 * }
 * ```
 */
export interface SeriesCell {
  /** Running value: the counter total, the up-down counter level or the last gauge value (0 for histograms). */
  value: number;
  /** The series' label values, frozen; the same object is passed with every recording of the series. */
  readonly attributes: Attributes;
  /** Histogram aggregation, when the instance exports through a metric producer. */
  histogram?: HistogramState;
  /** The same observations in a base-2 exponential histogram, when the instance keeps one (`exponentialHistograms`). */
  exponentialHistogram?: ExponentialHistogram;
  /** Exemplars of a histogram series, when captured: one slot per bucket, newest wins. */
  exemplars?: ExemplarSlots;
  /**
   * True once the series was removed (`GatewayTelemetry.removeGaugeSeries()`): no collection reads
   * it any more, and recording the same labels again creates a new series. Code that keeps a cell
   * between recordings checks it and looks the series up again.
   */
  readonly removed?: boolean;
  /**
   * @internal What the helper writing the series keeps to derive its value (a rate-limit window, a
   * model's token totals): a plain object with a `kind`, so it reads the same in another build of
   * the package. It goes with the series: label values folded into `other` share it, a removed
   * series takes it away, and an instance that continues another copies it with the value.
   */
  helperState?: { readonly kind: string };
}

/** Why a label value was refused. */
export type LabelRejection = 'invalid_label_type' | 'empty_label' | 'label_too_long' | 'unknown_label_value';

/** A refused label value: which label, why, and the value as given. */
export interface LabelRejectionDetail {
  readonly reason: LabelRejection;
  readonly label: string;
  readonly value: unknown;
}

/**
 * What a store reports while it looks up label sets, handed to it once at construction: the rare
 * outcomes of a lookup (a refused value, a fold into the overflow series) arrive here as they
 * happen, so the caller never reads them back from the store.
 */
export interface SeriesStoreListener {
  /** A label value was refused; the lookup returns undefined. */
  labelRejected(rejection: LabelRejectionDetail): void;
  /** A new label set was folded into the overflow series because the store is full. */
  seriesOverflowed(): void;
}

/** Label limits of one store. */
export interface SeriesLimits {
  readonly maxSeries: number;
  readonly maxLabelLength: number;
}

/**
 * A class rather than an object literal: V8 then keeps `value` as an unboxed double updated in
 * place, so `cell.value += x` allocates nothing (measured in the record-path benchmark).
 */
class Cell implements SeriesCell {
  value = 0;
  histogram: HistogramState | undefined = undefined;
  exponentialHistogram: ExponentialHistogram | undefined = undefined;
  exemplars: ExemplarSlots | undefined = undefined;
  removed = false;
  helperState: { readonly kind: string } | undefined = undefined;
  constructor(readonly attributes: Attributes) {}
}

/**
 * Label value used in place of real values once a metric reaches its series limit. Labels with a
 * closed set of values (such as `status` or `state`) keep theirs; each folded recording is counted
 * in `gatewayz_telemetry_label_overflow_total{metric}`.
 *
 * @example
 * ```ts
 * telemetry.currentValue('costByProvider', { provider: OVERFLOW_LABEL_VALUE }); // USD of providers past the limit
 * ```
 */
export const OVERFLOW_LABEL_VALUE = 'other';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;
/**
 * A UTF-16 surrogate without its pair. The exposition is UTF-8, where it becomes U+FFFD: two label
 * values differing only there (`m\uD800`, `m\uD801`) were two series here but one label set on the
 * wire, and Prometheus kept the first and dropped the others. Normalised to U+FFFD here, they are one.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

type Level = Map<string | undefined, Level | SeriesCell>;

/** Key part standing for an absent optional label in the normalised-key index. */
const ABSENT = '\u0001';

/**
 * The label sets of one metric. Lookups of label values seen before walk nested maps keyed by the
 * raw values, so the record path allocates nothing; the first sighting normalises and validates
 * the values and enforces the series limit.
 */
export class SeriesStore {
  readonly definition: MetricDefinition;
  /** Every cell, for observable callbacks and tests. */
  readonly cells: SeriesCell[] = [];
  private readonly root: Level = new Map();
  private readonly byNormalisedKey = new Map<string, SeriesCell>();
  private readonly labelCount: number;
  private readonly optional: ReadonlySet<string>;
  private limits: SeriesLimits;
  private listener: SeriesStoreListener;
  private noLabelCell: SeriesCell | undefined;

  constructor(definition: MetricDefinition, limits: SeriesLimits, listener: SeriesStoreListener) {
    this.definition = definition;
    this.labelCount = definition.labels.length;
    this.optional = new Set(definition.optionalLabels ?? []);
    this.limits = limits;
    this.listener = listener;
  }

  get seriesCount(): number {
    return this.cells.length;
  }

  /**
   * The cell for positional label values, or `undefined` when a value is refused (reported to the
   * listener, as is a fold into the overflow series). Positional arguments avoid allocating an
   * array per call.
   */
  lookup(v0?: unknown, v1?: unknown, v2?: unknown, v3?: unknown, v4?: unknown): SeriesCell | undefined {
    const count = this.labelCount;
    if (count === 0) return (this.noLabelCell ??= this.createCell([]));
    let level: Level = this.root;
    for (let index = 0; index < count; index++) {
      const raw = index === 0 ? v0 : index === 1 ? v1 : index === 2 ? v2 : index === 3 ? v3 : v4;
      if (typeof raw !== 'string' && raw !== undefined) break;
      const next = level.get(raw);
      if (next === undefined) break;
      if (index === count - 1) return next as SeriesCell;
      level = next as Level;
    }
    return this.slowLookup([v0, v1, v2, v3, v4].slice(0, count), true);
  }

  /**
   * Like `lookup`, but a fold into the overflow series is not reported: for a caller that has
   * already counted the fold once for several lookups.
   */
  lookupWithoutOverflowReport(
    v0?: unknown,
    v1?: unknown,
    v2?: unknown,
    v3?: unknown,
    v4?: unknown,
  ): SeriesCell | undefined {
    const cached = this.peek(v0, v1, v2, v3, v4);
    if (cached !== undefined) return cached;
    if (this.labelCount === 0) return this.lookup();
    return this.slowLookup([v0, v1, v2, v3, v4].slice(0, this.labelCount), false);
  }

  /** The cell already cached for exactly these raw values, without creating or validating anything. */
  peek(v0?: unknown, v1?: unknown, v2?: unknown, v3?: unknown, v4?: unknown): SeriesCell | undefined {
    let node: Level | SeriesCell | undefined = this.root;
    const values = [v0, v1, v2, v3, v4];
    for (let index = 0; index < this.labelCount; index++) {
      if (!(node instanceof Map)) return undefined;
      node = node.get(values[index] as string | undefined);
    }
    return node instanceof Map ? undefined : node;
  }

  /** Why a value would be refused for a label, or undefined when it is acceptable. */
  rejectionFor(label: string, raw: unknown): LabelRejectionDetail | undefined {
    const value = this.normaliseLabelValue(label, raw);
    return typeof value === 'string' ? undefined : value;
  }

  /**
   * Go on under new owners: a new instance that continues the one holding this store keeps its series
   * (and whoever still records through the earlier instance writes them too). New label sets obey
   * `limits`; refusals and folds are reported to `listener`. Series already held stay, even beyond
   * a lower series limit.
   */
  takeOver(limits: SeriesLimits, listener: SeriesStoreListener): void {
    this.limits = limits;
    this.listener = listener;
  }

  /**
   * Remove the series whose labels match `match`: every label it gives (normalised as on the record
   * path) must be equal; a label it leaves out, or gives as `undefined`, matches any value, so `{}`
   * removes every series. A given value that recording would refuse matches nothing, and so does a
   * label the metric does not have (a series never equals it there). Removed cells are marked
   * `removed` and leave every index, so the next lookup of their labels creates a new series.
   * Returns how many were removed. Not on the record path: one pass over the cells, or a direct
   * find when every label is given.
   */
  remove(match: Readonly<Record<string, unknown>>): number {
    const labels = this.definition.labels;
    for (const label of Object.keys(match)) if (!labels.includes(label)) return 0;
    const wanted: Array<string | undefined> = [];
    let complete = true;
    for (const label of labels) {
      const raw = match[label];
      if (raw === undefined) {
        wanted.push(undefined);
        complete = false;
        continue;
      }
      const value = this.normaliseLabelValue(label, raw);
      if (typeof value !== 'string') return 0;
      wanted.push(value);
    }
    if (complete) {
      const cell = labels.length === 0 ? this.noLabelCell : this.byNormalisedKey.get(joinKey(wanted));
      if (cell === undefined) return 0;
      this.cells.splice(this.cells.indexOf(cell), 1);
      this.forget(cell);
      return 1;
    }
    let kept = 0;
    let removed = 0;
    for (const cell of this.cells) {
      if (wanted.every((value, index) => value === undefined || cell.attributes[labels[index] as string] === value)) {
        this.forget(cell);
        removed++;
      } else this.cells[kept++] = cell;
    }
    this.cells.length = kept;
    return removed;
  }

  /** Drop a removed cell from the indexes (the raw cache holds it under its normalised values only). */
  private forget(cell: SeriesCell): void {
    (cell as Cell).removed = true;
    if (this.labelCount === 0) {
      this.noLabelCell = undefined;
      return;
    }
    const values = this.definition.labels.map((label) => cell.attributes[label] as string | undefined);
    this.byNormalisedKey.delete(joinKey(values));
    const path: Level[] = [this.root];
    for (let index = 0; index < values.length - 1; index++) {
      const next = (path[index] as Level).get(values[index]);
      if (!(next instanceof Map)) return;
      path.push(next);
    }
    const leaf = path[path.length - 1] as Level;
    if (leaf.get(values[values.length - 1]) !== cell) return;
    leaf.delete(values[values.length - 1]);
    // Empty levels go too, so removing series returns their memory.
    for (let index = path.length - 1; index > 0 && (path[index] as Level).size === 0; index--)
      (path[index - 1] as Level).delete(values[index - 1]);
  }

  /** The cell for a label object keyed by the catalog's label names. */
  lookupLabels(labels: Readonly<Record<string, unknown>> | undefined): SeriesCell | undefined {
    // Labels that are not an object (null or a string from plain JavaScript) are no labels at all:
    // the lookup then refuses the first required label as it would an absent one.
    if (typeof labels !== 'object' || labels === null) return this.lookup();
    const names = this.definition.labels;
    const count = names.length;
    return this.lookup(
      count > 0 ? labels[names[0] as string] : undefined,
      count > 1 ? labels[names[1] as string] : undefined,
      count > 2 ? labels[names[2] as string] : undefined,
      count > 3 ? labels[names[3] as string] : undefined,
      count > 4 ? labels[names[4] as string] : undefined,
    );
  }

  /**
   * The series a lookup of these values would write, if it exists: never creates one, never
   * reports a refusal or a fold. For a helper that updates what it keeps about a series it did not
   * write this time.
   */
  find(v0?: unknown, v1?: unknown, v2?: unknown, v3?: unknown, v4?: unknown): SeriesCell | undefined {
    if (this.labelCount === 0) return this.noLabelCell;
    const cached = this.peek(v0, v1, v2, v3, v4);
    if (cached !== undefined) return cached;
    const normalised = this.normaliseAll([v0, v1, v2, v3, v4].slice(0, this.labelCount));
    if (!Array.isArray(normalised)) return undefined;
    const cell = this.byNormalisedKey.get(joinKey(normalised));
    if (cell !== undefined || this.cells.length < this.limits.maxSeries) return cell;
    return this.byNormalisedKey.get(joinKey(this.folded(normalised)));
  }

  private slowLookup(rawValues: unknown[], reportOverflow: boolean): SeriesCell | undefined {
    const normalised = this.normaliseAll(rawValues);
    if (!Array.isArray(normalised)) {
      this.listener.labelRejected(normalised);
      return undefined;
    }
    const key = joinKey(normalised);
    let cell = this.byNormalisedKey.get(key);
    if (cell === undefined) {
      if (this.cells.length >= this.limits.maxSeries) {
        const folded = this.overflow(normalised);
        if (reportOverflow) this.listener.seriesOverflowed();
        return folded;
      }
      cell = this.createCell(normalised);
      this.byNormalisedKey.set(key, cell);
    }
    // Cache only exact raw spellings, so a flood of near-duplicate spellings cannot grow memory.
    if (rawValues.every((raw, index) => raw === normalised[index])) this.cacheRaw(normalised, cell);
    return cell;
  }

  /** The normalised values of a label set (`undefined` for an absent optional label), or why one is refused. */
  private normaliseAll(rawValues: unknown[]): Array<string | undefined> | LabelRejectionDetail {
    const normalised: Array<string | undefined> = [];
    for (let index = 0; index < rawValues.length; index++) {
      const label = this.definition.labels[index] as string;
      const raw = rawValues[index];
      if (raw === undefined && this.optional.has(label)) {
        normalised.push(undefined);
        continue;
      }
      const value = this.normaliseLabelValue(label, raw);
      if (typeof value !== 'string') return value;
      normalised.push(value);
    }
    return normalised;
  }

  /**
   * The values of the overflow series a label set folds into: enumerated labels (a closed set) keep
   * their value, open ones become "other". The folded series may exceed the limit by the few
   * enumerated combinations, which is bounded.
   */
  private folded(normalised: Array<string | undefined>): Array<string | undefined> {
    const enumerated = (this.definition.labelValues ?? {}) as Record<string, readonly string[] | undefined>;
    return normalised.map((value, index) =>
      value === undefined || enumerated[this.definition.labels[index] as string] ? value : OVERFLOW_LABEL_VALUE,
    );
  }

  private overflow(normalised: Array<string | undefined>): SeriesCell {
    const folded = this.folded(normalised);
    const key = joinKey(folded);
    let cell = this.byNormalisedKey.get(key);
    if (cell === undefined) {
      cell = this.createCell(folded);
      this.byNormalisedKey.set(key, cell);
    }
    return cell;
  }

  private cacheRaw(values: Array<string | undefined>, cell: SeriesCell): void {
    let level: Level = this.root;
    for (let index = 0; index < values.length - 1; index++) {
      const value = values[index];
      let next = level.get(value) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    level.set(values[values.length - 1], cell);
  }

  private createCell(values: Array<string | undefined>): SeriesCell {
    const attributes: Record<string, string> = {};
    values.forEach((value, index) => {
      if (value !== undefined) attributes[this.definition.labels[index] as string] = value;
    });
    const cell = new Cell(Object.freeze(attributes));
    this.cells.push(cell);
    return cell;
  }

  /** The normalised value, or why it is refused. */
  private normaliseLabelValue(label: string, raw: unknown): string | LabelRejectionDetail {
    if (typeof raw !== 'string') return { reason: 'invalid_label_type', label, value: raw };
    const allowed = this.definition.labelValues?.[label];
    if (allowed !== undefined) {
      if (allowed.includes(raw)) return raw;
      return { reason: 'unknown_label_value', label, value: raw };
    }
    const value = raw.replace(CONTROL_CHARACTERS, '').replace(LONE_SURROGATE, '\uFFFD').trim();
    if (value.length === 0) return { reason: 'empty_label', label, value: raw };
    if (value.length > this.limits.maxLabelLength) return { reason: 'label_too_long', label, value: raw };
    return value;
  }
}

function joinKey(values: ReadonlyArray<string | undefined>): string {
  return values.map((value) => value ?? ABSENT).join('\u0000');
}
