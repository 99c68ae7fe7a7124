import { createNoopMeter, diag, metrics, type Meter, type MeterProvider } from '@opentelemetry/api';
import { METRIC_CATALOG, type LabelsOf, type MetricKey } from './catalog.js';
import type { MetricDefinition } from './metric-definition.js';
import { instrumentName } from './naming.js';
import { TelemetryInputError } from '../errors.js';
import { resolveRecorderOptions } from './recorder-options.js';
import { bucketIndex, captureExemplar, sampledSpanContext, type ExemplarFilter } from './exemplars.js';
import type { ExponentialHistogramLimits } from './exponential-histogram.js';
import { aggregateHistogramValue } from './histogram-cell.js';
import { CollectHooks } from './collect-hooks.js';
import { createInstrument } from './create-instrument.js';
import { SeriesStore, type LabelRejectionDetail, type SeriesCell } from './series-store.js';
import { valueProblem, valueProblemMessage } from './value-problem.js';
import { PointClock } from './point-clock.js';
import type {
  CounterMetricKey,
  DropReason,
  GatewayTelemetryOptions,
  GaugeMetricKey,
  HistogramMetricKey,
  MetricState,
  UpDownCounterMetricKey,
} from './recorder-types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';
import { GEN_AI_SEMCONV_SCHEMA_URL } from '../genai/semconv.js';
import type { GenAiSemconvMode } from '../genai/semconv-stability.js';
import type { GenAiContentCapture } from '../genai/content-capture.js';

const NOOP_METER = createNoopMeter();

/** The range of a counter whose catalog entry names none: it only goes up. */
const COUNTER_RANGE = { min: 0 } as const;
/** The `metric` label of a drop with reason `unknown_metric`: never the key given, which is unbounded. */
const UNKNOWN_METRIC_LABEL = '_unknown';
/** Distinct unknown keys named in a warning each; later ones share one last warning. */
const MAX_UNKNOWN_METRIC_WARNINGS = 10;

/**
 * The generic recording machinery behind `GatewayTelemetry`: one series store per catalog metric,
 * value and label validation, drop and overflow accounting, histogram observation with exemplars,
 * and the two ways values reach an SDK (chosen once, at construction). Domain helpers
 * (`recordProviderResponseTime()` and the others) are a lookup and an add on top of it.
 *
 * Counters and gauges are aggregated in-process (a number per label set) and reported through
 * observable instruments at collection time, so the record path is a map lookup and an addition.
 * Histograms record into the SDK's histogram with a cached attribute object, or in-process with
 * `exportVia: 'producer'`. Invalid input is dropped and counted in
 * `gatewayz_telemetry_dropped_total{reason,metric}`; it never throws unless `onInvalidInput: 'throw'`.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ meterProvider });
 * telemetry.record('timeToFirstToken', 0.31, { provider: 'openai', model: 'gpt-4o-mini' });
 * telemetry.add('cacheHits', 1, { cache: 'responses' });
 * ```
 */
export class MetricRecorder {
  /** Prefix put in front of the metrics the catalog marks as prefixed (the `prefix` option; default `gatewayz_`). */
  readonly prefix: string;
  /** Label sets a metric holds before new ones fold into `other` (the `maxSeriesPerMetric` option; default 2000). */
  readonly maxSeriesPerMetric: number;
  /**
   * Longest label value accepted, in characters after trimming and removing control characters (the
   * `maxLabelLength` option; default 128). Longer values are dropped with reason `label_too_long`.
   */
  readonly maxLabelLength: number;
  /** How values reach an SDK, fixed at construction; see the `exportVia` option. */
  readonly exportVia: 'instruments' | 'producer';
  /** Limits of the exponential aggregation kept beside the explicit buckets, when on (`exponentialHistograms`). */
  readonly exponentialHistograms: ExponentialHistogramLimits | undefined;
  /**
   * When this instance (or the one it continues) started aggregating, in milliseconds since the
   * epoch, read from its point clock (the wall clock, never going back).
   */
  readonly startTimeMs: number;
  /**
   * @internal The clock of this instance's point times and exemplars (shared with the instance it
   * continues): the wall clock, never going back, so a point never ends before it starts.
   */
  readonly pointClock: PointClock;
  /** @internal The catalog metrics of this instance, by key: what domain helpers record into. */
  readonly states: { readonly [K in MetricKey]: MetricState };
  /** GenAI conventions the helpers emit, from `OTEL_SEMCONV_STABILITY_OPT_IN` (see `GenAiSemconvMode`). */
  readonly genAiSemconvMode: GenAiSemconvMode;
  /** Where GenAI message content goes, whether GenAI events are emitted, and the content's length limit (`captureGenAiContent`, `emitGenAiEvents`, `genAiContentMaxLength`). */
  readonly genAiContent: GenAiContentCapture;
  private readonly onInvalidInput: 'drop' | 'throw';
  private readonly exemplars: ExemplarFilter;
  private readonly explicitProvider: MeterProvider | undefined;
  private boundMeter: Meter | undefined;
  /** The instance that continued this one (see `continuedBy`): it took over the series stores. */
  private successor: MetricRecorder | undefined;
  private readonly warnedReasons = new Set<string>();
  /** Keys not in the catalog already named in a warning (at most {@link MAX_UNKNOWN_METRIC_WARNINGS}). */
  private readonly unknownKeysWarned = new Set<string>();
  /** Shared with the instances this one continues, so hooks registered on them (a breaker's open time) still run. */
  private readonly collectHooks: CollectHooks<MetricKey>;

  /**
   * Validate `options` and, when a `meterProvider` is given (and `exportVia` is `instruments`),
   * create the instruments on it right away. Throws a `TelemetryConfigurationError` for options
   * that are not an object, a prefix that is not a valid metric name prefix, limits that are not
   * positive integers, an unknown `exportVia` or `onInvalidInput`, an `exemplars` that is not a
   * boolean or an exemplar filter, a `semconvStabilityOptIn` that is not a string, a `captureGenAiContent` that is not a
   * boolean or a capture mode, an `emitGenAiEvents` that is not a boolean or a `genAiContentMaxLength`
   * that is not a positive integer, a `meterProvider` without `getMeter()`,
   * or a `continueFrom` that is not an instance or is already bound to a meter provider.
   */
  constructor(options: GatewayTelemetryOptions = {}) {
    const resolved = resolveRecorderOptions(options);
    const previous = resolved.previous;
    this.collectHooks = previous?.collectHooks ?? new CollectHooks<MetricKey>();
    this.prefix = resolved.prefix;
    this.maxSeriesPerMetric = resolved.maxSeriesPerMetric;
    this.maxLabelLength = resolved.maxLabelLength;
    this.onInvalidInput = resolved.onInvalidInput ?? previous?.onInvalidInput ?? 'drop';
    this.exemplars = resolved.exemplars ?? previous?.exemplars ?? 'trace_based';
    this.exportVia = resolved.exportVia;
    this.exponentialHistograms = resolved.exponentialHistograms;
    this.genAiSemconvMode = resolved.genAiSemconvMode;
    this.genAiContent = resolved.genAiContent;
    this.pointClock = previous?.pointClock ?? new PointClock();
    this.startTimeMs = previous?.startTimeMs ?? this.pointClock.nowMs();
    this.explicitProvider = resolved.meterProvider;
    const limits = { maxSeries: this.maxSeriesPerMetric, maxLabelLength: this.maxLabelLength };
    // The library's own accounting labels hold reasons and metric names: bounded by the catalog,
    // and never subject to the application's label limits.
    const internalLimits = { maxSeries: 10_000, maxLabelLength: 256 };
    const ignore = { labelRejected: () => undefined, seriesOverflowed: () => undefined };
    const states = {} as Record<MetricKey, MetricState>;
    for (const key of Object.keys(METRIC_CATALOG) as MetricKey[]) {
      const definition = METRIC_CATALOG[key] as MetricDefinition;
      const internal = key === 'telemetryDropped' || key === 'telemetryLabelOverflow';
      const state: MetricState = {
        key,
        definition,
        name: instrumentName(definition, this.prefix),
        store: undefined as unknown as SeriesStore,
        range: definition.range ?? (definition.kind === 'counter' ? COUNTER_RANGE : undefined),
        integer: definition.integer === true,
        histogram: undefined,
      };
      // Created once per metric, never per call: the store reports refusals and folds as they happen.
      const listener = internal
        ? ignore
        : {
            labelRejected: (rejection: LabelRejectionDetail) => this.rejectLabel(state, rejection),
            seriesOverflowed: () => this.noteOverflow(state),
          };
      // A continued instance's stores are taken over, not copied: both instances then write the same
      // series, so a handle to the earlier one kept by application code (`const telemetry =
      // getTelemetry()` at module load) goes on counting into what this one exports.
      const previousStore = previous?.states[key].store;
      if (previousStore !== undefined) previousStore.takeOver(internal ? internalLimits : limits, listener);
      (state as { store: SeriesStore }).store =
        previousStore ?? new SeriesStore(definition, internal ? internalLimits : limits, listener);
      states[key] = state;
    }
    this.states = states;
    if (previous !== undefined) previous.successor = this;
    if (this.explicitProvider !== undefined && this.exportVia === 'instruments')
      this.bindMeterProvider(this.explicitProvider);
  }

  /**
   * Create this instance's instruments on `provider`. Without it the global provider is looked up on
   * each record until a real SDK provider is registered, so helpers imported before the SDK starts
   * begin reporting as soon as it does. Counter and gauge values recorded before binding are kept and
   * reported; histogram observations before binding are not. Returns false for an instance that
   * exports through a metric producer, one another instance continues (`continueFrom`: that one
   * reports its series), or when `provider` is a no-op.
   */
  bindMeterProvider(provider: MeterProvider): boolean {
    if (this.exportVia === 'producer' || this.successor !== undefined) return false;
    // The scope's schema URL tells a backend which semantic-conventions release the gen_ai.* names follow.
    const meter = provider.getMeter(PACKAGE_NAME, PACKAGE_VERSION, { schemaUrl: GEN_AI_SEMCONV_SCHEMA_URL });
    // Another copy of @opentelemetry/api in the process has its own no-op meter singleton.
    if (meter === NOOP_METER || meter.constructor?.name === 'NoopMeter') return false;
    if (meter === this.boundMeter) return true;
    this.boundMeter = meter;
    for (const state of Object.values(this.states))
      createInstrument(meter, state, () => this.collectHooks.run(state.key));
    return true;
  }

  /** Whether instruments exist on a real meter provider. */
  get isBound(): boolean {
    return this.boundMeter !== undefined;
  }

  /** The instance that continued this one (`continueFrom`): it reports the series both write; this one never binds. */
  get continuedBy(): MetricRecorder | undefined {
    return this.successor;
  }

  /** The OpenTelemetry instrument name of a catalog metric under this instance's prefix. */
  metricName(key: MetricKey): string {
    return this.states[key].name;
  }

  /** Number of label sets currently held for a metric (for tests and capacity planning). */
  seriesCount(key: MetricKey): number {
    return this.states[key].store.seriesCount;
  }

  /** Current in-process value of a counter, gauge or up-down counter series, or undefined if never recorded. */
  currentValue<K extends MetricKey>(key: K, labels: LabelsOf<K>): number | undefined {
    const store = this.states[key].store;
    const wanted = labels as Record<string, string>;
    const cell = store.cells.find((candidate) =>
      store.definition.labels.every((label) => candidate.attributes[label] === wanted[label]),
    );
    return cell?.value;
  }

  /**
   * Every catalog metric with its series, for a metric producer (`exportVia: 'producer'`). Series
   * are live objects: read them during collection, do not keep them.
   */
  exportableMetrics(): ReadonlyArray<{
    readonly name: string;
    readonly definition: MetricDefinition;
    readonly cells: readonly SeriesCell[];
  }> {
    this.collectHooks.runAll();
    return Object.values(this.states).map((state) => ({
      name: state.name,
      definition: state.definition,
      cells: state.store.cells,
    }));
  }

  /**
   * Run `refresh` just before every collection reads the series of `key`, so a value that grows
   * with time is exact when read (the circuit-breaker binding credits a breaker's current open
   * interval this way). Returns a function that removes it.
   */
  beforeCollect(key: MetricKey, refresh: () => void): () => void {
    return this.collectHooks.add(key, refresh);
  }

  // --- generic, catalog-typed API ----------------------------------------------------------------

  /** Add to a counter. `labels` keys are typed from the catalog. */
  add<K extends CounterMetricKey | UpDownCounterMetricKey>(key: K, value: number, labels: LabelsOf<K>): void {
    const state = this.stateOf(key);
    if (state === undefined || !this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookupLabels(labels));
    if (cell !== undefined) cell.value += value;
  }

  /** Set a gauge. */
  set<K extends GaugeMetricKey>(key: K, value: number, labels: LabelsOf<K>): void {
    const state = this.stateOf(key);
    if (state === undefined || !this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookupLabels(labels));
    if (cell !== undefined) cell.value = value;
  }

  /** Record a histogram observation. */
  record<K extends HistogramMetricKey>(key: K, value: number, labels: LabelsOf<K>): void {
    const state = this.stateOf(key);
    if (state === undefined || !this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookupLabels(labels));
    if (cell !== undefined) this.observe(state, value, cell);
  }

  /**
   * The state of a catalog key given to the generic API, or undefined (dropped and counted with
   * reason `unknown_metric`) for a key that is not in the catalog, as plain JavaScript can pass.
   */
  private stateOf(key: MetricKey): MetricState | undefined {
    if (Object.hasOwn(this.states, key)) return this.states[key];
    const shown = String(key).slice(0, 64);
    if (this.onInvalidInput === 'throw')
      throw new TelemetryInputError(shown, 'unknown_metric', `"${shown}" is not a metric of the catalog`);
    // The key comes from the caller (a computed one from a bug can take any value): the counter
    // gets a fixed label, the warning names the key.
    this.countInternal(this.states.telemetryDropped, 'unknown_metric', UNKNOWN_METRIC_LABEL);
    if (this.unknownKeysWarned.has(shown)) return undefined;
    if (this.unknownKeysWarned.size < MAX_UNKNOWN_METRIC_WARNINGS) {
      this.unknownKeysWarned.add(shown);
      diag.warn(
        `@gatewayz/telemetry: "${shown}" is not a metric of the catalog (see MetricKey). Dropped; counted in ${this.states.telemetryDropped.name}{reason="unknown_metric",metric="${UNKNOWN_METRIC_LABEL}"}, further drops of this key without a warning.`,
      );
    } else {
      this.warnOnce(
        'unknown_metric',
        `more than ${MAX_UNKNOWN_METRIC_WARNINGS} keys that are not metrics of the catalog were given (latest "${shown}"); further ones are counted in ${this.states.telemetryDropped.name}{reason="unknown_metric",metric="${UNKNOWN_METRIC_LABEL}"} without a warning.`,
      );
    }
    return undefined;
  }

  // --- the record path shared by the domain helpers ------------------------------------------------

  /** @internal Set a gauge without labels. */
  setGauge0(state: MetricState, value: number): void {
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookup());
    if (cell !== undefined) cell.value = value;
  }

  /** @internal Set a gauge with one label. */
  setGauge1(state: MetricState, label: string, value: number): void {
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookup(label));
    if (cell !== undefined) cell.value = value;
  }

  /** @internal Add to a counter with one label. */
  addCounter1(state: MetricState, label: string, value: number): void {
    if (!this.acceptValue(state, value)) return;
    const cell = this.cellFor(state, state.store.lookup(label));
    if (cell !== undefined) cell.value += value;
  }

  /** @internal Observe `value` in the histogram series `cell` of `state`. */
  observe(state: MetricState, value: number, cell: SeriesCell): void {
    // The cell is the successor's too (shared store); its export, exemplar filter and limits apply.
    const successor = this.successor;
    if (successor !== undefined) return successor.observe(successor.states[state.key], value, cell);
    const boundaries = state.definition.buckets as readonly number[];
    let index: number;
    if (this.exportVia === 'producer')
      index = aggregateHistogramValue(cell, boundaries, value, this.exponentialHistograms);
    else if ((index = this.recordOnInstrument(state, value, cell)) < 0) return;
    if (this.exemplars === 'always_off') return;
    // Span first, value second: see sampledSpanContext().
    const spanContext = sampledSpanContext();
    if (spanContext !== undefined || this.exemplars === 'always_on')
      captureExemplar(cell, boundaries, value, index, spanContext, this.pointClock.nowMs() / 1000);
  }

  /**
   * @internal Observe every value of `values` that `acceptValue` takes in the series `cell` of
   * `state`, as `observe` would one by one, except that they share one exemplar span and time: they
   * are observed at one moment (a stream's chunk times, recorded when it ends), so one reading of the
   * active span and of the clock serves them all.
   */
  observeEach(state: MetricState, values: ArrayLike<number>, cell: SeriesCell): void {
    // The last successor records: the cell is its too, its export and exemplar filter apply.
    let target = this.successor ?? this;
    while (target.successor !== undefined) target = target.successor;
    const targetState = target.states[state.key];
    const boundaries = targetState.definition.buckets as readonly number[];
    const spanContext = target.exemplars === 'always_off' ? undefined : sampledSpanContext();
    const capture = spanContext !== undefined || target.exemplars === 'always_on';
    let timestampSeconds = -1;
    for (let position = 0; position < values.length; position++) {
      const value = values[position] as number;
      if (!this.acceptValue(state, value)) continue;
      const index =
        target.exportVia === 'producer'
          ? aggregateHistogramValue(cell, boundaries, value, target.exponentialHistograms)
          : target.recordOnInstrument(targetState, value, cell);
      if (index < 0 || !capture) continue;
      if (timestampSeconds < 0) timestampSeconds = target.pointClock.nowMs() / 1000;
      captureExemplar(cell, boundaries, value, index, spanContext, timestampSeconds);
    }
  }

  /** Record `value` on the SDK instrument of `state` (instruments export); its bucket index, or -1 when not recorded. */
  private recordOnInstrument(state: MetricState, value: number, cell: SeriesCell): number {
    if (this.boundMeter === undefined) this.tryBindGlobal();
    const instrument = state.histogram;
    if (instrument === undefined) return -1;
    instrument.record(value, cell.attributes);
    return this.exemplars === 'always_off' ? 0 : bucketIndex(state.definition.buckets as readonly number[], value);
  }

  /**
   * @internal The looked-up cell, once this instance is bound (instruments export looks the global
   * provider up until a real one is registered). Refusals and folds were reported by the store.
   */
  cellFor(state: MetricState, cell: SeriesCell | undefined): SeriesCell | undefined {
    if (this.boundMeter === undefined && this.exportVia === 'instruments') this.tryBindGlobal();
    return cell;
  }

  /** @internal Whether `value` may be recorded in `state`; drops and counts it otherwise (see `valueProblem`). */
  acceptValue(state: MetricState, value: number): boolean {
    const problem = valueProblem(state, value);
    if (problem === undefined) return true;
    this.drop(state, problem, valueProblemMessage(state, value, problem));
    return false;
  }

  /** @internal Count (or, with `onInvalidInput: 'throw'`, throw) a refused label value. */
  rejectLabel(state: MetricState, rejection: LabelRejectionDetail): void {
    const shown = typeof rejection.value === 'string' ? `"${rejection.value.slice(0, 64)}"` : String(rejection.value);
    const expected = state.definition.labelValues?.[rejection.label as never];
    this.drop(
      state,
      rejection.reason,
      `Label "${rejection.label}" of ${state.name} rejected (${rejection.reason}): ${shown}` +
        (expected !== undefined ? `; expected ${expected.join(', ')}` : ''),
    );
  }

  /** @internal Count one recording folded into the overflow series of `state`. */
  noteOverflow(state: MetricState): void {
    this.countInternal(this.states.telemetryLabelOverflow, state.name);
    this.warnOnce(
      `overflow:${state.key}`,
      `${state.name} reached its limit of ${this.maxSeriesPerMetric} label sets; new label values are recorded as "other". Raise maxSeriesPerMetric or stop using unbounded values as labels.`,
    );
  }

  /** @internal Count (or, with `onInvalidInput: 'throw'`, throw) a dropped recording. */
  drop(state: MetricState, reason: DropReason, message: string): void {
    if (this.onInvalidInput === 'throw') throw new TelemetryInputError(state.name, reason, message);
    this.countInternal(this.states.telemetryDropped, reason, state.name);
    this.warnOnce(
      reason,
      `${message}. Dropped; further drops for reason "${reason}" are counted in ${this.states.telemetryDropped.name} without a warning.`,
    );
  }

  private countInternal(state: MetricState, first: string, second?: string): void {
    const cell = state.store.lookup(first, second);
    if (cell !== undefined) cell.value += 1;
  }

  /** @internal One `diag.warn` per `key` for the life of the instance. */
  warnOnce(key: string, message: string): void {
    if (this.warnedReasons.has(key)) return;
    this.warnedReasons.add(key);
    diag.warn(`@gatewayz/telemetry: ${message}`);
  }

  private tryBindGlobal(): void {
    const successor = this.successor;
    if (successor !== undefined) {
      // What this one records is the successor's to report: let it bind when it can.
      if (successor.boundMeter === undefined) successor.tryBindGlobal();
      return;
    }
    if (this.explicitProvider !== undefined || this.exportVia === 'producer') return;
    this.bindMeterProvider(metrics.getMeterProvider());
  }
}

/**
 * A domain's typed helpers, written as methods whose `this` is the recorder: `GatewayTelemetry`
 * installs them on its prototype. Returns `methods` unchanged; it only types `this` inside them.
 */
export function defineHelpers<Methods>(methods: Methods & ThisType<MetricRecorder>): Methods {
  return methods;
}
