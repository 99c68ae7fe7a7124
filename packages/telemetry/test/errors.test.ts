import { describe, expect, it } from 'vitest';
import {
  GatewayTelemetry,
  TelemetryConfigurationError,
  TelemetryError,
  TelemetryInputError,
  bindCircuitBreakerMetrics,
  startProviderHealthTracker,
  type CircuitBreakerLike,
  type GatewayTelemetryOptions,
  type ProviderHealthTrackerOptions,
} from '../src/index.js';
import {
  MemoryModelHealthStore,
  ModelHealthRecorder,
  type ModelHealthRecorderOptions,
  type ModelHealthSource,
} from '../src/model-health/index.js';
import { AnomalyDetector } from '../src/provider-health/index.js';
import { PricingTable, type PricingTableInput } from '../src/genai/index.js';
import { ManualClock } from './helpers.js';
import { thrown } from '../../../test-support/thrown.js';

const configurationError = (run: () => unknown): TelemetryConfigurationError =>
  thrown(TelemetryConfigurationError, run);

describe('TelemetryConfigurationError from GatewayTelemetry options', () => {
  it.each<[string, GatewayTelemetryOptions, string]>([
    ['a prefix starting with a digit', { prefix: '1gatewayz_' }, 'prefix'],
    ['a prefix with a dash', { prefix: 'gate-way_' }, 'prefix'],
    ['a prefix with a space', { prefix: 'gate way' }, 'prefix'],
    ['a prefix with a dot', { prefix: 'gatewayz.' }, 'prefix'],
    ['maxSeriesPerMetric 0', { maxSeriesPerMetric: 0 }, 'maxSeriesPerMetric'],
    ['negative maxSeriesPerMetric', { maxSeriesPerMetric: -1 }, 'maxSeriesPerMetric'],
    ['fractional maxSeriesPerMetric', { maxSeriesPerMetric: 1.5 }, 'maxSeriesPerMetric'],
    ['NaN maxSeriesPerMetric', { maxSeriesPerMetric: Number.NaN }, 'maxSeriesPerMetric'],
    ['maxLabelLength 0', { maxLabelLength: 0 }, 'maxLabelLength'],
    ['infinite maxLabelLength', { maxLabelLength: Infinity }, 'maxLabelLength'],
    ['an unknown onInvalidInput', { onInvalidInput: 'ignore' as 'drop' }, 'onInvalidInput'],
    // Options read from plain JavaScript: a wrong type is named, never a TypeError from inside.
    ['null options', null as unknown as GatewayTelemetryOptions, 'options'],
    ['a string for options', 'gatewayz_' as unknown as GatewayTelemetryOptions, 'options'],
    ['a number prefix', { prefix: 5 as unknown as string }, 'prefix'],
    ['a string maxSeriesPerMetric', { maxSeriesPerMetric: '10' as unknown as number }, 'maxSeriesPerMetric'],
    ['a string exemplars', { exemplars: 'no' as unknown as boolean }, 'exemplars'],
    ['a meterProvider without getMeter', { meterProvider: {} as never }, 'meterProvider'],
    ['a number semconvStabilityOptIn', { semconvStabilityOptIn: 5 as unknown as string }, 'semconvStabilityOptIn'],
    ['a continueFrom that is not an instance', { continueFrom: {} as never }, 'continueFrom'],
  ])('rejects %s', (_title, options, option) => {
    const error = configurationError(() => new GatewayTelemetry(options));
    expect(error.option).toBe(option);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.name).toBe('TelemetryConfigurationError');
    expect(error).toBeInstanceOf(TelemetryError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain(`Invalid option "${option}"`);
  });

  it('explains how to fix a bad prefix', () => {
    const error = configurationError(() => new GatewayTelemetry({ prefix: 'gate-way_' }));
    expect(error.message).toContain('"gate-way_"');
    expect(error.message).toContain('letters, digits and underscores');
  });

  it('reports the value it got for a bad maxSeriesPerMetric', () => {
    expect(configurationError(() => new GatewayTelemetry({ maxSeriesPerMetric: 0 })).message).toContain('got 0');
  });

  it('accepts valid options, including an empty prefix', () => {
    const telemetry = new GatewayTelemetry({
      prefix: '',
      maxSeriesPerMetric: 1,
      maxLabelLength: 1,
      onInvalidInput: 'throw',
    });
    expect(telemetry.prefix).toBe('');
    expect(telemetry.metricName('providerHealthScore')).toBe('provider_health_score');
    expect(new GatewayTelemetry({ prefix: 'acme_' }).metricName('costByProvider')).toBe('acme_cost_by_provider');
  });
});

describe('TelemetryConfigurationError from other entry points', () => {
  it('rejects a tracker interval under 10 ms', () => {
    const source = new MemoryModelHealthStore();
    const error = configurationError(() =>
      startProviderHealthTracker({
        source,
        intervalMs: 5,
        clock: new ManualClock(),
        telemetry: new GatewayTelemetry(),
      }),
    );
    expect(error.option).toBe('intervalMs');
    expect(error.message).toContain('got 5');
    expect(
      configurationError(() => startProviderHealthTracker({ source, intervalMs: Number.NaN, clock: new ManualClock() }))
        .option,
    ).toBe('intervalMs');
  });

  it('rejects a tracker interval above the longest timer delay, which Node.js would fire every millisecond', async () => {
    const source = new MemoryModelHealthStore();
    const telemetry = new GatewayTelemetry();
    for (const intervalMs of [2 ** 31, 30 * 24 * 3_600_000]) {
      const error = configurationError(() =>
        startProviderHealthTracker({ source, intervalMs, clock: new ManualClock(), telemetry }),
      );
      expect(error.option).toBe('intervalMs');
      expect(error.message).toContain(`to 2147483647 milliseconds`);
      expect(error.message).toContain(`got ${intervalMs}`);
    }
    const longest = startProviderHealthTracker({
      source,
      intervalMs: 2 ** 31 - 1,
      clock: new ManualClock(),
      telemetry,
      runImmediately: false,
    });
    expect(longest.toJSON().intervalMs).toBe(2 ** 31 - 1);
    await longest.stop();
  });

  it('rejects a tracker source without listAllModelHealth', () => {
    const error = configurationError(() =>
      startProviderHealthTracker({
        source: {} as ModelHealthSource,
        clock: new ManualClock(),
        telemetry: new GatewayTelemetry(),
      }),
    );
    expect(error.option).toBe('source');
  });

  it('rejects a negative price, naming the price', () => {
    const error = configurationError(
      () =>
        new PricingTable({ openai: { 'gpt-4o-mini': { inputPerMillionTokens: 0.15, outputPerMillionTokens: -0.6 } } }),
    );
    expect(error.option).toBe('pricing.openai.gpt-4o-mini.outputPerMillionTokens');
    expect(error.message).toContain('-0.6');
  });
});

describe('TelemetryConfigurationError for options of the wrong type (plain JavaScript callers)', () => {
  const breaker = (): CircuitBreakerLike =>
    ({ opened: false, halfOpen: false, on: () => undefined, removeListener: () => undefined }) as CircuitBreakerLike;
  it.each<[string, () => unknown, string]>([
    ['a tracker started without options', () => startProviderHealthTracker(undefined as never), 'options'],
    [
      'a tracker source of null',
      () => startProviderHealthTracker({ source: null } as unknown as ProviderHealthTrackerOptions),
      'source',
    ],
    ['a recorder without options', () => new ModelHealthRecorder(undefined as never), 'options'],
    [
      'a recorder store of null',
      () => new ModelHealthRecorder({ store: null } as unknown as ModelHealthRecorderOptions),
      'store',
    ],
    ['a memory store clock that is not a function', () => new MemoryModelHealthStore({ now: 5 as never }), 'now'],
    ['anomaly detector options of null', () => new AnomalyDetector(null as never), 'options'],
    ['a pricing table of null', () => new PricingTable(null as never), 'pricing'],
    [
      'a provider entry that is a number',
      () => new PricingTable({ openai: 5 } as unknown as PricingTableInput),
      'pricing.openai',
    ],
    [
      'a model price of null',
      () => new PricingTable({ openai: { 'gpt-4o': null } } as unknown as PricingTableInput),
      'pricing.openai.gpt-4o',
    ],
    ['a breaker of null', () => bindCircuitBreakerMetrics(null as never, 'openai', new GatewayTelemetry()), 'breaker'],
    [
      'a breaker without on()',
      () => bindCircuitBreakerMetrics({} as CircuitBreakerLike, 'openai', new GatewayTelemetry()),
      'breaker',
    ],
    ['an empty breaker provider', () => bindCircuitBreakerMetrics(breaker(), ' ', new GatewayTelemetry()), 'provider'],
    [
      'a breaker provider that is a number',
      () => bindCircuitBreakerMetrics(breaker(), 5 as unknown as string, new GatewayTelemetry()),
      'provider',
    ],
  ])('rejects %s, naming the option', (_title, run, option) => {
    const error = configurationError(run);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`Invalid option "${option}": expected`);
  });
});

describe('TelemetryInputError', () => {
  it('carries the metric, the reason and a stable name and code', () => {
    const error = new TelemetryInputError('gatewayz_cost_by_provider', 'out_of_range', 'negative cost');
    expect(error.metric).toBe('gatewayz_cost_by_provider');
    expect(error.reason).toBe('out_of_range');
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.name).toBe('TelemetryInputError');
    expect(error.message).toBe('negative cost');
    expect(error).toBeInstanceOf(TelemetryError);
  });

  it('TelemetryError has its own name and code', () => {
    const error = new TelemetryError('INVALID_OPTION', 'no such option');
    expect(error.name).toBe('TelemetryError');
    expect(error.code).toBe('INVALID_OPTION');
  });
});

describe('isInstance(): errors recognised by their Symbol.for brand', () => {
  it('recognises each class and its subclasses, and nothing else', () => {
    const configuration = new TelemetryConfigurationError('prefix', 'bad');
    const input = new TelemetryInputError('metric', 'out_of_range', 'bad');
    expect(TelemetryError.isInstance(configuration)).toBe(true);
    expect(TelemetryError.isInstance(input)).toBe(true);
    expect(TelemetryConfigurationError.isInstance(configuration)).toBe(true);
    expect(TelemetryConfigurationError.isInstance(input)).toBe(false);
    expect(TelemetryInputError.isInstance(input)).toBe(true);
    expect(TelemetryInputError.isInstance(configuration)).toBe(false);
    for (const other of [
      new Error('plain'),
      undefined,
      null,
      'TelemetryError',
      { name: 'TelemetryError', code: 'INVALID_OPTION' },
    ]) {
      expect(TelemetryError.isInstance(other)).toBe(false);
    }
  });

  it('recognises an error of another copy of the package, which instanceof does not', () => {
    // What a second copy (the CJS build next to the ESM one, or another version) creates: another
    // class, the same brands. packages/telemetry-node/test/dual-build.test.ts checks the real builds.
    const errorBrand = Symbol.for('@gatewayz/telemetry.error');
    const configurationBrand = Symbol.for('@gatewayz/telemetry.error.TelemetryConfigurationError');
    class OtherCopyError extends Error {
      readonly code = 'INVALID_OPTION';
      readonly [errorBrand] = true;
      readonly [configurationBrand] = true;
    }
    const foreign = new OtherCopyError('from another copy');
    expect(foreign).not.toBeInstanceOf(TelemetryError);
    expect(TelemetryError.isInstance(foreign)).toBe(true);
    expect(TelemetryConfigurationError.isInstance(foreign)).toBe(true);
    expect(TelemetryInputError.isInstance(foreign)).toBe(false);
  });
});
