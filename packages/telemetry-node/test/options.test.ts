import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { MemoryModelHealthStore } from '@gatewayz/telemetry/model-health';
import { describe, expect, it } from 'vitest';
import {
  createMetricsHandler,
  createModelHealthHandler,
  startHealthServicePoller,
  startTelemetry,
  type MetricsHandlerOptions,
  type ModelHealthHandlerOptions,
  type StartTelemetryOptions,
} from '../src/index.js';
import { thrown } from '../../../test-support/thrown.js';

/*
 * Options passed from plain JavaScript or a parsed config file: every one of the wrong type or out of
 * range is a TelemetryConfigurationError naming it, thrown before anything starts, never a TypeError
 * from inside or a failure on every request later.
 */

const configurationError = (run: () => unknown): TelemetryConfigurationError =>
  thrown(TelemetryConfigurationError, run);

const quiet = { env: {}, traces: false, runtimeMetrics: false, hostMetrics: false, logStream: null } as const;
const wrong = <T>(value: unknown): T => value as T;

describe('startTelemetry: options of the wrong type', () => {
  it.each<[string, StartTelemetryOptions, string]>([
    ['null options', wrong(null), 'options'],
    ['a numeric metricsToken', { ...quiet, metricsToken: wrong(1234567890123456) }, 'metricsToken'],
    ['a numeric serviceName', { ...quiet, serviceName: wrong(5) }, 'serviceName'],
    ['an empty serviceName', { ...quiet, serviceName: ' ' }, 'serviceName'],
    ['an unknown logLevel', { ...quiet, logLevel: wrong('loud') }, 'logLevel'],
    ['a logStream without write()', { ...quiet, logStream: wrong({}) }, 'logStream'],
    ['traces: "yes"', { ...quiet, traces: wrong('yes') }, 'traces'],
    ['traces without exporter or spanProcessors', { ...quiet, traces: wrong({}) }, 'traces'],
    ['a traces exporter without export()', { ...quiet, traces: wrong({ exporter: {} }) }, 'traces.exporter'],
    ['a negative logs.maxQueueSize', { ...quiet, logs: { maxQueueSize: -1 } }, 'logs.maxQueueSize'],
    [
      'a fractional logs.scheduledDelayMillis',
      { ...quiet, logs: { scheduledDelayMillis: 0.5 } },
      'logs.scheduledDelayMillis',
    ],
    ['a string hostMetrics', { ...quiet, hostMetrics: wrong('false') }, 'hostMetrics'],
    ['metrics: "otlp"', { ...quiet, metrics: wrong('otlp') }, 'metrics'],
    ['cluster: "yes"', { ...quiet, cluster: wrong('yes') }, 'cluster'],
    ['a cluster timeoutMs of null', { ...quiet, cluster: { timeoutMs: wrong(null) } }, 'cluster.timeoutMs'],
    ['providers as one string', { ...quiet, providers: wrong('openai') }, 'providers'],
    ['a provider that is a number', { ...quiet, providers: wrong([5]) }, 'providers'],
    ['telemetry: null', { ...quiet, telemetry: wrong(null) }, 'telemetry'],
    ['env: null', { ...quiet, env: wrong(null) }, 'env'],
  ])('rejects %s', (_title, options, option) => {
    const error = configurationError(() => startTelemetry(options));
    expect(error.option).toBe(option);
    expect(error.message).toContain(`Invalid option "${option}": expected`);
  });
});

describe('startTelemetry: options of the right type', () => {
  it('accepts logs.scheduledDelayMillis: 0 (export at once), as OTEL_BLRP_SCHEDULE_DELAY=0 is', async () => {
    const { InMemoryLogRecordExporter } = await import('@opentelemetry/sdk-logs');
    const exporter = new InMemoryLogRecordExporter();
    const running = startTelemetry({ ...quiet, logs: { exporter, scheduledDelayMillis: 0 } });
    try {
      running.logger.info('exported without a flush');
      for (let attempt = 0; attempt < 100 && exporter.getFinishedLogRecords().length === 0; attempt++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(exporter.getFinishedLogRecords().map((record) => record.body)).toContain('exported without a flush');
    } finally {
      await running.shutdown();
    }
  });
});

describe('metrics and model-health handlers: options of the wrong type', () => {
  it.each<[string, MetricsHandlerOptions, string]>([
    ['null options', wrong(null), 'options'],
    ['a source without collect()', { source: wrong({}) }, 'source'],
    ['a prefix with a dash', { source: undefined, prefix: 'gate-way_' }, 'prefix'],
    ['a numeric token', { source: undefined, token: wrong(42) }, 'token'],
    ['an empty token', { source: undefined, token: '' }, 'token'],
    ['providers as one string', { source: undefined, providers: wrong('openai') }, 'providers'],
  ])('createMetricsHandler rejects %s', (_title, options, option) => {
    expect(configurationError(() => createMetricsHandler(options)).option).toBe(option);
  });

  const store = new MemoryModelHealthStore();
  it.each<[string, ModelHealthHandlerOptions, string]>([
    ['null options', wrong(null), 'options'],
    ['no store', wrong({}), 'store'],
    ['a store without the read methods', { store: wrong({ applyBatch: () => undefined }) }, 'store'],
    ['a numeric token', { store, token: wrong(42) }, 'token'],
    ['a basePath without a leading slash', { store, basePath: 'v1/model-health' }, 'basePath'],
  ])('createModelHealthHandler rejects %s', (_title, options, option) => {
    expect(configurationError(() => createModelHealthHandler(options)).option).toBe(option);
  });

  it('names the store methods that are missing', () => {
    const error = configurationError(() => createModelHealthHandler({ store: wrong({}) }));
    expect(error.message).toContain('listModelHealth()');
  });

  it('startHealthServicePoller rejects null options', () => {
    expect(configurationError(() => startHealthServicePoller(wrong(null))).option).toBe('options');
  });

  it('still accepts a token, a prefix and a store of the right types', async () => {
    const metrics = createMetricsHandler({ source: undefined, prefix: 'acme_', token: 'a-long-enough-token-123' });
    expect((await metrics(new Request('http://localhost/metrics'))).status).toBe(401);
    const health = createModelHealthHandler({ store, basePath: '/health-api/' });
    expect((await health(new Request('http://localhost/health-api/stats'))).status).toBe(200);
  });
});
