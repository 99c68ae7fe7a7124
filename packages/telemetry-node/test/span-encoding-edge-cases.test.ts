/**
 * Span fields the rest of the encoder suite let through (found by mutation testing): dropped event
 * and link counts that differ, and integer attributes at the edge of int64. Each is compared with
 * `ProtobufTraceSerializer` byte for byte, and decoded with the official protobuf definitions.
 */
import { describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import { encodeTraceRequest } from '../src/tracing/index.js';
import { decodeProtobufRequest } from '../../../test-support/otlp-receiver.js';

/** The spans `record` ends on a provider with `spanLimits`. */
function finishedSpans(record: (provider: BasicTracerProvider) => void, spanLimits: SpanLimits = {}): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'encoder-edge-cases' }),
    spanLimits,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  record(provider);
  return exporter.getFinishedSpans();
}

type DecodedSpan = Record<string, unknown> & { attributes: Array<{ key: string; value: Record<string, unknown> }> };

/** The spans of a decoded request. */
function decodedSpans(bytes: Uint8Array): DecodedSpan[] {
  const request = decodeProtobufRequest('/v1/traces', bytes) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: DecodedSpan[] }> }>;
  };
  return request.resourceSpans.flatMap((group) => group.scopeSpans.flatMap((scope) => scope.spans));
}

/** Our encoding of `spans`, checked to decode as the SDK's and to be byte-identical to it. */
function expectSdkBytes(spans: ReadableSpan[]): Uint8Array {
  const ours = encodeTraceRequest(spans).bytes;
  const sdk = ProtobufTraceSerializer.serializeRequest(spans)!;
  expect(decodedSpans(ours)).toEqual(decodedSpans(sdk));
  expect(Buffer.from(ours).equals(Buffer.from(sdk))).toBe(true);
  return ours;
}

describe('encodeTraceRequest edge cases', () => {
  it('writes dropped events and dropped links each in its own field', () => {
    const spans = finishedSpans(
      (provider) => {
        const tracer = provider.getTracer('limits');
        const linked = tracer.startSpan('linked');
        linked.end();
        const span = tracer.startSpan('limited');
        for (const name of ['a', 'b', 'c', 'd']) span.addEvent(name);
        for (let index = 0; index < 2; index++) span.addLink({ context: linked.spanContext() });
        span.end();
      },
      { eventCountLimit: 1, linkCountLimit: 1 },
    );
    const limited = spans.find((span) => span.name === 'limited')!;
    expect([limited.droppedEventsCount, limited.droppedLinksCount]).toEqual([3, 1]);
    const decoded = decodedSpans(expectSdkBytes(spans)).find((span) => span['name'] === 'limited')!;
    expect(decoded).toMatchObject({ droppedEventsCount: 3, droppedLinksCount: 1 });
  });

  it('writes an integer attribute int64 cannot hold (2^63) as the SDK does: a double', () => {
    const attributes = { 'int64.max.plus.one': 2 ** 63, 'int64.min': -(2 ** 63), 'uint64.range': 2 ** 64 };
    const spans = finishedSpans((provider) => provider.getTracer('numbers').startSpan('big', { attributes }).end());
    const [span] = decodedSpans(expectSdkBytes(spans));
    expect(Object.fromEntries(span!.attributes.map(({ key, value }) => [key, value]))).toEqual({
      'int64.max.plus.one': { doubleValue: 2 ** 63 },
      'int64.min': { intValue: '-9223372036854775808' },
      'uint64.range': { doubleValue: 2 ** 64 },
    });
  });
});
