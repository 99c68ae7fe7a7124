/**
 * The count of an OTLP partial success, as a backend may send it wrong: a negative int64 (which a
 * protobuf decoder hands over as an unsigned 2^64 − 1), a fraction, or more items than the request
 * held. Invalid counts are not counted and warned about once; a count above the request's items is
 * capped at them, the request's count travelling from its bytes to the response's through the
 * transport (`carryRequestItems`), so overlapping exports cannot mix their counts up.
 */
import { DiagLogLevel, diag, SpanKind } from '@opentelemetry/api';
import {
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePartialSuccess, startOtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startOtlpGrpcReceiver } from '../../../test-support/otlp-grpc-receiver.js';
import { flushFailures } from '../../../test-support/flush-failures.js';
import { startTelemetry, type RunningTelemetry } from '../src/index.js';
import {
  rejectedItemsOf,
  reportingRejectedItems,
  reportingRejections,
  type RejectedItems,
} from '../src/otlp-metrics/partial-success.js';
import { carryRequestItems, requestItemsOf } from '../src/otlp-metrics/request-items.js';
import { ENCODED_TRACE_SERIALIZER } from '../src/tracing/encoded-span-exporter.js';
import { encodeTraceRequest } from '../src/tracing/encoded-trace-request.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

let running: RunningTelemetry | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  diag.disable();
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The `diag` warnings from now on. */
function warnings(): string[] {
  const seen: string[] = [];
  const ignore = (): void => {};
  diag.setLogger(
    { warn: (message) => void seen.push(message), error: ignore, info: ignore, debug: ignore, verbose: ignore },
    DiagLogLevel.WARN,
  );
  return seen;
}

const json = (body: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(body));

/** An int64 as a `Long` of the `long` package holds it (two signed 32-bit halves), as protobufjs may decode one. */
function long(value: bigint): { low: number; high: number; unsigned: boolean; toString(): string } {
  const bits = BigInt.asUintN(64, value);
  return {
    low: Number(BigInt.asIntN(32, bits)),
    high: Number(BigInt.asIntN(32, bits >> 32n)),
    unsigned: true,
    toString: () => String(bits),
  };
}

/** What a span serializer reporting rejections hands on for each response, with its responses' bytes. */
function spanReports(serializer: typeof ProtobufTraceSerializer | typeof JsonTraceSerializer) {
  const seen: Array<RejectedItems | undefined> = [];
  const wrapped = reportingRejectedItems(serializer, 'rejectedSpans', (rejected) => seen.push(rejected));
  return { seen, wrapped };
}

function endedSpans(count: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('partial-success-counts');
  for (let index = 0; index < count; index++) tracer.startSpan(`span ${index}`).end();
  return exporter.getFinishedSpans();
}

describe('reading the count of a partial success', () => {
  it('ignores a protobuf -1 (decoded as the unsigned 2^64 - 1) and warns once with what was sent', () => {
    const seen = warnings();
    const { seen: reports, wrapped } = spanReports(ProtobufTraceSerializer);
    // rejected_spans = -1: a ten-byte varint, as the fuzzed backend sent it.
    const minusOne = new Uint8Array([0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(ProtobufTraceSerializer.deserializeResponse(minusOne)).toEqual({
      partialSuccess: { rejectedSpans: 18446744073709552000 },
    });
    wrapped.deserializeResponse(minusOne);
    wrapped.deserializeResponse(encodePartialSuccess('/v1/traces', -1, 'bad'));
    expect(reports).toEqual([undefined, undefined]);
    expect(seen).toEqual([
      expect.stringContaining(
        'partial success with rejectedSpans 18446744073709552000 (2^63 or more: a negative int64',
      ),
    ]);
  });

  it.each([
    ['"-1"', '-1'],
    ['2.5', 2.5],
    ['"18446744073709551615"', '18446744073709551615'],
    ['"abc"', 'abc'],
    ['-3', -3],
    ['"0x10"', '0x10'],
    ['"Infinity"', 'Infinity'],
  ])('ignores the JSON count %s', (described, rejectedSpans) => {
    const seen = warnings();
    const { seen: reports, wrapped } = spanReports(JsonTraceSerializer);
    wrapped.deserializeResponse(json({ partialSuccess: { rejectedSpans, errorMessage: 'bad' } }));
    expect(reports).toEqual([undefined]);
    expect(seen).toEqual([expect.stringContaining(`rejectedSpans ${described}, which is not a count of spans`)]);
    expect(seen[0]).toContain('the message bad');
  });

  it('reads 3 over protobuf and JSON, and "3" and "1e3" over JSON', () => {
    const seen = warnings();
    const protobuf = spanReports(ProtobufTraceSerializer);
    protobuf.wrapped.deserializeResponse(encodePartialSuccess('/v1/traces', 3, 'three too old'));
    const fromJson = spanReports(JsonTraceSerializer);
    for (const rejectedSpans of [3, '3', '1e3'])
      fromJson.wrapped.deserializeResponse(json({ partialSuccess: { rejectedSpans, errorMessage: 'old' } }));
    expect(protobuf.seen).toEqual([{ count: 3, errorMessage: 'three too old' }]);
    expect(fromJson.seen.map((rejected) => rejected?.count)).toEqual([3, 3, 1000]);
    expect(seen).toEqual([]);
  });

  it('reads a Long as a signed int64', () => {
    const invalid: string[] = [];
    const onInvalid = (sent: string): void => void invalid.push(sent);
    const response = (rejected: unknown) => ({ partialSuccess: { rejectedLogRecords: rejected, errorMessage: 'x' } });
    expect(rejectedItemsOf(response(long(3n)), 'rejectedLogRecords', onInvalid)).toEqual({
      count: 3,
      errorMessage: 'x',
    });
    expect(rejectedItemsOf(response(long(2n ** 40n)), 'rejectedLogRecords', onInvalid)?.count).toBe(2 ** 40);
    expect(rejectedItemsOf(response(long(-1n)), 'rejectedLogRecords', onInvalid)).toBeUndefined();
    expect(invalid).toEqual(['-1 (a Long)']);
  });
});

describe('capping the count at the items of the request answered', () => {
  it('an encoded trace request of 2 spans: a claim of 1 000 000 rejected is counted as 2, warned once', () => {
    const seen = warnings();
    const reports: Array<RejectedItems | undefined> = [];
    const serializer = reportingRejectedItems(ENCODED_TRACE_SERIALIZER, 'rejectedSpans', (rejected) =>
      reports.push(rejected),
    );
    for (let index = 0; index < 2; index++) {
      const request = serializer.serializeRequest(encodeTraceRequest(endedSpans(2)))!;
      const response = encodePartialSuccess('/v1/traces', 1_000_000, 'too many');
      carryRequestItems(request, response);
      expect(requestItemsOf(response)).toBe(2);
      serializer.deserializeResponse(response);
    }
    expect(reports).toEqual([
      { count: 2, errorMessage: 'too many' },
      { count: 2, errorMessage: 'too many' },
    ]);
    expect(seen).toEqual([
      expect.stringContaining('partial success rejecting 1000000 spans of a request of 2; counted as 2'),
    ]);
  });

  it('overlapping exports: each response is capped by its own request, whatever order they come back in', () => {
    const { seen: reports, wrapped } = spanReports(ProtobufTraceSerializer);
    const small = wrapped.serializeRequest(endedSpans(1))!;
    const large = wrapped.serializeRequest(endedSpans(5))!;
    const toLarge = encodePartialSuccess('/v1/traces', 9, 'nine');
    const toSmall = encodePartialSuccess('/v1/traces', 9, 'nine');
    carryRequestItems(large, toLarge);
    carryRequestItems(small, toSmall);
    wrapped.deserializeResponse(toLarge);
    wrapped.deserializeResponse(toSmall);
    expect(reports.map((rejected) => rejected?.count)).toEqual([5, 1]);
    // A count within the request, or a response no transport carried a count to, is taken as sent.
    const within = encodePartialSuccess('/v1/traces', 3, 'three');
    carryRequestItems(large, within);
    wrapped.deserializeResponse(within);
    wrapped.deserializeResponse(encodePartialSuccess('/v1/traces', 9, 'nine'));
    expect(reports.map((rejected) => rejected?.count)).toEqual([5, 1, 3, 9]);
  });

  it('a metrics push: capped at its data points', async () => {
    const reader = new CollectingReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('partial-success-counts');
    const counter = meter.createCounter('requests');
    for (const route of ['/a', '/b', '/c']) counter.add(1, { route });
    meter.createHistogram('latency').record(5);
    const { resourceMetrics } = await reader.collect();
    const rejections: RejectedItems[] = [];
    const serializer = reportingRejections(ProtobufMetricsSerializer, (rejected) => rejections.push(rejected));
    const request = serializer.serializeRequest(resourceMetrics as ResourceMetrics)!;
    const response = encodePartialSuccess('/v1/metrics', 1_000_000, 'out of range');
    carryRequestItems(request, response);
    serializer.deserializeResponse(response);
    expect(rejections).toEqual([{ count: 4, errorMessage: 'out of range' }]);
  });
});

describe.each(['grpc', 'http/protobuf', 'http/json'])('over OTLP %s, end to end', (protocol) => {
  async function telemetryOver() {
    const receiver = protocol === 'grpc' ? await startOtlpGrpcReceiver() : await startOtlpReceiver();
    closers.push(() => receiver.close());
    running = startTelemetry({
      serviceName: 'partial-success-counts',
      hostMetrics: false,
      runtimeMetrics: false,
      logStream: null,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '3600000',
        OTEL_BLRP_SCHEDULE_DELAY: '3600000',
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      },
    });
    return { receiver, otel: running };
  }

  it('spans and log records: more rejected than sent counts what was sent; -1 counts nothing', async () => {
    const seen = warnings();
    const { receiver, otel } = await telemetryOver();
    const dropped = (): number[] => [
      otel.telemetry.currentValue('telemetrySpansDropped', { reason: 'rejected' }) ?? 0,
      otel.telemetry.currentValue('telemetryLogsDropped', { reason: 'rejected' }) ?? 0,
    ];
    const emit = (): void => {
      otel.tracer.startSpan('one', { kind: SpanKind.SERVER }).end();
      otel.logger.info('one');
    };

    receiver.partialSuccessNext(1000, -1, 'minus one');
    emit();
    await otel.forceFlush().catch(() => {});
    expect(dropped()).toEqual([0, 0]);
    expect(seen.filter((message) => message.includes('which is not a count of'))).toHaveLength(3);

    receiver.partialSuccessNext(1000, 1_000_000, 'a million');
    emit();
    await otel.forceFlush().catch(() => {});
    expect(dropped()).toEqual([1, 1]);
    expect(receiver.spans()).toHaveLength(2);
  });

  it('metrics: the failure names the data points of the push, not the million claimed', async () => {
    const { receiver, otel } = await telemetryOver();
    otel.telemetry.incrementCostByProvider('openai', 1);
    receiver.partialSuccessNext(1, 1_000_000, 'a million');
    const failures = await flushFailures(otel);
    const points = receiver.metrics().reduce((total, metric) => total + metric.dataPoints.length, 0);
    expect(points).toBeGreaterThan(0);
    expect(failures).toContain(
      `metrics not exported (rejected): the backend rejected ${points} data point${points === 1 ? '' : 's'}: a million`,
    );
  });
});
