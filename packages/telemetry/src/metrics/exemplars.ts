import { TraceFlags, context as contextApi, isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';
import type { SeriesCell } from './series-store.js';

/**
 * Which observations may become a histogram bucket's exemplar, as `OTEL_METRICS_EXEMPLAR_FILTER`
 * names them: `trace_based` (the specification's default) those made inside a sampled span,
 * `always_on` every one (with the trace and span ids when made inside a sampled span), `always_off`
 * none.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ exemplars: 'always_on' satisfies ExemplarFilter });
 * ```
 */
export type ExemplarFilter = 'trace_based' | 'always_on' | 'always_off';

/**
 * Every {@link ExemplarFilter}, in the order the specification lists them: what the `exemplars`
 * option and `OTEL_METRICS_EXEMPLAR_FILTER` accept.
 *
 * @example
 * ```ts
 * EXEMPLAR_FILTERS.includes(value.toLowerCase() as ExemplarFilter);
 * ```
 */
export const EXEMPLAR_FILTERS: readonly ExemplarFilter[] = ['trace_based', 'always_on', 'always_off'];

/**
 * The latest observation of one histogram bucket: made inside a sampled span (its trace and span
 * ids), or, with the `always_on` filter, anywhere (no ids when no sampled span was active).
 *
 * @example
 * ```ts
 * const exemplar: Exemplar = {
 *   value: 0.42, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
 *   timestampSeconds: 1718000000.5,
 * };
 * ```
 */
export interface Exemplar {
  /** The observed value, in the histogram's unit (e.g. seconds). */
  value: number;
  /**
   * Trace id of the sampled span active when the value was observed (32 hex characters);
   * `undefined` when none was (only with the `always_on` filter).
   */
  traceId: string | undefined;
  /** Span id of that span (16 hex characters); `undefined` when there is no trace id. */
  spanId: string | undefined;
  /** Unix time in seconds, on the clock of the points' times. */
  timestampSeconds: number;
}

class ExemplarSlot implements Exemplar {
  constructor(
    public value: number,
    public traceId: string | undefined,
    public spanId: string | undefined,
    public timestampSeconds: number,
  ) {}
}

/**
 * Exemplars of one histogram series, one slot per bucket (the last slot is `+Inf`), newest wins.
 * Slots are updated in place, so recording allocates nothing once a bucket has had one.
 *
 * @example
 * ```ts
 * const exemplars: ExemplarSlots | undefined = dataPoint.exemplars; // a point from createTelemetryMetricProducer()
 * const slowest = exemplars?.slots[exemplars.boundaries.length]; // the `+Inf` bucket
 * ```
 */
export interface ExemplarSlots {
  /** Upper bounds of the histogram's buckets (the `le` values), in the histogram's unit. */
  readonly boundaries: readonly number[];
  /** One exemplar per bucket, `boundaries.length + 1` slots; `undefined` until a sampled observation lands there. */
  readonly slots: Array<Exemplar | undefined>;
}

/** Index of the bucket a value falls in: the first boundary >= value, or the `+Inf` slot. */
export function bucketIndex(boundaries: readonly number[], value: number): number {
  let low = 0;
  let high = boundaries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((boundaries[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The active span's context when that span is sampled (and valid), else undefined: the first half
 * of exemplar capture. It takes no number on purpose: a caller checks it before handing the
 * observed value on, so the usual case (no sampled span) passes no double to a call that V8 might
 * not inline, which would box it in a fresh HeapNumber on every observation.
 */
export function sampledSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpanContext(contextApi.active());
  if (spanContext === undefined || (spanContext.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  if (spanContext === lastValid) return spanContext;
  if (!isSpanContextValid(spanContext)) return undefined;
  // A request observes several histograms inside one span: check its ids (two regular
  // expressions) once. A span context's ids do not change after the span started.
  lastValid = spanContext;
  return spanContext;
}

/** The span context {@link sampledSpanContext} last found valid (one, so nothing accumulates). */
let lastValid: SpanContext | undefined;

/**
 * Remember `value` as the exemplar of bucket `index` of the series `cell`, observed inside the
 * sampled span `spanContext` (`undefined`: outside any, for the `always_on` filter), at
 * `timestampSeconds` (the instance's point clock, so the exemplar falls within its point's interval).
 * The exemplars live on the series, so they belong to the telemetry instance that owns it and travel
 * with its data to the exposition.
 */
export function captureExemplar(
  cell: SeriesCell,
  boundaries: readonly number[],
  value: number,
  index: number,
  spanContext: SpanContext | undefined,
  timestampSeconds: number,
): void {
  let slots = cell.exemplars;
  if (slots === undefined) {
    slots = cell.exemplars = {
      boundaries,
      slots: new Array<Exemplar | undefined>(boundaries.length + 1).fill(undefined),
    };
  }
  const traceId = spanContext?.traceId;
  const spanId = spanContext?.spanId;
  const slot = slots.slots[index];
  if (slot === undefined) {
    slots.slots[index] = new ExemplarSlot(value, traceId, spanId, timestampSeconds);
  } else {
    slot.value = value;
    slot.traceId = traceId;
    slot.spanId = spanId;
    slot.timestampSeconds = timestampSeconds;
  }
}
