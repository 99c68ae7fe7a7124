import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { endGenAiSpan, startGenAiSpan } from '@gatewayz/telemetry/genai';
import { TraceRequestBuilder, encodeTraceRequest } from '../../src/tracing/index.js';
import { decodeProtobufRequest } from '../../../../test-support/otlp-receiver.js';

function recorder(resourceAttributes: Record<string, string | number> = { 'service.name': 'encoder-test' }) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resourceAttributes),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, exporter };
}

/** Everything a span can carry: every attribute type, events, links, trace state, remote parent, status. */
function richSpans(): ReadableSpan[] {
  const { provider, exporter } = recorder({ 'service.name': 'encoder-test', 'process.pid': 4242, 'host.name': 'héte' });
  const gateway = provider.getTracer('@gatewayz/telemetry-node', '0.1.0');
  const other = provider.getTracer('other-scope');
  const remoteParent = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=value,other=1'),
  });
  const server = gateway.startSpan(
    'POST /v1/chat/completions',
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions' } },
    remoteParent,
  );
  const attempt = startGenAiSpan(
    gateway,
    {
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'gpt-4o-mini',
      serverAddress: 'api.openai.com',
      serverPort: 443,
      maxTokens: 256,
    },
    trace.setSpan(remoteParent, server),
  );
  endGenAiSpan(attempt, {
    responseModel: 'gpt-4o-mini-2024-07-18',
    inputTokens: 12,
    outputTokens: 30,
    finishReasons: ['stop', 'length'],
  });
  server.setAttributes({
    'test.negative': -42,
    'test.big': 2 ** 40,
    'test.huge': -(2 ** 62),
    'test.double': 0.125,
    'test.nan': Number.NaN,
    'test.bool': false,
    'test.unicode': 'naïve 🚀 ✓',
    'test.empty': '',
    'test.bools': [true, false],
    'test.numbers': [1, 2.5, -3],
    'test.long': 'x'.repeat(300),
  });
  server.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'hi', count: 3 });
  server.addEvent('bare');
  server.addLink({ context: attempt.spanContext(), attributes: { 'link.kind': 'attempt' } });
  server.addLink({
    context: { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 0, isRemote: true },
  });
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
  server.end();
  other.startSpan('internal', { kind: SpanKind.INTERNAL }).end();
  // Many attributes: a span body longer than 16 KB (3-byte length prefixes).
  const big = other.startSpan('big');
  for (let index = 0; index < 400; index++) big.setAttribute(`key.${index}`, `value ${index} ${'y'.repeat(40)}`);
  big.end();
  const spans = exporter.getFinishedSpans();
  // A second resource, so requests hold two ResourceSpans.
  const second = recorder({ 'service.name': 'second' });
  second.provider.getTracer('@gatewayz/telemetry-node').startSpan('second resource').end();
  return [...spans, ...second.exporter.getFinishedSpans()];
}

describe('encodeTraceRequest', () => {
  it('is byte-identical to ProtobufTraceSerializer.serializeRequest', () => {
    const spans = richSpans();
    const ours = encodeTraceRequest(spans);
    const sdk = ProtobufTraceSerializer.serializeRequest(spans)!;
    expect(ours.spanCount).toBe(spans.length);
    expect(Buffer.from(ours.bytes).equals(Buffer.from(sdk))).toBe(true);
  });

  it('decodes with the official protobuf definitions to the same message as the SDK encoding', () => {
    const spans = richSpans();
    const ours = decodeProtobufRequest('/v1/traces', encodeTraceRequest(spans).bytes);
    const sdk = decodeProtobufRequest('/v1/traces', ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(ours).toEqual(sdk);
    const resourceSpans = (ours as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> }).resourceSpans;
    expect(resourceSpans).toHaveLength(2);
    expect(resourceSpans.flatMap((group) => group.scopeSpans.flatMap((scope) => scope.spans))).toHaveLength(
      spans.length,
    );
  });

  it('encodes spans added one by one and sealed in batches the same as the SDK encodes each batch', () => {
    const spans = richSpans();
    const builder = new TraceRequestBuilder();
    for (const [start, end] of [
      [0, 2],
      [2, spans.length],
    ] as const) {
      for (const span of spans.slice(start, end)) builder.add(span);
      const sealed = builder.seal()!;
      expect(
        Buffer.from(sealed.bytes).equals(
          Buffer.from(ProtobufTraceSerializer.serializeRequest(spans.slice(start, end))!),
        ),
      ).toBe(true);
    }
    expect(builder.seal()).toBeUndefined();
  });

  it('stays byte-identical to the SDK when later batches meet resources and scopes in another order', () => {
    const first = recorder({ 'service.name': 'first' });
    const second = recorder({ 'service.name': 'second' });
    const tracers = {
      a: first.provider.getTracer('scope-a'),
      b: first.provider.getTracer('scope-b'),
      c: second.provider.getTracer('scope-c'),
    };
    const builder = new TraceRequestBuilder();
    // Batch 1 meets a, b, c; the next ones meet them in other orders (resources and scopes alike).
    for (const order of [
      ['a', 'b', 'c'],
      ['c', 'b', 'a'],
      ['b', 'a'],
      ['c', 'a', 'c', 'b'],
    ] as const) {
      first.exporter.reset();
      second.exporter.reset();
      const spans: ReadableSpan[] = [];
      for (const name of order) {
        tracers[name].startSpan(`span of ${name}`).end();
        spans.push((name === 'c' ? second : first).exporter.getFinishedSpans().at(-1)!);
      }
      for (const span of spans) builder.add(span);
      const sealed = builder.seal()!;
      expect(
        Buffer.from(sealed.bytes).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)),
        order.join(),
      ).toBe(true);
      sealed.release?.();
    }
  });

  it('stays byte-identical to the SDK while one builder reuses encoded string attributes across batches', () => {
    // Keys and values from small pools so (key, value) pairs repeat from span to span and batch to
    // batch: cached fields are copied. `many` takes more values than a key keeps cached, `long`
    // values longer than are cached, and values include non-ASCII text.
    const keys = ['http.route', 'gen_ai.provider.name', 'many', 'long', 'ünïcode.key'];
    const value = fc.oneof(
      fc.constantFrom('openai', 'anthropic', 'POST', '/v1/chat/completions', 'héllo wörld', ''),
      fc.integer({ min: 0, max: 40 }).map((n) => `value-${n}`),
      fc.string({ minLength: 60, maxLength: 80 }),
      fc.integer(),
      fc.boolean(),
    );
    const { provider, exporter } = recorder();
    const tracer = provider.getTracer('cache');
    const builder = new TraceRequestBuilder();
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: keys.length }), {
          minLength: 1,
          maxLength: 8,
        }),
        (batch) => {
          exporter.reset();
          for (const attributes of batch) tracer.startSpan('cached', { attributes }).end();
          const spans = exporter.getFinishedSpans();
          for (const span of spans) builder.add(span);
          const sealed = builder.seal()!;
          return Buffer.from(sealed.bytes).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
        },
      ),
      { numRuns: 400 },
    );
    // More than 1,024 distinct keys, each seen twice: the later spans still encode exactly.
    exporter.reset();
    for (let round = 0; round < 2; round++)
      for (let index = 0; index < 1100; index++)
        tracer.startSpan('keys', { attributes: { [`key.${index}`]: 'v' } }).end();
    const spans = exporter.getFinishedSpans();
    for (const span of spans) builder.add(span);
    expect(
      Buffer.from(builder.seal()!.bytes).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)),
    ).toBe(true);
  });

  it('matches the SDK for arbitrary attribute values and names', () => {
    const attributeValue = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.maxSafeInteger(),
      fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 4 }),
      fc.array(fc.double(), { maxLength: 4 }),
    );
    const { provider, exporter } = recorder();
    const tracer = provider.getTracer('property');
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), attributeValue, { maxKeys: 12 }),
        (name, attributes) => {
          exporter.reset();
          tracer.startSpan(name, { attributes }).end();
          const spans = exporter.getFinishedSpans();
          const ours = encodeTraceRequest(spans).bytes;
          return Buffer.from(ours).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays byte-identical to the SDK for span names and keys past the cache bounds (length and count), non-ASCII ones too', () => {
    // Span names and attribute keys are cached by the builder: at most 4,096 distinct strings of at
    // most 128 characters. Each name here is seen twice, so both the first encoding and the reuse
    // (or the re-encoding past a bound) are compared.
    const { provider, exporter } = recorder();
    const tracer = provider.getTracer('names');
    const builder = new TraceRequestBuilder();
    const names = [
      'chat gpt-4o-mini',
      'modèle — 日本語 🚀',
      'x'.repeat(128),
      'y'.repeat(129),
      `ü${'z'.repeat(300)}`,
      ...Array.from({ length: 4200 }, (_, index) => `span.${index}.é`),
    ];
    for (let round = 0; round < 2; round++)
      for (const name of names) tracer.startSpan(name, { attributes: { [`k.${name}`]: round } }).end();
    const spans = exporter.getFinishedSpans();
    for (const [start, end] of [
      [0, names.length],
      [names.length, spans.length],
    ] as const) {
      for (const span of spans.slice(start, end)) builder.add(span);
      expect(
        Buffer.from(builder.seal()!.bytes).equals(
          Buffer.from(ProtobufTraceSerializer.serializeRequest(spans.slice(start, end))!),
        ),
      ).toBe(true);
    }
  });

  it('writes every span and request length at its minimal size across the one-, two-, three- and four-byte boundaries', () => {
    const { provider, exporter } = recorder();
    const tracer = provider.getTracer('sizes');
    // A span is written with two bytes reserved for its length: bodies under 128 bytes and from
    // 16,384 bytes on move into place. A span without the attribute is about 90 bytes, so these
    // pads sweep its body across both boundaries a few bytes at a time.
    const pads = [0, 40_000];
    for (let pad = 1; pad <= 120; pad += 7) pads.push(pad);
    for (let pad = 16_200; pad <= 16_400; pad += 7) pads.push(pad);
    for (const pad of pads) {
      exporter.reset();
      tracer.startSpan('s', pad === 0 ? {} : { attributes: { p: 'x'.repeat(pad) } }).end();
      const spans = exporter.getFinishedSpans();
      const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
      expect(Buffer.from(encodeTraceRequest(spans).bytes).equals(expected), `pad ${pad}`).toBe(true);
    }
    // A request over 2 MiB: its resource and scope lengths take four bytes. With the spans of a
    // second resource, in two scopes, after them.
    exporter.reset();
    for (let index = 0; index < 300; index++)
      tracer.startSpan('big', { attributes: { p: `${index}`.repeat(8000) } }).end();
    const second = recorder({ 'service.name': 'second' });
    second.provider.getTracer('one').startSpan('a').end();
    second.provider.getTracer('two').startSpan('b').end();
    second.provider.getTracer('one').startSpan('c').end();
    const spans = [...exporter.getFinishedSpans(), ...second.exporter.getFinishedSpans()];
    const sealed = encodeTraceRequest(spans);
    expect(sealed.bytes.length).toBeGreaterThan(2 ** 21);
    expect(Buffer.from(sealed.bytes).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!))).toBe(true);
  });

  it('reuses the buffer of a released request for a later one, and never one still in use', () => {
    const spans = richSpans();
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const builder = new TraceRequestBuilder();
    const sealOnce = () => {
      for (const span of spans) builder.add(span);
      return builder.seal()!;
    };
    const first = sealOnce();
    const second = sealOnce();
    // Not released: each request has its own memory, and the later seal left the first intact.
    expect(second.bytes.buffer).not.toBe(first.bytes.buffer);
    expect(Buffer.from(first.bytes).equals(expected)).toBe(true);
    first.release!();
    first.release!(); // idempotent: the buffer is handed back once
    const third = sealOnce();
    expect(third.bytes.buffer).toBe(first.bytes.buffer);
    expect(Buffer.from(third.bytes).equals(expected)).toBe(true);
    // The buffer went back once, so the next request gets a fresh one, not the third's again.
    const fourth = sealOnce();
    expect(fourth.bytes.buffer).not.toBe(third.bytes.buffer);
    expect(fourth.bytes.buffer).not.toBe(second.bytes.buffer);
    expect(Buffer.from(third.bytes).equals(expected)).toBe(true);
    expect(Buffer.from(fourth.bytes).equals(expected)).toBe(true);
  });
});
