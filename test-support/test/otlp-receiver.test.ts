import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';

import { SpanKindNumber, StatusCodeNumber, startOtlpReceiver, type OtlpReceiver } from '../otlp-receiver.js';

const receivers: OtlpReceiver[] = [];
const providers: Array<{ shutdown(): Promise<void> }> = [];

async function receiver(options?: Parameters<typeof startOtlpReceiver>[0]): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver(options);
  receivers.push(r);
  return r;
}

function tracerProvider(url: string): BasicTracerProvider {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-receiver-test', 'deployment.environment': 'test' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 50 })],
  });
  providers.push(provider);
  return provider;
}

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown().catch(() => undefined)));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('startOtlpReceiver with the real OTLP/HTTP JSON trace exporter', () => {
  it('receives spans with attributes, resource, scope, status and parent/child ids', async () => {
    const r = await receiver();
    const provider = tracerProvider(r.tracesUrl);
    const tracer = provider.getTracer('test-scope', '1.2.3');

    const parent = tracer.startSpan('gateway.request', {
      kind: SpanKind.SERVER,
      attributes: { 'http.route': '/v1/chat', 'http.status_code': 200, ratio: 0.25, cached: false },
    });
    const child = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 12,
          'gen_ai.response.finish_reasons': ['stop', 'length'],
        },
      },
      trace.setSpan(context.active(), parent),
    );
    child.addEvent('retry', { attempt: 2 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 502' });
    child.end();
    parent.end();
    await provider.forceFlush();

    const spans = await r.waitForSpans((s) => s.length >= 2, 5_000);
    const p = spans.find((s) => s.name === 'gateway.request');
    const c = spans.find((s) => s.name === 'chat gpt-4o');
    expect(p).toBeDefined();
    expect(c).toBeDefined();

    expect(p).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: parent.spanContext().spanId,
      parentSpanId: undefined,
      kind: SpanKindNumber.SERVER,
      attributes: { 'http.route': '/v1/chat', 'http.status_code': 200, ratio: 0.25, cached: false },
      status: { code: StatusCodeNumber.UNSET },
      scope: { name: 'test-scope', version: '1.2.3' },
    });
    expect(p?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(p?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(p?.resource).toMatchObject({ 'service.name': 'otlp-receiver-test', 'deployment.environment': 'test' });
    expect(BigInt(p!.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(p!.startTimeUnixNano));

    expect(c).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: child.spanContext().spanId,
      parentSpanId: parent.spanContext().spanId,
      kind: SpanKindNumber.CLIENT,
      attributes: {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
      },
      status: { code: StatusCodeNumber.ERROR, message: 'upstream 502' },
      events: [{ name: 'retry', attributes: { attempt: 2 } }],
    });

    const [req] = r.requests();
    expect(req).toMatchObject({ method: 'POST', path: '/v1/traces', contentType: 'application/json', status: 200 });
    expect(r.requestCount).toBe(1);
    // What the 0.223 JSON exporter puts on the wire: hex ids, int attributes as numbers, string timestamps.
    const wireSpan = (
      req?.body as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> }
    ).resourceSpans[0]?.scopeSpans[0]?.spans.find((s) => s.name === 'chat gpt-4o');
    expect(wireSpan?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(wireSpan?.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof wireSpan?.startTimeUnixNano).toBe('string');
  });

  it('failFirst makes the exporter retry (Retry-After: 0)', async () => {
    const r = await receiver({ failFirst: 2, retryAfterSeconds: 0 });
    const provider = tracerProvider(r.tracesUrl);
    provider.getTracer('t').startSpan('retried').end();
    await provider.forceFlush();
    await r.waitForSpans((s) => s.some((x) => x.name === 'retried'), 5_000);
    expect(r.requests().map((x) => x.status)).toEqual([503, 503, 200]);
    expect(r.requestCount).toBe(3);
    expect(r.spans()).toHaveLength(1);
  });

  it('failFirst without Retry-After uses the exporter backoff', async () => {
    const r = await receiver({ failFirst: 1 });
    const provider = tracerProvider(r.tracesUrl);
    provider.getTracer('t').startSpan('backoff').end();
    await provider.forceFlush();
    await r.waitForSpans((s) => s.length === 1, 5_000);
    expect(r.requests().map((x) => x.status)).toEqual([503, 200]);
  });

  it('waitForSpans times out with a description of what arrived', async () => {
    const r = await receiver();
    await expect(r.waitForSpans((s) => s.length > 0, 100)).rejects.toThrow(/timed out.*spans[\s\S]*requests \(0\)/);
  });
});

describe('startOtlpReceiver with the real OTLP/HTTP JSON metric exporter', () => {
  it('receives a counter with attributes', async () => {
    const r = await receiver();
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'metrics-test' }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: r.metricsUrl }),
          exportIntervalMillis: 60_000,
        }),
      ],
    });
    providers.push(provider);
    provider.getMeter('m').createCounter('requests', { unit: '{request}' }).add(3, { route: '/chat' });
    await provider.forceFlush();
    const metrics = await r.waitForMetrics((m) => m.some((x) => x.name === 'requests'), 5_000);
    const metric = metrics.find((x) => x.name === 'requests');
    expect(metric).toMatchObject({
      type: 'sum',
      unit: '{request}',
      isMonotonic: true,
      aggregationTemporality: 2,
      resource: { 'service.name': 'metrics-test' },
      scope: { name: 'm' },
    });
    expect(metric?.dataPoints).toHaveLength(1);
    expect(metric?.dataPoints[0]).toMatchObject({ attributes: { route: '/chat' }, value: 3 });
  });
});

describe('startOtlpReceiver raw HTTP handling', () => {
  it('answers a success in the encoding of the request: an empty protobuf message or {}', async () => {
    const r = await receiver();
    for (const url of [r.tracesUrl, r.metricsUrl, r.logsUrl]) {
      const proto = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-protobuf' },
        body: new Uint8Array(0),
      });
      expect([proto.status, proto.headers.get('content-type'), (await proto.arrayBuffer()).byteLength]).toEqual([
        200,
        'application/x-protobuf',
        0,
      ]);
      const json = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect([json.status, json.headers.get('content-type'), await json.text()]).toEqual([
        200,
        'application/json',
        '{}',
      ]);
    }
  });

  it('rejects malformed protobuf with 400, other content types with 415 and unknown paths with 404', async () => {
    const r = await receiver();
    const proto = await fetch(r.tracesUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf' },
      // Field 1, length-delimited, claims 16 bytes but carries one.
      body: new Uint8Array([0x0a, 0x10, 0x00]),
    });
    expect(proto.status).toBe(400);
    const text = await fetch(r.tracesUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    const notFound = await fetch(`${r.url}/v1/nope`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(r.requestCount).toBe(3);
  });

  it('decodes base64 ids, kvlists, int64 strings and log records', async () => {
    const r = await receiver();
    const traceIdHex = '0123456789abcdef0123456789abcdef';
    const spanIdHex = 'fedcba9876543210';
    const res = await fetch(r.tracesUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
            scopeSpans: [
              {
                scope: { name: 'raw-scope' },
                spans: [
                  {
                    traceId: Buffer.from(traceIdHex, 'hex').toString('base64'),
                    spanId: Buffer.from(spanIdHex, 'hex').toString('base64'),
                    parentSpanId: '',
                    name: 'raw-span',
                    kind: 'SPAN_KIND_PRODUCER',
                    startTimeUnixNano: '1700000000000000000',
                    endTimeUnixNano: '1700000000500000000',
                    attributes: [
                      { key: 'big', value: { intValue: '9007199254740993' } },
                      { key: 'small', value: { intValue: '42' } },
                      { key: 'map', value: { kvlistValue: { values: [{ key: 'a', value: { boolValue: true } }] } } },
                      { key: 'mixed', value: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'x' }] } } },
                    ],
                    status: { code: 'STATUS_CODE_OK' },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(r.spans()[0]).toMatchObject({
      traceId: traceIdHex,
      spanId: spanIdHex,
      parentSpanId: undefined,
      kind: SpanKindNumber.PRODUCER,
      status: { code: StatusCodeNumber.OK },
      attributes: { big: '9007199254740993', small: 42, map: { a: true }, mixed: [1, 'x'] },
      resource: { 'service.name': 'raw' },
    });

    const logs = await fetch(r.logsUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [] },
            scopeLogs: [
              {
                scope: { name: 'logger' },
                logRecords: [
                  {
                    timeUnixNano: '1700000000000000000',
                    severityNumber: 17,
                    severityText: 'ERROR',
                    body: { stringValue: 'boom' },
                    attributes: [{ key: 'k', value: { stringValue: 'v' } }],
                    traceId: traceIdHex,
                    spanId: spanIdHex,
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(logs.status).toBe(200);
    expect(r.logRecords()).toEqual([
      expect.objectContaining({
        severityNumber: 17,
        severityText: 'ERROR',
        body: 'boom',
        attributes: { k: 'v' },
        traceId: traceIdHex,
        spanId: spanIdHex,
        scope: { name: 'logger', attributes: {} },
      }),
    ]);
  });
});

describe('startOtlpReceiver with the real OTLP/HTTP protobuf exporters', () => {
  it('decodes protobuf spans into the same records as JSON', async () => {
    const r = await receiver();
    const make = (exporter: OTLPTraceExporter | OTLPProtoTraceExporter): BasicTracerProvider => {
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'proto-test' }),
        spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
      });
      providers.push(provider);
      return provider;
    };
    const json = make(new OTLPTraceExporter({ url: r.tracesUrl }));
    const proto = make(new OTLPProtoTraceExporter({ url: r.tracesUrl }));
    const record = (provider: BasicTracerProvider, name: string): { traceId: string; spanId: string } => {
      const span = provider.getTracer('scope', '2.0.0').startSpan(name, {
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.request.model': 'gpt-4o', tokens: 12, ratio: 0.5, ok: true, reasons: ['stop'] },
      });
      span.addEvent('first_chunk', { index: 0 });
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      span.end();
      return span.spanContext();
    };
    const jsonIds = record(json, 'same');
    const protoIds = record(proto, 'same');
    await json.forceFlush();
    await proto.forceFlush();
    const spans = await r.waitForSpans((s) => s.length === 2, 5_000);
    expect(
      r
        .requests()
        .map((x) => x.contentType)
        .sort(),
    ).toEqual(['application/json', 'application/x-protobuf']);
    const fromJson = spans.find((s) => s.spanId === jsonIds.spanId);
    const fromProto = spans.find((s) => s.spanId === protoIds.spanId);
    expect(fromProto?.traceId).toBe(protoIds.traceId);
    const comparable = (span: typeof fromJson) => {
      const { traceId: _t, spanId: _s, startTimeUnixNano: _a, endTimeUnixNano: _b, events, ...rest } = span!;
      return { ...rest, events: events.map(({ timeUnixNano: _c, ...event }) => event) };
    };
    expect(comparable(fromProto)).toEqual(comparable(fromJson));
    expect(fromProto).toMatchObject({
      kind: SpanKindNumber.CLIENT,
      attributes: { 'gen_ai.request.model': 'gpt-4o', tokens: 12, ratio: 0.5, ok: true, reasons: ['stop'] },
      status: { code: StatusCodeNumber.ERROR, message: 'boom' },
      events: [{ name: 'first_chunk', attributes: { index: 0 } }],
    });
  });

  it('decodes protobuf histograms and sums with their values', async () => {
    const r = await receiver();
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'proto-metrics' }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPProtoMetricExporter({ url: r.metricsUrl }),
          exportIntervalMillis: 60_000,
        }),
      ],
    });
    providers.push(provider);
    const meter = provider.getMeter('m');
    meter.createCounter('requests').add(7, { provider: 'openai' });
    const histogram = meter.createHistogram('latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
    for (const value of [0.05, 0.5, 0.7, 3]) histogram.record(value, { provider: 'openai' });
    await provider.forceFlush();
    const metrics = await r.waitForMetrics((m) => m.some((x) => x.name === 'latency'), 5_000);
    expect(r.requests()[0]?.contentType).toBe('application/x-protobuf');
    expect(metrics.find((m) => m.name === 'requests')).toMatchObject({
      type: 'sum',
      isMonotonic: true,
      aggregationTemporality: 2,
      dataPoints: [{ attributes: { provider: 'openai' }, value: 7 }],
    });
    const latency = metrics.find((m) => m.name === 'latency');
    expect(latency).toMatchObject({ type: 'histogram', unit: 's', aggregationTemporality: 2 });
    expect(latency?.dataPoints[0]?.raw).toMatchObject({
      count: '4',
      sum: 4.25,
      bucketCounts: ['1', '2', '1'],
      explicitBounds: [0.1, 1],
      min: 0.05,
      max: 3,
    });
  });
});
