import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { otlpExporterVariables } from '../src/env/otlp-exporter-variables.js';
import { propagatorFromEnv } from '../src/env/propagator-from-env.js';
import { captureConfigurationWarnings, readEnvTimeout } from '../src/env/standard-variables.js';
import { logBatchFromEnv } from '../src/logs/log-exporters-from-env.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';
import { batchConfigFromEnv } from '../src/tracing/create-span-processors-from-env.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

/*
 * Standard variables with values the specification says to treat as not set: "If a value is
 * invalid, implementations SHOULD generate a warning and gracefully ignore the setting, i.e., treat
 * them as not set." So an invalid signal-specific OTLP variable gives way to the general one, and a
 * blank one, or a propagator name that is no propagator's, is as if absent.
 */

describe('an invalid signal-specific OTLP variable gives way to the general one', () => {
  it('traces (and logs): _TIMEOUT and _COMPRESSION', () => {
    const { result, warnings } = captureConfigurationWarnings(() =>
      otlpExporterVariables(
        {
          OTEL_EXPORTER_OTLP_TIMEOUT: '300',
          OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '5s',
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
          OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'zstd',
        },
        'TRACES',
        false,
      ),
    );
    expect(result.timeoutMillis).toBe(300);
    expect(result.compression).toBe('gzip');
    expect(warnings.join('\n')).toMatch(
      /OTEL_EXPORTER_OTLP_TRACES_TIMEOUT.*reading OTEL_EXPORTER_OTLP_TIMEOUT instead/,
    );
    expect(warnings.join('\n')).toMatch(
      /OTEL_EXPORTER_OTLP_TRACES_COMPRESSION.*reading OTEL_EXPORTER_OTLP_COMPRESSION instead/,
    );
    // Valid signal values still win, and an invalid one with no general one leaves the default.
    const valid = otlpExporterVariables(
      { OTEL_EXPORTER_OTLP_TIMEOUT: '300', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '7000' },
      'LOGS',
      false,
    );
    expect(valid.timeoutMillis).toBe(300); // LOGS reads its own variable, not the traces one
    expect(otlpExporterVariables({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '7000' }, 'TRACES', false).timeoutMillis).toBe(
      7000,
    );
    const alone = captureConfigurationWarnings(() =>
      otlpExporterVariables({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '5s' }, 'TRACES', false),
    );
    expect(alone.result.timeoutMillis).toBe(10_000);
  });

  it('metrics: _TIMEOUT and _COMPRESSION', () => {
    const { result } = captureConfigurationWarnings(() =>
      resolveMetricsExport(undefined, {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '5s',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'zstd',
      }),
    );
    expect(result.otlp).toMatchObject({ timeoutMillis: 2000, compression: 'gzip' });
  });
});

/** Writes a propagator's headers into a plain object. */
const defaultSetter = {
  set(carrier: Record<string, string>, key: string, value: string): void {
    carrier[key] = value;
  },
};

describe('OTEL_PROPAGATORS names', () => {
  it('skips a name that is no propagator, Object.prototype members included, with a warning', () => {
    // Names are read in lower case: these two are the Object.prototype members they can name.
    for (const name of ['constructor', '__proto__']) {
      const { result, warnings } = captureConfigurationWarnings(() =>
        propagatorFromEnv({ OTEL_PROPAGATORS: `${name},tracecontext` }),
      );
      expect(warnings.join('\n'), name).toContain(name);
      // What is left works: tracecontext injects a traceparent.
      const carrier: Record<string, string> = {};
      const context = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
      });
      expect(() => result?.inject(context, carrier, defaultSetter)).not.toThrow();
      expect(carrier['traceparent'], name).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    }
  });
});

describe('blank variables are unset ones', () => {
  let running: RunningTelemetry | undefined;
  afterEach(async () => {
    await running?.shutdown();
    running = undefined;
  });

  it('a blank OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT does not turn tracing on', async () => {
    for (const env of [{ OTEL_TRACES_EXPORTER: ' ' }, { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, {}]) {
      running = startTelemetry({
        env: { ...env, OTEL_NODE_RESOURCE_DETECTORS: 'none' },
        logStream: null,
        hostMetrics: false,
        runtimeMetrics: false,
      });
      expect(running.tracesEnabled, JSON.stringify(env)).toBe(false);
      await running.shutdown();
      running = undefined;
    }
  });
});

describe('a duration above 2^31 − 1 ms, the longest timer Node.js keeps, is out of range', () => {
  // Node.js fires a longer timer after 1 ms: a push interval of 3e9 ms pushed hundreds of times a second.
  const TOO_LONG = '3000000000';
  let running: RunningTelemetry | undefined;
  afterEach(async () => {
    await running?.shutdown();
    running = undefined;
  });

  it('every duration variable warns, naming itself, and is ignored: the general variable or the default applies', () => {
    const { result, warnings } = captureConfigurationWarnings(() => ({
      spans: batchConfigFromEnv({ OTEL_BSP_SCHEDULE_DELAY: TOO_LONG, OTEL_BSP_EXPORT_TIMEOUT: TOO_LONG }),
      logs: logBatchFromEnv({ OTEL_BLRP_SCHEDULE_DELAY: TOO_LONG, OTEL_BLRP_EXPORT_TIMEOUT: TOO_LONG }),
      logsTransport: otlpExporterVariables(
        { OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: TOO_LONG, OTEL_EXPORTER_OTLP_TIMEOUT: '4000' },
        'LOGS',
        false,
      ),
      tracesTransport: otlpExporterVariables({ OTEL_EXPORTER_OTLP_TIMEOUT: TOO_LONG }, 'TRACES', true),
      metrics: resolveMetricsExport(undefined, {
        OTEL_METRICS_EXPORTER: 'otlp,console',
        OTEL_METRIC_EXPORT_INTERVAL: TOO_LONG,
        OTEL_METRIC_EXPORT_TIMEOUT: TOO_LONG,
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: TOO_LONG,
      }),
      zipkin: readEnvTimeout({ OTEL_EXPORTER_ZIPKIN_TIMEOUT: TOO_LONG }, 'OTEL_EXPORTER_ZIPKIN_TIMEOUT'),
    }));
    expect(result.spans).toMatchObject({ scheduledDelayMillis: 5000, exportTimeoutMillis: 30_000 });
    // Unset: the log processor's defaults (1000 and 30000 ms) apply.
    expect(result.logs).toMatchObject({ scheduledDelayMillis: undefined, exportTimeoutMillis: undefined });
    expect(result.logsTransport.timeoutMillis).toBe(4000);
    expect(result.tracesTransport.timeoutMillis).toBe(10_000);
    expect(result.metrics.otlp).toMatchObject({
      exportIntervalMillis: 60_000,
      exportTimeoutMillis: 30_000,
      timeoutMillis: 10_000,
    });
    expect(result.metrics.console).toEqual({ exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 });
    expect(result.zipkin).toBeUndefined();
    for (const name of [
      'OTEL_BSP_SCHEDULE_DELAY',
      'OTEL_BSP_EXPORT_TIMEOUT',
      'OTEL_BLRP_SCHEDULE_DELAY',
      'OTEL_BLRP_EXPORT_TIMEOUT',
      'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT',
      'OTEL_EXPORTER_OTLP_TIMEOUT',
      'OTEL_METRIC_EXPORT_INTERVAL',
      'OTEL_METRIC_EXPORT_TIMEOUT',
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
      'OTEL_EXPORTER_ZIPKIN_TIMEOUT',
    ]) {
      const about = warnings.filter((warning) => warning.includes(`${name}="${TOO_LONG}"`));
      expect(about, name).toHaveLength(1);
      expect(about[0], name).toContain('at most 2147483647 (the longest timer Node.js keeps)');
    }
    expect(warnings.join('\n')).toMatch(/OTEL_EXPORTER_OTLP_LOGS_TIMEOUT.*reading OTEL_EXPORTER_OTLP_TIMEOUT instead/);
    // The longest timer itself is in range, and 0 is still "no limit" (that same longest timer).
    expect(readEnvTimeout({ T: '2147483647' }, 'T')).toBe(2_147_483_647);
    expect(readEnvTimeout({ T: '0' }, 'T')).toBe(2_147_483_647);
  });

  it('log records exported within a too-long OTLP or batch timeout are not reported lost', async () => {
    const receiver = await startOtlpReceiver();
    try {
      running = startTelemetry({
        logStream: null,
        hostMetrics: false,
        runtimeMetrics: false,
        traces: false,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: TOO_LONG,
          OTEL_BLRP_EXPORT_TIMEOUT: TOO_LONG,
          OTEL_BLRP_SCHEDULE_DELAY: '3600000',
          OTEL_NODE_RESOURCE_DETECTORS: 'none',
        },
      });
      for (let index = 0; index < 5; index++) running.logger.info(`record ${index}`);
      await running.forceFlush();
      const bodies = receiver.logRecords().map((record) => String(record.body));
      expect(bodies.filter((body) => body.startsWith('record '))).toEqual([0, 1, 2, 3, 4].map((i) => `record ${i}`));
      const text = await (await running.metricsHandler(new Request('http://gateway/metrics'))).text();
      expect(text).not.toMatch(/gatewayz_telemetry_logs_dropped_total\{[^}]*\} [1-9]/);
    } finally {
      await running?.shutdown();
      running = undefined;
      await receiver.close();
    }
  });

  it('the same durations given in code are a TelemetryConfigurationError naming the option', () => {
    const quiet = { logStream: null, hostMetrics: false, runtimeMetrics: false, traces: false, env: {} } as const;
    expect(() =>
      startTelemetry({ ...quiet, metrics: { exporters: ['otlp'], otlp: { exportIntervalMillis: 3_000_000_000 } } }),
    ).toThrowError(TelemetryConfigurationError);
    expect(() =>
      startTelemetry({ ...quiet, metrics: { exporters: ['otlp'], otlp: { timeoutMillis: 3_000_000_000 } } }),
    ).toThrowError(/metrics\.otlp\.timeoutMillis.*at most 2147483647/);
    expect(() => startTelemetry({ ...quiet, logs: { scheduledDelayMillis: 3_000_000_000 } })).toThrowError(
      /logs\.scheduledDelayMillis.*at most 2147483647/,
    );
  });
});
