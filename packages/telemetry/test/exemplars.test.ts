import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, TraceFlags, context, trace, type SpanContext } from '@opentelemetry/api';
import { useSynchronousContext } from '../../../test-support/synchronous-context.js';
import { sampledSpanContext } from '../src/metrics/exemplars.js';

// sampledSpanContext() reads the active span.
let disableContext: () => void;
beforeAll(() => {
  disableContext = useSynchronousContext();
});
afterAll(() => disableContext());

const inSpan = (spanContext: SpanContext): SpanContext | undefined =>
  context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), sampledSpanContext);

describe('sampledSpanContext', () => {
  const valid = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  };

  it('returns the active span context when it is sampled and valid, else undefined', () => {
    expect(sampledSpanContext()).toBeUndefined();
    expect(inSpan(valid)).toBe(valid);
    expect(inSpan({ ...valid, traceFlags: TraceFlags.NONE })).toBeUndefined();
  });

  it('checks every new span context, even right after a valid one (the check is remembered per object)', () => {
    const first = { ...valid };
    expect(inSpan(first)).toBe(first);
    expect(inSpan(first)).toBe(first);
    expect(inSpan({ ...valid, traceId: '00000000000000000000000000000000' })).toBeUndefined();
    expect(inSpan({ ...valid, spanId: 'not-hex-not-hex!' })).toBeUndefined();
    expect(inSpan({ ...valid, traceId: valid.traceId.slice(1) })).toBeUndefined();
    const second = { ...valid, spanId: '1111111111111111' };
    expect(inSpan(second)).toBe(second);
    // Back to the first one after another was checked: still valid, still itself.
    expect(inSpan(first)).toBe(first);
  });
});
