import type { Meter } from '@opentelemetry/api';
import type { MetricState } from './recorder-types.js';

/**
 * Create the OpenTelemetry instrument of one catalog metric on `meter`: for a histogram, the
 * instrument the record path records into (kept in `state.histogram`); for the other kinds, an
 * observable instrument that reports the in-process series at each collection, right after
 * `beforeCollect` (the metric's collection hooks) ran.
 *
 * @example
 * ```ts
 * for (const state of Object.values(recorder.states)) createInstrument(meter, state, () => undefined);
 * ```
 */
export function createInstrument(meter: Meter, state: MetricState, beforeCollect: () => void): void {
  const { definition, name, store } = state;
  const options = { description: definition.description, unit: definition.unit };
  if (definition.kind === 'histogram') {
    state.histogram = meter.createHistogram(name, {
      ...options,
      advice: definition.buckets ? { explicitBucketBoundaries: [...definition.buckets] } : {},
    });
    return;
  }
  const instrument =
    definition.kind === 'counter'
      ? meter.createObservableCounter(name, options)
      : definition.kind === 'gauge'
        ? meter.createObservableGauge(name, options)
        : meter.createObservableUpDownCounter(name, options);
  instrument.addCallback((result) => {
    beforeCollect();
    for (const cell of store.cells) result.observe(cell.value, cell.attributes);
  });
}
