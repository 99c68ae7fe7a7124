import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry, TelemetryConfigurationError, peekTelemetry, setTelemetry } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';
import {
  createMetricsHandler,
  startHealthServicePoller,
  startTelemetry,
  type HealthServicePollerOptions,
  type StartTelemetryOptions,
} from '../../src/index.js';
import { thrown } from '../../../../test-support/thrown.js';

/*
 * Values from plain JavaScript the lifecycle review found failing deep inside with a TypeError (or
 * read letter by letter), and log messages naming metrics no scrape carries.
 */

const quiet = { traces: false, runtimeMetrics: false, hostMetrics: false, logStream: null } as const;
const wrong = <T>(value: unknown): T => value as T;
const configurationError = (run: () => unknown): TelemetryConfigurationError =>
  thrown(TelemetryConfigurationError, run);

describe('startTelemetry: the env option', () => {
  it.each<[string, unknown]>([
    ['a boolean', true],
    ['a number', 1],
    ['null', null],
  ])('rejects a variable given as %s, naming it', (_title, value) => {
    const options: StartTelemetryOptions = { ...quiet, env: wrong({ OTEL_SDK_DISABLED: value }) };
    const error = configurationError(() => startTelemetry(options));
    expect(error.option).toBe('env.OTEL_SDK_DISABLED');
    expect(error.message).toContain('expected a string');
  });
});

describe('startTelemetry: metrics.exporters', () => {
  it('rejects a string instead of reading it letter by letter', () => {
    const error = configurationError(() =>
      startTelemetry({ ...quiet, env: {}, metrics: { exporters: wrong('otlp') } }),
    );
    expect(error.option).toBe('metrics.exporters');
    expect(error.message).toContain('expected an array of exporter names');
    expect(error.message).toContain('got a string ("otlp")');
  });
});

describe('startHealthServicePoller: what it calls into', () => {
  it.each<[string, Partial<HealthServicePollerOptions>, string, string]>([
    [
      'a number as telemetry',
      { telemetry: wrong(1) },
      'telemetry',
      'expected an object with set(), add(), got number 1',
    ],
    [
      'telemetry without add()',
      { telemetry: wrong({ set: () => {} }) },
      'telemetry',
      'expected an object with set(), add(), got an object without add()',
    ],
    ['telemetry: null', { telemetry: wrong(null) }, 'telemetry', 'expected an object with set(), add(), got null'],
    [
      "startTelemetry()'s handle as telemetry",
      { telemetry: wrong({ telemetry: { set: () => {}, add: () => {} } }) },
      'telemetry',
      'pass its `telemetry` property',
    ],
    ['a fetch that is not a function', { fetch: wrong({}) }, 'fetch', 'expected a fetch implementation (a function)'],
    [
      'a clock without setTimeout()',
      { clock: wrong({ now: () => 0, clearTimeout: () => {} }) },
      'clock',
      'expected a clock with now(), setTimeout(), clearTimeout() (and optionally monotonicNow()), got an object without setTimeout() as a function',
    ],
  ])('rejects %s, naming it', (_title, options, option, expected) => {
    const error = configurationError(() =>
      startHealthServicePoller({ url: 'http://health.test', runImmediately: false, ...options }),
    );
    expect(error.option).toBe(option);
    expect(error.message).toContain(expected);
  });
});

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('the warning for an instrument left out of the exposition', () => {
  it.each([
    ['gatewayz_', 'gatewayz_telemetry_dropped_total'],
    ['acme_', 'acme_telemetry_dropped_total'],
  ])('names the series the count is in as scraped (prefix %s)', async (prefix, series) => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const previous = peekTelemetry();
    setTelemetry(new GatewayTelemetry({ meterProvider: provider, prefix }));
    const warnings: string[] = [];
    const ignore = (): void => {};
    const logger: DiagLogger = {
      error: ignore,
      warn: (message) => void warnings.push(message),
      info: ignore,
      debug: ignore,
      verbose: ignore,
    };
    diag.setLogger(logger, DiagLogLevel.WARN);
    try {
      provider.getMeter('lib-a').createHistogram('app.size').record(2);
      provider.getMeter('lib-b').createGauge('app_size').record(9);
      await (await createMetricsHandler({ source: reader })(new Request('http://gateway.test/metrics'))).text();
      const warning = warnings.find((message) => message.includes('"app_size" of scope "lib-b"'));
      expect(warning).toContain(`Counted once in ${series}{reason="exposition_name_conflict"}`);
      expect(warning).not.toMatch(/[^_]telemetry_dropped\{/);
    } finally {
      diag.disable();
      setTelemetry(previous);
    }
  });
});
