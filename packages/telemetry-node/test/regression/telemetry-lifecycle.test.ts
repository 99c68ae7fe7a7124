import { DiagLogLevel, diag, metrics, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TelemetryConfigurationError, incrementCostByProvider, peekTelemetry } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type RunningTelemetry, type StartTelemetryOptions } from '../../src/index.js';
import { thrown } from '../../../../test-support/thrown.js';

/*
 * The lifecycle review's findings: shutdown() removed global providers it had not registered (a
 * second startTelemetry()'s shutdown took the first one's; an application's own tracer provider
 * went too); a failed startTelemetry() left the shared instance replaced; scrapes after shutdown()
 * answered 500 and logged an error each time.
 */

const quiet: StartTelemetryOptions = { runtimeMetrics: false, hostMetrics: false, logStream: null, env: {} };
const running: RunningTelemetry[] = [];
const start = (options: StartTelemetryOptions = {}): RunningTelemetry => {
  const otel = startTelemetry({ ...quiet, ...options });
  running.push(otel);
  return otel;
};
afterEach(async () => {
  for (const otel of running.splice(0).reverse()) await otel.shutdown();
  diag.disable();
  trace.disable();
});

/** What `diag` says at `level` and above while the test runs. */
function diagMessages(level = DiagLogLevel.WARN): { warn: string[]; error: string[] } {
  const said = { warn: [] as string[], error: [] as string[] };
  const ignore = (): void => {};
  const logger: DiagLogger = {
    error: (message) => void said.error.push(message),
    warn: (message) => void said.warn.push(message),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
  diag.setLogger(logger, level);
  return said;
}

const scrape = async (otel: RunningTelemetry): Promise<string> =>
  (await otel.metricsHandler(new Request('http://gateway.test/metrics'))).text();
const costLine = (text: string): string | undefined =>
  text.split('\n').find((line) => line.startsWith('gatewayz_cost_by_provider_total{'));

describe('a second startTelemetry() while the first runs', () => {
  it('leaves the first one working after its shutdown(), and says once that two run', async () => {
    const said = diagMessages();
    const first = start({ serviceName: 'main' });
    incrementCostByProvider('openai', 1);
    const second = start({ serviceName: 'plugin' });
    await second.shutdown();

    // The first one's meter provider is still the global one: the application's meters reach it.
    metrics.getMeter('app').createCounter('app_jobs').add(1);
    // The helpers record into the first one's instance again, not into a fresh one reaching nothing.
    expect(peekTelemetry()).toBe(first.telemetry);
    incrementCostByProvider('openai', 100);
    const text = await scrape(first);
    expect(costLine(text)).toBe('gatewayz_cost_by_provider_total{provider="openai"} 101');
    expect(text).toContain('app_jobs_total 1');
    expect(said.warn.filter((message) => message.includes('earlier instance is running'))).toHaveLength(1);

    start({ serviceName: 'third' });
    expect(said.warn.filter((message) => message.includes('earlier instance is running'))).toHaveLength(1);
  });
});

describe('shutdown() and what the application registered', () => {
  it('leaves the tracer provider the application registered', async () => {
    const exporter = new InMemorySpanExporter();
    const appProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    expect(trace.setGlobalTracerProvider(appProvider)).toBe(true);
    const otel = start();
    expect(otel.tracesEnabled).toBe(false);
    await otel.shutdown();
    trace.getTracer('app').startSpan('after-telemetry-shutdown').end();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['after-telemetry-shutdown']);
  });

  it('keeps a meter provider the application registered first, says so, and leaves it registered', async () => {
    const appProvider = new MeterProvider();
    expect(metrics.setGlobalMeterProvider(appProvider)).toBe(true);
    const lines: string[] = [];
    const otel = start({ logStream: { write: (line) => lines.push(line) } });
    expect(lines.join('')).toContain('a global meter provider is already registered');
    await otel.shutdown();
    expect(metrics.getMeterProvider()).toBe(appProvider);
    metrics.disable();
  });
});

describe('a startTelemetry() that throws', () => {
  it.each<[string, StartTelemetryOptions]>([
    ['an unknown LOG_LEVEL', { env: { LOG_LEVEL: 'verbose' } }],
    [
      'a CA file that cannot be read',
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: '/nonexistent/ca.pem',
        },
      },
    ],
    // A process started without an IPC channel (vitest's own workers have one: stand in for it).
    ['cluster mode without an IPC channel', { cluster: { channel: { on: () => {}, off: () => {} } } }],
    // Checked by createClusterMetricsSource() too, which runs after the global providers are set.
    [
      'a cluster timeoutMs no timer keeps',
      { cluster: { timeoutMs: null as unknown as number, channel: { on: () => {}, off: () => {}, send: () => true } } },
    ],
  ])('leaves the process as it was: %s', (_title, options) => {
    const before = {
      shared: peekTelemetry(),
      meterProvider: metrics.getMeterProvider(),
      fields: propagation.fields(),
    };
    thrown(TelemetryConfigurationError, () => startTelemetry({ ...quiet, ...options }));
    expect(peekTelemetry()).toBe(before.shared);
    expect(metrics.getMeterProvider()).toBe(before.meterProvider);
    expect(propagation.fields()).toEqual(before.fields);
  });

  it('reads LOG_LEVEL only when no logLevel is given: the option wins over a wrong variable', () => {
    const lines: string[] = [];
    const otel = start({
      logLevel: 'warn',
      env: { LOG_LEVEL: 'verbose' },
      logStream: { write: (line) => lines.push(line) },
    });
    otel.logger.info('not written');
    otel.logger.warn('written');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['written']);
  });
});

describe('scrapes after shutdown()', () => {
  it('answer 503 saying telemetry was shut down, and log no error', async () => {
    const otel = start();
    expect((await otel.metricsHandler(new Request('http://gateway.test/metrics'))).status).toBe(200);
    await otel.shutdown();
    const said = diagMessages();
    for (const path of ['/metrics', '/prometheus/metrics/providers', '/prometheus/metrics/summary']) {
      const response = await otel.metricsHandler(new Request(`http://gateway.test${path}`));
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('telemetry_shut_down');
      expect(body.error.message).toContain('shut down');
    }
    expect((await otel.metricsHandler(new Request('http://gateway.test/prometheus/metrics/docs'))).status).toBe(200);
    expect(said.error).toEqual([]);
  });
});
