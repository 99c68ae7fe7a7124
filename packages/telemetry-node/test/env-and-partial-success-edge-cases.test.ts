/**
 * Cases the rest of the suite let through (found by mutation testing): a boolean variable with a
 * trailing space, and an OTLP partial success that rejects nothing but carries a message (a warning,
 * which the specification allows).
 */
import { diag, propagation } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import { reportingRejectedItems, type RejectedItems } from '../src/otlp-metrics/partial-success.js';
import { encodePartialSuccess } from '../../../test-support/otlp-receiver.js';

let running: RunningTelemetry | undefined;

afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  diag.disable();
  propagation.disable();
});

describe('OTEL_SDK_DISABLED', () => {
  const quiet = { traces: false, hostMetrics: false, runtimeMetrics: false, logStream: null } as const;

  it.each(['true ', ' TRUE', '\ttrue\n'])(
    'reads %j (surrounding spaces) as true and turns telemetry off',
    async (value) => {
      running = startTelemetry({ ...quiet, env: { OTEL_SDK_DISABLED: value } });
      expect(running.disabled).toBe(true);
      expect((await running.metricsHandler(new Request('http://localhost/metrics'))).status).toBe(503);
    },
  );
});

describe('OTLP partial success without rejected items', () => {
  /** What a serializer reporting rejected data points hands on for one response. */
  function reported(
    serializer: typeof ProtobufMetricsSerializer | typeof JsonMetricsSerializer,
    response: Uint8Array,
  ): RejectedItems | undefined {
    const seen: Array<RejectedItems | undefined> = [];
    reportingRejectedItems(serializer, 'rejectedDataPoints', (rejected) => seen.push(rejected)).deserializeResponse(
      response,
    );
    expect(seen).toHaveLength(1);
    return seen[0];
  }

  it('is no rejection when rejected_data_points is 0, whatever the message (protobuf)', () => {
    const response = encodePartialSuccess('/v1/metrics', 0, 'some points were downsampled');
    expect(reported(ProtobufMetricsSerializer, response)).toBeUndefined();
    // The same answer with one rejected point is one.
    expect(reported(ProtobufMetricsSerializer, encodePartialSuccess('/v1/metrics', 1, 'bad point'))).toEqual({
      count: 1,
      errorMessage: 'bad point',
    });
  });

  it('is no rejection when rejectedDataPoints is "0", whatever the message (JSON)', () => {
    const body = JSON.stringify({
      partialSuccess: { rejectedDataPoints: '0', errorMessage: 'some points were downsampled' },
    });
    expect(reported(JsonMetricsSerializer, new TextEncoder().encode(body))).toBeUndefined();
  });
});
