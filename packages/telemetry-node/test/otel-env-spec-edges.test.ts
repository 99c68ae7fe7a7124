/**
 * Four places where `startTelemetry()` read a standard variable other than the OpenTelemetry
 * specification says, each through the public entry point and, where something is exported, a real
 * OTLP/HTTP receiver on loopback:
 * - a query in `OTEL_EXPORTER_OTLP_ENDPOINT` took the signal's path into it (`/?tenant=a/v1/traces`);
 * - a boolean variable set to neither `true` nor `false` (`OTEL_SDK_DISABLED=1`) read false silently;
 * - an `OTEL_TRACES_EXPORTER` or `OTEL_LOGS_EXPORTER` of unknown names only turned the signal off,
 *   where the specification says to ignore the setting (so the default, OTLP to the endpoint, applies);
 * - with `OTEL_LOG_LEVEL`, the warnings about the variables never reached the diagnostic logger,
 *   which was installed after they were read.
 */
import { Writable } from 'node:stream';
import { diag, SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CollectingDiagLogger } from '../../telemetry/test/helpers.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { otlpEndpointFromEnv } from '../src/env/otlp-exporter-variables.js';
import { otlpTlsFromEnv } from '../src/env/otlp-tls-from-env.js';
import { captureConfigurationWarnings } from '../src/env/standard-variables.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await Promise.all(closers.splice(0).map((close) => close()));
  vi.restoreAllMocks();
});

async function receiver(): Promise<OtlpReceiver> {
  const started = await startOtlpReceiver();
  closers.push(() => started.close());
  return started;
}

/** Start with `env` (nothing from `process.env`); the logger's `warn` messages are collected in `warnings`. */
function start(env: Record<string, string>, warnings: string[] = []): RunningTelemetry {
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        const record = JSON.parse(line) as { level: string; msg: string };
        if (record.level === 'warn') warnings.push(record.msg);
      }
      done();
    },
  });
  running = startTelemetry({
    serviceName: 'env-edges',
    hostMetrics: false,
    runtimeMetrics: false,
    logStream,
    contextManager: 'synchronous',
    env: {
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '3600000',
      OTEL_BLRP_SCHEDULE_DELAY: '3600000',
      ...env,
    },
  });
  return running;
}

describe('OTEL_EXPORTER_OTLP_ENDPOINT with a query', () => {
  it("puts each signal's path into the URL's path and keeps the query after it", async () => {
    const otlp = await receiver();
    const otel = start({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${otlp.url}?tenant=a`,
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '3600000',
    });
    otel.tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER }).end();
    otel.logger.info('routed');
    otel.telemetry.incrementCostByProvider('openai', 0.25);
    await otel.forceFlush();
    const requests = otlp.requests();
    expect(requests.map((request) => request.target).sort()).toEqual([
      '/v1/logs?tenant=a',
      '/v1/metrics?tenant=a',
      '/v1/traces?tenant=a',
    ]);
    expect(requests.map((request) => request.status)).toEqual([200, 200, 200]);
    expect(otlp.spans().map((span) => span.name)).toEqual(['POST /v1/chat/completions']);
  });

  it('appends after a base path, with or without its trailing slash, and leaves a gRPC address alone', () => {
    const endpoint = (base: string, grpc = false): string =>
      otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: base }, 'TRACES', grpc);
    expect(endpoint('http://collector:4318/otlp/?tenant=a&x=1')).toBe(
      'http://collector:4318/otlp/v1/traces?tenant=a&x=1',
    );
    expect(endpoint('http://collector:4318/otlp')).toBe('http://collector:4318/otlp/v1/traces');
    expect(endpoint('https://collector')).toBe('https://collector/v1/traces');
    expect(endpoint('http://collector:4317?x=1', true)).toBe('http://collector:4317?x=1');
    // A signal's own endpoint is used as written.
    expect(otlpEndpointFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/t?x=1' }, 'TRACES', false)).toBe(
      'http://c/t?x=1',
    );
  });
});

describe('a boolean variable that is neither true nor false', () => {
  it('OTEL_SDK_DISABLED=1 reads false, as the specification says, and is warned about', () => {
    const warnings: string[] = [];
    const otel = start({ OTEL_SDK_DISABLED: '1', OTEL_TRACES_EXPORTER: 'none' }, warnings);
    expect(otel.disabled).toBe(false);
    expect(warnings).toContain(
      '@gatewayz/telemetry-node: ignoring OTEL_SDK_DISABLED="1"; expected true or false, using false',
    );
  });

  it('true and false in any case, and blank, are not warned about', async () => {
    for (const value of ['TRUE', 'False', ' false ', '']) {
      const warnings: string[] = [];
      const otel = start({ OTEL_SDK_DISABLED: value, OTEL_TRACES_EXPORTER: 'none' }, warnings);
      expect(otel.disabled).toBe(value === 'TRUE');
      expect(warnings.filter((warning) => warning.includes('OTEL_SDK_DISABLED'))).toEqual([]);
      await otel.shutdown();
      running = undefined;
    }
  });

  it('OTEL_EXPORTER_OTLP_TRACES_INSECURE=yes reads false, with a warning naming that variable', () => {
    const { result, warnings } = captureConfigurationWarnings(() =>
      otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'yes', OTEL_EXPORTER_OTLP_INSECURE: 'true' }, 'TRACES'),
    );
    expect(result.insecure).toBe(false);
    expect(warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_EXPORTER_OTLP_TRACES_INSECURE="yes"; expected true or false, using false',
    ]);
    expect(otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_INSECURE: 'True' }, 'LOGS').insecure).toBe(true);
  });
});

describe('an exporter list of unknown names only is ignored, as if unset', () => {
  it('OTEL_TRACES_EXPORTER=jaeger with an OTLP endpoint exports over OTLP, with a warning', async () => {
    const otlp = await receiver();
    const warnings: string[] = [];
    const otel = start({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_EXPORTER: 'jaeger' }, warnings);
    const span = otel.tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER });
    expect(span.spanContext().traceFlags).toBe(1);
    span.end();
    await otel.forceFlush();
    expect(otlp.spans().map((received) => received.name)).toEqual(['POST /v1/chat/completions']);
    expect(warnings).toContain(
      '@gatewayz/telemetry-node: ignoring OTEL_TRACES_EXPORTER="jaeger"; expected otlp, zipkin, console or none, ignoring it, as if unset',
    );
  });

  it('OTEL_TRACES_EXPORTER=logging without an endpoint records no spans, as unset', () => {
    const otel = start({ OTEL_TRACES_EXPORTER: 'logging' });
    const span = otel.tracer.startSpan('POST /v1/chat/completions');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('OTEL_LOGS_EXPORTER=syslog with an OTLP endpoint exports logs over OTLP', async () => {
    const otlp = await receiver();
    const warnings: string[] = [];
    const otel = start(
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'syslog' },
      warnings,
    );
    otel.logger.info('routed');
    await otel.forceFlush();
    // The warning is a log record too.
    expect(otlp.logRecords().map((record) => record.body)).toContain('routed');
    expect(warnings).toContain(
      '@gatewayz/telemetry-node: ignoring OTEL_LOGS_EXPORTER="syslog"; expected otlp, console or none, ignoring it, as if unset',
    );
  });

  it('a known name beside unknown ones is used alone, each unknown one warned about', async () => {
    const otlp = await receiver();
    const warnings: string[] = [];
    const otel = start({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_EXPORTER: 'jaeger,otlp' }, warnings);
    otel.tracer.startSpan('exported').end();
    await otel.forceFlush();
    expect(otlp.spans().map((received) => received.name)).toEqual(['exported']);
    expect(warnings).toContain(
      '@gatewayz/telemetry-node: ignoring OTEL_TRACES_EXPORTER="jaeger"; expected otlp, zipkin, console or none, skipping it',
    );
  });

  it('none beside unknown names still exports nothing', async () => {
    const otlp = await receiver();
    const otel = start({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_EXPORTER: 'none,jaeger' });
    const span = otel.tracer.startSpan('dropped');
    expect(span.isRecording()).toBe(false);
    span.end();
    await otel.forceFlush();
    expect(otlp.spans()).toEqual([]);
  });
});

describe('OTEL_LOG_LEVEL', () => {
  /** Stands in for the console logger `OTEL_LOG_LEVEL` installs (that one prints through the console as it was at load). */
  function interceptInstalledLogger(): CollectingDiagLogger {
    const collecting = new CollectingDiagLogger();
    const setLogger = diag.setLogger.bind(diag);
    vi.spyOn(diag, 'setLogger').mockImplementation((_logger, options) => setLogger(collecting, options));
    return collecting;
  }

  it("gives the variables' warnings to the diagnostic logger it installs", () => {
    const installed = interceptInstalledLogger();
    start({ OTEL_LOG_LEVEL: 'warn', OTEL_BSP_MAX_QUEUE_SIZE: '-1', OTEL_TRACES_EXPORTER: 'console' });
    expect(installed.warnings).toEqual([
      '@gatewayz/telemetry-node: ignoring OTEL_BSP_MAX_QUEUE_SIZE="-1"; expected an integer of at least 1, using the default',
    ]);
  });

  it('unset, installs none', () => {
    const installed = interceptInstalledLogger();
    start({ OTEL_BSP_MAX_QUEUE_SIZE: '-1', OTEL_TRACES_EXPORTER: 'console' });
    expect(diag.setLogger).not.toHaveBeenCalled();
    expect(installed.warnings).toEqual([]);
  });
});
