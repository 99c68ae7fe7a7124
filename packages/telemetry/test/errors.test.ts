import { describe, expect, it } from 'vitest';
import {
  GatewayTelemetry,
  MemoryModelHealthStore,
  PricingTable,
  TelemetryConfigurationError,
  TelemetryError,
  TelemetryInputError,
  startProviderHealthTracker,
  type GatewayTelemetryOptions,
  type ModelHealthSource,
} from '../src/index.js';
import { ManualClock } from './helpers.js';

function configurationError(run: () => unknown): TelemetryConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TelemetryConfigurationError);
    return error as TelemetryConfigurationError;
  }
  throw new Error('expected a TelemetryConfigurationError');
}

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
    const error = new TelemetryError('UNKNOWN_METRIC', 'no such metric');
    expect(error.name).toBe('TelemetryError');
    expect(error.code).toBe('UNKNOWN_METRIC');
  });
});
