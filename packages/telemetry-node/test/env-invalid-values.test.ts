import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { otlpExporterVariables } from '../src/env/otlp-exporter-variables.js';
import { propagatorFromEnv } from '../src/env/propagator-from-env.js';
import { captureConfigurationWarnings } from '../src/env/standard-variables.js';
import { resolveMetricsExport } from '../src/otlp-metrics/metrics-export-config.js';
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
