import type { LabelName, LabelsOf, MetricKey } from './catalog.js';
import { defineHelpers, type MetricRecorder } from './metric-recorder.js';
import type { GaugeMetricKey, MetricState } from './recorder-types.js';

/**
 * A label name some gauge of the catalog has, e.g. `provider` or `model`: what
 * `GatewayTelemetry.removeGaugeSeriesByLabel()` takes.
 *
 * @example
 * ```ts
 * const label: GaugeLabelName = 'provider';
 * telemetry.removeGaugeSeriesByLabel(label, 'acme'); // every gauge series of provider "acme"
 * ```
 */
export type GaugeLabelName = { [K in GaugeMetricKey]: LabelName<K> }[GaugeMetricKey];

/** The state of a gauge key, or undefined (warned once per key) for anything else plain JavaScript passes. */
function gaugeState(recorder: MetricRecorder, key: MetricKey): MetricState | undefined {
  const state = Object.hasOwn(recorder.states, key) ? recorder.states[key] : undefined;
  if (state?.definition.kind === 'gauge') return state;
  const shown = String(key).slice(0, 64);
  recorder.warnOnce(
    `remove:${shown}`,
    state === undefined
      ? `"${shown}" is not a metric of the catalog; no series removed`
      : `${state.name} is a ${state.definition.kind}, not a gauge: its series are never removed (a counter that disappears and comes back would read as a reset)`,
  );
  return undefined;
}

/**
 * Series removal of a `GatewayTelemetry`, for gauges whose subject went away (a model without calls,
 * a provider no longer configured, a circuit breaker shut down). Installed on
 * `GatewayTelemetry.prototype`.
 */
export const seriesRemoval = defineHelpers({
  /**
   * Remove series of a gauge, so they stop being reported: the next collection has no point for
   * them, so Prometheus marks them stale at the next scrape, an OTLP push (cumulative or delta
   * temporality) no longer carries them, and the node:cluster primary drops them from its aggregate
   * once the worker's next snapshot omits them. Recording the same labels later creates the series
   * again, from that value.
   *
   * `labels` selects the series: each label it gives must be equal (compared after the same
   * normalisation as recording: control characters removed, trimmed); a label it leaves out, or
   * gives as `undefined`, matches any value, and `{}` (or no argument) removes every series of the
   * gauge. A label the gauge does not have (a typo, `providers` for `provider`) matches nothing:
   * nothing is removed, and one `diag.warn` per gauge names it. The overflow series (`other`) goes
   * only when named. Counters, up-down counters and histograms are never removed: they are
   * monotonic or running totals, and a series that disappears and comes back would read as a
   * reset. From plain JavaScript such a key, or one not in the catalog, removes nothing and logs
   * one `diag.warn` per key. Not for the record path: it scans the gauge's series unless every
   * label is given.
   *
   * Removal shows wherever the series are collected through a metric producer, which is how
   * `startTelemetry()` exports. With `exportVia: 'instruments'` (your own SDK reading observable
   * instruments), the OpenTelemetry JS SDK 2.x goes on exporting the last value it collected for an
   * attribute set under cumulative temporality, so a removed series keeps its last value there.
   *
   * @returns The number of series removed.
   *
   * @example
   * ```ts
   * telemetry.removeGaugeSeries('modelUptime24h', { model: 'gpt-4o' });
   * telemetry.removeGaugeSeries('circuitBreakerState', { provider: 'openai' }); // its 3 state series
   * ```
   */
  removeGaugeSeries<K extends GaugeMetricKey>(key: K, labels: Partial<LabelsOf<K>> = {}): number {
    const state = gaugeState(this, key);
    if (state === undefined) return 0;
    const match: Readonly<Record<string, unknown>> = typeof labels === 'object' && labels !== null ? labels : {};
    const known: readonly string[] = state.definition.labels;
    const unknown = Object.keys(match).find((label) => !known.includes(label));
    if (unknown !== undefined) {
      // Left out, it would match any value: a typo would remove every series of the gauge.
      this.warnOnce(
        `remove-label:${state.key}`,
        `${state.name} has no label "${unknown.slice(0, 64)}" (its labels: ${known.join(', ') || 'none'}); no series removed`,
      );
      return 0;
    }
    return state.store.remove(match);
  },

  /**
   * Remove, from every gauge that has the label `label`, the series whose `label` equals `value`
   * (normalised as on the record path): e.g. every gauge series of a provider taken out of the
   * configuration. Counters and histograms of it are kept (see `removeGaugeSeries()`). A `value`
   * that recording would refuse removes nothing, and so does a label no gauge has (with one
   * `diag.warn`).
   *
   * @returns The number of series removed, over all gauges.
   *
   * @example
   * ```ts
   * // acme is no longer configured: its health score, availability, error rate, breaker state and
   * // rate-limit headroom stop being reported; its cost and request counters stay.
   * telemetry.removeGaugeSeriesByLabel('provider', 'acme');
   * ```
   */
  removeGaugeSeriesByLabel(label: GaugeLabelName, value: string): number {
    let removed = 0;
    let known = false;
    if (typeof value !== 'string') return 0;
    for (const state of Object.values(this.states)) {
      if (state.definition.kind !== 'gauge' || !state.definition.labels.includes(label)) continue;
      known = true;
      removed += state.store.remove({ [label]: value });
    }
    if (!known)
      this.warnOnce('remove-by-label', `no gauge has the label "${String(label).slice(0, 64)}"; no series removed`);
    return removed;
  },
});

/** The series-removal methods of a `GatewayTelemetry`. */
export type SeriesRemoval = typeof seriesRemoval;
