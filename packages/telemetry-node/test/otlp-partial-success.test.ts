/**
 * OTLP partial success for traces and logs: the backend accepts a request but says it rejected some
 * of its spans or log records. Against real receivers (HTTP on loopback, gRPC over HTTP/2), for
 * every transport and span processor: the rejected items are counted as dropped (`rejected`) and
 * warned about through `diag` with the backend's message, once while rejections go on.
 */
import { DiagLogLevel, SpanKind, diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../../test-support/otlp-grpc-receiver.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';

let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  diag.disable();
  await Promise.all(closers.splice(0).map((close) => close()));
});

type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

async function receiverFor(protocol: Protocol): Promise<OtlpReceiver | OtlpGrpcReceiver> {
  const receiver = protocol === 'grpc' ? await startOtlpGrpcReceiver() : await startOtlpReceiver();
  closers.push(() => receiver.close());
  return receiver;
}

/** The `diag` warnings about rejections, from now on. */
function rejectionWarnings(): string[] {
  const warnings: string[] = [];
  const ignore = (): void => {};
  diag.setLogger(
    {
      warn: (message) => void (message.includes('partial success') && warnings.push(message)),
      error: ignore,
      info: ignore,
      debug: ignore,
      verbose: ignore,
    },
    DiagLogLevel.WARN,
  );
  return warnings;
}

/** Telemetry exporting one signal (`traces` or `logs`) over OTLP to `receiver`, batches waiting for a flush. */
function start(
  signal: 'traces' | 'logs',
  protocol: Protocol,
  receiver: { url: string },
  extra: NodeJS.ProcessEnv = {},
) {
  running = startTelemetry({
    serviceName: 'partial-success-test',
    hostMetrics: false,
    runtimeMetrics: false,
    logStream: null,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_TRACES_EXPORTER: signal === 'traces' ? 'otlp' : 'none',
      OTEL_LOGS_EXPORTER: signal === 'logs' ? 'otlp' : 'none',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_BSP_SCHEDULE_DELAY: '3600000',
      OTEL_BLRP_SCHEDULE_DELAY: '3600000',
      ...extra,
    },
  });
  return running;
}

/** Three spans or three log records. */
function emit(otel: RunningTelemetry, signal: 'traces' | 'logs'): void {
  for (let index = 0; index < 3; index++) {
    if (signal === 'traces') otel.tracer.startSpan(`span ${index}`, { kind: SpanKind.SERVER }).end();
    else otel.logger.info('request served', { index });
  }
}

const dropped = (otel: RunningTelemetry, signal: 'traces' | 'logs', reason: string): number =>
  otel.telemetry.currentValue(signal === 'traces' ? 'telemetrySpansDropped' : 'telemetryLogsDropped', { reason }) ?? 0;

const received = (receiver: OtlpReceiver | OtlpGrpcReceiver, signal: 'traces' | 'logs'): number =>
  signal === 'traces' ? receiver.spans().length : receiver.logRecords().length;

const CASES: Array<[signal: 'traces' | 'logs', protocol: Protocol, extra: NodeJS.ProcessEnv]> = [
  ['traces', 'http/protobuf', {}],
  ['traces', 'http/json', {}],
  ['traces', 'grpc', {}],
  // The SDK's BatchSpanProcessor in front of the same exporters.
  ['traces', 'http/protobuf', { GATEWAYZ_SPAN_PROCESSOR: 'batch' }],
  ['traces', 'grpc', { GATEWAYZ_SPAN_PROCESSOR: 'batch' }],
  ['logs', 'http/protobuf', {}],
  ['logs', 'http/json', {}],
  ['logs', 'grpc', {}],
];

describe('OTLP partial success of spans and log records', () => {
  it('warns "(no message)" when the backend rejects spans without saying why', async () => {
    const warnings = rejectionWarnings();
    const receiver = await receiverFor('http/protobuf');
    const otel = start('traces', 'http/protobuf', receiver);
    receiver.partialSuccessNext(1, 2, '');
    emit(otel, 'traces');
    await otel.forceFlush();
    expect(warnings).toEqual([
      expect.stringContaining('rejected 2 spans of an accepted request (partial success): (no message); counted in'),
    ]);
  });

  it.each(CASES)(
    '%s over %s (%o): rejected items are counted as dropped (rejected) and warned about once',
    async (signal, protocol, extra) => {
      const warnings = rejectionWarnings();
      const receiver = await receiverFor(protocol);
      const otel = start(signal, protocol, receiver, extra);
      const items = signal === 'traces' ? 'spans' : 'log records';

      receiver.partialSuccessNext(2, 2, `two ${items} too old`);
      emit(otel, signal);
      // The backend accepted the request: the export succeeded, the flush resolves.
      await otel.forceFlush();
      emit(otel, signal);
      await otel.forceFlush();
      expect(received(receiver, signal)).toBe(6);
      expect(dropped(otel, signal, 'rejected')).toBe(4);
      expect(dropped(otel, signal, 'export_failed')).toBe(0);
      // One warning for rejections in a row, with the backend's message and the counter to watch.
      expect(warnings).toEqual([
        expect.stringContaining(`rejected 2 ${items} of an accepted request (partial success): two ${items} too old`),
      ]);
      expect(warnings[0]).toContain(
        signal === 'traces'
          ? 'gatewayz_telemetry_spans_dropped_total{reason="rejected"}'
          : 'gatewayz_telemetry_logs_dropped_total{reason="rejected"}',
      );

      // A response without rejections, then rejections again: warned about again.
      emit(otel, signal);
      await otel.forceFlush();
      receiver.partialSuccessNext(1, 1);
      emit(otel, signal);
      await otel.forceFlush();
      expect(dropped(otel, signal, 'rejected')).toBe(5);
      expect(warnings).toHaveLength(2);
    },
  );
});
