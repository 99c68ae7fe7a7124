import { createRequire } from 'node:module';
import { Client, Metadata, credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { OTLP_GRPC_METHODS, startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../otlp-grpc-receiver.js';

const receivers: OtlpGrpcReceiver[] = [];
const closers: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(): Promise<OtlpGrpcReceiver> {
  const started = await startOtlpGrpcReceiver();
  receivers.push(started);
  return started;
}

interface ResponseType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
}
const generated = createRequire(import.meta.url)('otlp-proto-definitions/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceResponse: ResponseType } } } } };
};

/** One raw unary call to the trace Export method: the receiver's answer, bytes or error. */
function callTraceExport(target: OtlpGrpcReceiver, bytes: Uint8Array): Promise<Buffer> {
  const client = new Client(`127.0.0.1:${target.port}`, credentials.createInsecure());
  closers.push(() => client.close());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      OTLP_GRPC_METHODS.traces,
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.from(bytes),
      new Metadata(),
      (error: ServiceError | null, response?: Buffer) => (error ? reject(error) : resolve(response!)),
    );
  });
}

describe('startOtlpGrpcReceiver with the stock OTLP/gRPC exporters', () => {
  it('receives spans from the SDK trace exporter, with metadata and raw bytes', async () => {
    const target = await receiver();
    const exporter = new OTLPTraceExporter({ url: target.url, metadata: metadataOf({ 'x-tenant': 'acme' }) });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'grpc-receiver-test' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    closers.push(() => provider.shutdown());
    const tracer = provider.getTracer('scope', '1.0.0');
    const parent = tracer.startSpan('parent', { attributes: { 'a.b': 1 } });
    parent.end();
    const spans = await target.waitForSpans((received) => received.length === 1);
    expect(spans[0]).toMatchObject({
      name: 'parent',
      traceId: parent.spanContext().traceId,
      spanId: parent.spanContext().spanId,
      attributes: { 'a.b': 1 },
      resource: { 'service.name': 'grpc-receiver-test' },
      scope: { name: 'scope', version: '1.0.0' },
    });
    const [call] = target.calls();
    expect(call).toMatchObject({ signal: 'traces', method: OTLP_GRPC_METHODS.traces, status: GrpcStatus.OK });
    expect(call?.metadata['x-tenant']).toBe('acme');
    expect(call?.metadata['user-agent']).toContain('OTel-OTLP-Exporter-JavaScript');
    expect(call?.bytes.length).toBeGreaterThan(0);
    expect(target.wireBytes).toBeGreaterThan(call!.bytes.length);
  });

  it('receives gzip-coded metrics from the SDK metric exporter', async () => {
    const target = await receiver();
    const provider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: target.url, compression: 'gzip' as never }),
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    closers.push(() => provider.shutdown());
    provider.getMeter('m').createCounter('requests').add(7, { route: '/x' });
    await provider.forceFlush();
    const [metric] = target.metrics();
    expect(metric).toMatchObject({ name: 'requests', type: 'sum', isMonotonic: true });
    expect(metric?.dataPoints.map((point) => [point.attributes, point.value])).toEqual([[{ route: '/x' }, 7]]);
  });

  it('a failure it is told to give reaches the exporter as a failed export', async () => {
    const target = await receiver();
    target.failNext(1, GrpcStatus.PERMISSION_DENIED, 'no');
    const exporter = new OTLPTraceExporter({ url: target.url });
    closers.push(() => exporter.shutdown());
    const provider = new BasicTracerProvider();
    closers.push(() => provider.shutdown());
    const span = provider.getTracer('t').startSpan('refused');
    span.end();
    const result = await new Promise<ExportResult>((resolve) => exporter.export([span as never], resolve));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect((result.error as ServiceError | undefined)?.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(target.calls().map((call) => call.status)).toEqual([GrpcStatus.PERMISSION_DENIED]);
    expect(target.spans()).toEqual([]);
  });
});

describe('startOtlpGrpcReceiver answers', () => {
  it('a partial success, an error status, and INVALID_ARGUMENT for bytes that are no request', async () => {
    const target = await receiver();
    target.partialSuccessNext(1, 5, 'five spans too old');
    const response = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
    const answer = await callTraceExport(target, new Uint8Array());
    expect(response.toObject(response.decode(answer), { longs: Number })).toEqual({
      partialSuccess: { rejectedSpans: 5, errorMessage: 'five spans too old' },
    });
    target.failNext(1, GrpcStatus.UNAVAILABLE, 'down for maintenance');
    await expect(callTraceExport(target, new Uint8Array())).rejects.toMatchObject({
      code: GrpcStatus.UNAVAILABLE,
      details: 'down for maintenance',
    });
    await expect(callTraceExport(target, new Uint8Array([0xff, 0xff, 0xff]))).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
    });
    // Accepted empty request, then OK with no partial success.
    expect((await callTraceExport(target, new Uint8Array())).length).toBe(0);
    expect(target.calls().map((call) => call.status)).toEqual([
      GrpcStatus.OK,
      GrpcStatus.UNAVAILABLE,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.OK,
    ]);
  });
});

function metadataOf(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}
