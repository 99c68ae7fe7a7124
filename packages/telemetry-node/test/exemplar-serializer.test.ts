import { createRequire } from 'node:module';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { withExemplars, type ExemplarLookup, type OtlpExemplar } from '../src/otlp-metrics/exemplar-serializer.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

interface MessageType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
}
// The protobufjs code generated from the official opentelemetry-proto definitions.
const request = (
  createRequire(import.meta.url)('otlp-proto-definitions/build/src/generated/root.js') as {
    opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: MessageType } } } } };
  }
).opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const decode = (bytes: Uint8Array): Record<string, unknown> =>
  request.toObject(request.decode(bytes), { longs: String, enums: Number, bytes: String, arrays: true });

/** A collection with two histograms (three points), a counter and a gauge, from a real MeterProvider. */
async function collection(): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'exemplars', 'service.instance.id': 'a' }),
    readers: [reader],
  });
  const meter = provider.getMeter('scope', '1.0.0');
  const latency = meter.createHistogram('latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 10] } });
  latency.record(0.05, { provider: 'openai', model: 'gpt-4o' });
  latency.record(2.5, { provider: 'openai', model: 'gpt-4o' });
  latency.record(0.7, { provider: 'anthropic', model: 'claude' });
  meter.createHistogram('size').record(1234, { route: '/v1/chat' });
  meter.createCounter('requests').add(3, { status: 'success', ratio: 0.5, flag: true, list: ['a', 'b'] });
  meter.createGauge('score').record(0.9, { provider: 'openai' });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

// After the points' start times: only exemplars observed within a point's interval are sent.
const nowSeconds = Date.now() / 1000 + 5;
const EXEMPLAR_A: OtlpExemplar = {
  value: 2.5,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  timestampSeconds: nowSeconds,
};
const EXEMPLAR_B: OtlpExemplar = {
  value: 0.05,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  timestampSeconds: nowSeconds + 0.25,
};

/** The histogram data points of a decoded request (protobuf decoded with `toObject`, or OTLP/JSON). */
const points = (body: Record<string, unknown>): Array<Record<string, unknown>> =>
  (
    body['resourceMetrics'] as Array<{ scopeMetrics: Array<{ metrics: Array<Record<string, unknown>> }> }>
  )[0]!.scopeMetrics[0]!.metrics.flatMap(
    (metric) => (metric['histogram'] as { dataPoints: Array<Record<string, unknown>> } | undefined)?.dataPoints ?? [],
  );

function lookupFor(map: Map<string, OtlpExemplar[]>): ExemplarLookup {
  return (point) => map.get(String(point.attributes['provider'] ?? point.attributes['route']));
}

describe('withExemplars (OTLP serializers that carry exemplars)', () => {
  it('is byte for byte the stock serializer when no point has an exemplar', async () => {
    const metrics = await collection();
    const protobuf = withExemplars(ProtobufMetricsSerializer, 'protobuf', () => undefined);
    const json = withExemplars(JsonMetricsSerializer, 'json', () => []);
    expect(Buffer.from(protobuf.serializeRequest(metrics)!)).toEqual(
      Buffer.from(ProtobufMetricsSerializer.serializeRequest(metrics)!),
    );
    expect(Buffer.from(json.serializeRequest(metrics)!)).toEqual(
      Buffer.from(JsonMetricsSerializer.serializeRequest(metrics)!),
    );
  });

  it('adds exemplars to the right histogram points; everything else decodes as the stock request', async () => {
    const metrics = await collection();
    const exemplars = new Map([
      ['openai', [EXEMPLAR_B, EXEMPLAR_A]],
      ['/v1/chat', [{ ...EXEMPLAR_A, value: 1234 }]],
    ]);
    const serializer = withExemplars(ProtobufMetricsSerializer, 'protobuf', lookupFor(exemplars));
    const ours = decode(serializer.serializeRequest(metrics)!);
    const stock = decode(ProtobufMetricsSerializer.serializeRequest(metrics)!);
    const oursPoints = points(ours);
    const withoutExemplars = (body: Record<string, unknown>): unknown =>
      JSON.parse(JSON.stringify(body, (key, value: unknown) => (key === 'exemplars' ? undefined : value)));
    expect(withoutExemplars(ours)).toEqual(withoutExemplars(stock));
    // The stock request has no exemplars at all.
    expect(points(stock).every((point) => (point['exemplars'] as unknown[]).length === 0)).toBe(true);
    const openai = oursPoints.find((point) => JSON.stringify(point['attributes']).includes('openai'));
    const toHex = (base64: unknown): string => Buffer.from(String(base64), 'base64').toString('hex');
    expect(
      (openai?.['exemplars'] as Array<Record<string, unknown>>).map((exemplar) => ({
        value: exemplar['asDouble'],
        traceId: toHex(exemplar['traceId']),
        spanId: toHex(exemplar['spanId']),
        time: exemplar['timeUnixNano'],
      })),
    ).toEqual(
      [EXEMPLAR_B, EXEMPLAR_A].map((exemplar) => ({
        value: exemplar.value,
        traceId: exemplar.traceId,
        spanId: exemplar.spanId,
        time: (BigInt(Math.round(exemplar.timestampSeconds * 1e6)) * 1000n).toString(),
      })),
    );
    const anthropic = oursPoints.find((point) => JSON.stringify(point['attributes']).includes('anthropic'));
    expect(anthropic?.['exemplars']).toEqual([]);
    const size = oursPoints.find((point) => JSON.stringify(point['attributes']).includes('/v1/chat'));
    expect((size?.['exemplars'] as Array<Record<string, unknown>>)[0]?.['asDouble']).toBe(1234);
  });

  it('adds the same exemplars to the JSON encoding, ids in hex as OTLP/JSON writes them', async () => {
    const metrics = await collection();
    const serializer = withExemplars(JsonMetricsSerializer, 'json', lookupFor(new Map([['openai', [EXEMPLAR_A]]])));
    const body = JSON.parse(new TextDecoder().decode(serializer.serializeRequest(metrics)!)) as Record<string, unknown>;
    const stock = JSON.parse(new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(metrics)!)) as Record<
      string,
      unknown
    >;
    const text = JSON.stringify(body);
    expect(text).toContain(`"traceId":"${EXEMPLAR_A.traceId}"`);
    expect(text).toContain(`"spanId":"${EXEMPLAR_A.spanId}"`);
    expect(
      JSON.parse(JSON.stringify(body, (key, value: unknown) => (key === 'exemplars' ? undefined : value))),
    ).toEqual(stock);
  });

  it.each(['protobuf', 'json'] as const)(
    'writes an exemplar without a trace (always_on, outside a sampled span) with no trace_id or span_id (%s)',
    async (encoding) => {
      const metrics = await collection();
      const untraced: OtlpExemplar = {
        value: 0.05,
        traceId: undefined,
        spanId: undefined,
        timestampSeconds: nowSeconds,
      };
      const serializer = withExemplars(
        encoding === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer,
        encoding,
        lookupFor(new Map([['openai', [untraced, EXEMPLAR_A]]])),
      );
      const bytes = serializer.serializeRequest(metrics)!;
      const body =
        encoding === 'json' ? (JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>) : decode(bytes);
      const openai = points(body).find((point) => JSON.stringify(point['attributes']).includes('openai'));
      const exemplars = openai?.['exemplars'] as Array<Record<string, unknown>>;
      // (The protobuf decoding lists an empty filteredAttributes array.)
      const fields = (exemplar: Record<string, unknown>): string[] =>
        Object.keys(exemplar)
          .filter((key) => key !== 'filteredAttributes')
          .sort();
      expect(exemplars.map(fields)).toEqual([
        ['asDouble', 'timeUnixNano'],
        ['asDouble', 'spanId', 'timeUnixNano', 'traceId'],
      ]);
      expect(exemplars[0]?.['asDouble']).toBe(0.05);
    },
  );

  it('leaves out exemplars older than a delta point and malformed ids', async () => {
    const metrics = await collection();
    const old: OtlpExemplar = { ...EXEMPLAR_A, timestampSeconds: 1 };
    const bad: OtlpExemplar = { ...EXEMPLAR_A, traceId: 'not-hex' };
    const halfIds: OtlpExemplar = { ...EXEMPLAR_A, spanId: undefined };
    const serializer = withExemplars(
      ProtobufMetricsSerializer,
      'protobuf',
      lookupFor(new Map([['openai', [old, bad, halfIds]]])),
    );
    expect(Buffer.from(serializer.serializeRequest(metrics)!)).toEqual(
      Buffer.from(ProtobufMetricsSerializer.serializeRequest(metrics)!),
    );
  });
});
