import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  GatewayTelemetry,
  TelemetryConfigurationError,
  bindCircuitBreakerMetrics,
  startProviderHealthTracker,
  type CircuitBreakerLike,
} from '../../src/index.js';
import { MemoryModelHealthStore, ModelHealthRecorder } from '../../src/model-health/index.js';
import { AnomalyDetector } from '../../src/provider-health/index.js';
import { PricingTable } from '../../src/genai/index.js';
import { ManualClock } from '../helpers.js';
import { thrown } from '../../../../test-support/thrown.js';

// Options the package calls later (a telemetry instance, a clock, a callback) were taken as given:
// a wrong one surfaced as a TypeError from a flush timer (ending the process), from observe() (which
// promises never to throw), or at once but without the option named.

/** What `startTelemetry()` returns, passed by mistake for its `telemetry` property. */
const runningTelemetry = (): object => ({
  telemetry: new GatewayTelemetry({ exportVia: 'producer' }),
  metricsHandler: () => undefined,
  shutdown: async () => undefined,
});

const optionError = (run: () => unknown): TelemetryConfigurationError => thrown(TelemetryConfigurationError, run);
const store = new MemoryModelHealthStore();
// A hand-driven clock: a recorder or tracker the old code accepted never runs a timer in this process.
const quiet = (): { clock: ManualClock } => ({ clock: new ManualClock() });

describe('a wrong telemetry, clock or callback option is refused where it is given', () => {
  it.each<[string, () => unknown, string]>([
    [
      'recorder telemetry: startTelemetry() handle',
      () => new ModelHealthRecorder({ store, ...quiet(), telemetry: runningTelemetry() as never }),
      'telemetry',
    ],
    [
      'recorder telemetry: {}',
      () => new ModelHealthRecorder({ store, ...quiet(), telemetry: {} as never }),
      'telemetry',
    ],
    [
      'recorder newBatchId: 5',
      () => new ModelHealthRecorder({ store, ...quiet(), newBatchId: 5 as never }),
      'newBatchId',
    ],
    ['recorder clock: {}', () => new ModelHealthRecorder({ store, clock: {} as never }), 'clock'],
    [
      'recorder clock.monotonicNow: 5',
      () => new ModelHealthRecorder({ store, clock: Object.assign(new ManualClock(), { monotonicNow: 5 }) as never }),
      'clock',
    ],
    [
      'detector telemetry: startTelemetry() handle',
      () => new AnomalyDetector({ telemetry: runningTelemetry() as never }),
      'telemetry',
    ],
    ['detector telemetry: {}', () => new AnomalyDetector({ telemetry: {} as never }), 'telemetry'],
    ['detector clock: {}', () => new AnomalyDetector({ clock: {} as never }), 'clock'],
    ['detector onAnomaly: 5', () => new AnomalyDetector({ onAnomaly: 5 as never }), 'onAnomaly'],
    [
      'tracker telemetry: 5',
      () => startProviderHealthTracker({ source: store, ...quiet(), runImmediately: false, telemetry: 5 as never }),
      'telemetry',
    ],
    [
      'tracker telemetry: startTelemetry() handle',
      () =>
        startProviderHealthTracker({
          source: store,
          ...quiet(),
          runImmediately: false,
          telemetry: runningTelemetry() as never,
        }),
      'telemetry',
    ],
    ['tracker clock: {}', () => startProviderHealthTracker({ source: store, clock: {} as never }), 'clock'],
    [
      'breaker binding telemetry: {}',
      () => bindCircuitBreakerMetrics(new EventEmitter() as unknown as CircuitBreakerLike, 'p', {} as never),
      'telemetry',
    ],
    [
      'breaker binding options: null',
      () =>
        bindCircuitBreakerMetrics(new EventEmitter() as unknown as CircuitBreakerLike, 'p', undefined, null as never),
      'options',
    ],
    [
      'breaker binding now: 5',
      () =>
        bindCircuitBreakerMetrics(new EventEmitter() as unknown as CircuitBreakerLike, 'p', undefined, {
          now: 5 as never,
        }),
      'now',
    ],
    [
      'pricing telemetry: startTelemetry() handle',
      () => new PricingTable({}, { telemetry: runningTelemetry() as never }),
      'telemetry',
    ],
  ])('%s', (_label, attempt, option) => {
    expect(optionError(attempt).option).toBe(option);
  });

  it('points at the `telemetry` property of what startTelemetry() returns', () => {
    const error = optionError(() => new AnomalyDetector({ telemetry: runningTelemetry() as never }));
    expect(error.message).toMatch(/expected an object with recordAnomaly\(\).*pass its `telemetry` property/);
    expect(optionError(() => new ModelHealthRecorder({ store, newBatchId: 5 as never })).message).toBe(
      'Invalid option "newBatchId": expected a function returning a batch id string, got number 5',
    );
  });

  it('still takes what the options are typed as: instances, partial telemetry, hand-driven clocks', async () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const recorder = new ModelHealthRecorder({ store, telemetry, ...quiet(), newBatchId: () => 'batch-1' });
    const detector = new AnomalyDetector({ telemetry: { recordAnomaly: () => undefined }, clock: { now: () => 0 } });
    expect(detector.observe({ provider: 'openai', success: true, latencySeconds: 0.1 })).toEqual([]);
    const tracker = startProviderHealthTracker({ source: store, telemetry, ...quiet(), runImmediately: false });
    const unbind = bindCircuitBreakerMetrics(new EventEmitter() as unknown as CircuitBreakerLike, 'p', telemetry);
    unbind();
    await tracker.stop();
    await recorder.close();
  });
});
