import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { rawHeadersGetter } from '../src/middleware/instrument-request.js';
import { SpanRecorder, chatBody, startTestGateway, type TestGateway } from './harness.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

describe('rawHeadersGetter (propagation headers read from IncomingMessage.rawHeaders)', () => {
  const raw = ['Host', 'gateway', 'TraceParent', TRACEPARENT, 'tracestate', 'a=1', 'TRACESTATE', 'b=2'];

  it('matches names case-insensitively, joins repeated fields with ", " and reads absent ones as undefined', () => {
    expect(rawHeadersGetter.get(raw, 'traceparent')).toBe(TRACEPARENT);
    expect(rawHeadersGetter.get(raw, 'TRACEPARENT')).toBe(TRACEPARENT);
    expect(rawHeadersGetter.get(raw, 'tracestate')).toBe('a=1, b=2');
    expect(rawHeadersGetter.get(raw, 'baggage')).toBeUndefined();
    expect(rawHeadersGetter.get([], 'traceparent')).toBeUndefined();
    expect(rawHeadersGetter.keys(raw)).toEqual(['host', 'traceparent', 'tracestate']);
  });

  it('gives the W3C propagator the same context as the headers object Node builds from the same fields', () => {
    const propagator = new W3CTraceContextPropagator();
    const fromRaw = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, raw, rawHeadersGetter));
    const headers = { host: 'gateway', traceparent: TRACEPARENT, tracestate: 'a=1, b=2' };
    const fromObject = trace.getSpanContext(
      propagator.extract(ROOT_CONTEXT, headers, {
        keys: (carrier) => Object.keys(carrier),
        get: (carrier, key) => carrier[key as keyof typeof carrier],
      }),
    );
    expect(fromRaw).toEqual(fromObject);
    expect(fromRaw).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_SPAN_ID, isRemote: true });
    expect(fromRaw?.traceState?.serialize()).toBe('a=1,b=2');
  });
});

describe("the gateway's server span continues the caller's traceparent", () => {
  const recorder = new SpanRecorder();
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ spanProcessors: [recorder] });
  });
  afterAll(() => gw.close());

  const serverSpans = () => recorder.spans.filter((span) => span.kind === SpanKind.SERVER);

  it('over HTTP (Node raw headers, any case) and through app.request (Fetch headers)', async () => {
    const overHttp = await gw.post('/v1/chat/completions', chatBody('gpt-4o-mini'), {
      TraceParent: TRACEPARENT,
      tracestate: 'vendor=1',
    });
    expect(overHttp.status).toBe(200);
    await overHttp.json();
    const throughFetch = await gw.gateway.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: TRACEPARENT, tracestate: 'vendor=2' },
      body: JSON.stringify(chatBody('gpt-4o-mini')),
    });
    expect(throughFetch.status).toBe(200);
    await throughFetch.json();
    const untraced = await gw.post('/v1/chat/completions', chatBody('gpt-4o-mini'));
    expect(untraced.status).toBe(200);
    await untraced.json();

    const [first, second, third] = serverSpans();
    for (const [span, vendor] of [
      [first, 'vendor=1'],
      [second, 'vendor=2'],
    ] as const) {
      expect(span?.spanContext().traceId).toBe(TRACE_ID);
      expect(span?.parentSpanContext).toMatchObject({ spanId: PARENT_SPAN_ID, isRemote: true });
      expect(span?.spanContext().traceState?.serialize()).toBe(vendor);
    }
    expect(third?.spanContext().traceId).not.toBe(TRACE_ID);
    expect(third?.parentSpanContext).toBeUndefined();
  });
});
