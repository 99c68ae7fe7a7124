import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, TraceFlags, context, trace, type SpanContext } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry, TelemetryConfigurationError, type ExemplarFilter } from '../src/index.js';
import { LLM_LATENCY_BUCKETS, type Exemplar } from '../src/metrics/index.js';
import { useSynchronousContext } from '../../../test-support/synchronous-context.js';

// Exemplar capture reads the active span from the context.
let disableContext: () => void;
beforeAll(() => {
  disableContext = useSynchronousContext();
});
afterAll(() => disableContext());

const SAMPLED: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
};
const UNSAMPLED: SpanContext = { ...SAMPLED, spanId: '1111111111111111', traceFlags: TraceFlags.NONE };

const inSpan = (spanContext: SpanContext, record: () => void): void =>
  context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), record);

/** The exemplar of each bucket of `provider_response_time_seconds{provider="openai"}`, by its `le`. */
function exemplarsByBucket(telemetry: GatewayTelemetry): Record<string, Omit<Exemplar, 'timestampSeconds'>> {
  const metric = telemetry.exportableMetrics().find((candidate) => candidate.name === 'provider_response_time_seconds');
  const slots = metric?.cells[0]?.exemplars?.slots ?? [];
  const found: Record<string, Omit<Exemplar, 'timestampSeconds'>> = {};
  slots.forEach((slot, index) => {
    if (slot === undefined) return;
    found[String(LLM_LATENCY_BUCKETS[index] ?? '+Inf')] = {
      value: slot.value,
      traceId: slot.traceId,
      spanId: slot.spanId,
    };
  });
  return found;
}

/** One observation outside any span (0.04 s), one inside an unsampled span (0.3 s), one inside a sampled one (2 s). */
function observeThree(telemetry: GatewayTelemetry): void {
  telemetry.recordProviderResponseTime('openai', 0.04);
  inSpan(UNSAMPLED, () => telemetry.recordProviderResponseTime('openai', 0.3));
  inSpan(SAMPLED, () => telemetry.recordProviderResponseTime('openai', 2));
}

const withTrace = { traceId: SAMPLED.traceId, spanId: SAMPLED.spanId };
const noTrace = { traceId: undefined, spanId: undefined };

describe.each([
  ['producer', () => ({ exportVia: 'producer' as const })],
  ['instruments', () => ({ exportVia: 'instruments' as const, meterProvider: new MeterProvider() })],
])('the exemplar filter (exportVia %s)', (_path, base) => {
  it('trace_based (the default, and true) keeps only the observation made inside the sampled span', () => {
    for (const exemplars of [undefined, true, 'trace_based'] as const) {
      const telemetry = new GatewayTelemetry({ ...base(), ...(exemplars !== undefined ? { exemplars } : {}) });
      observeThree(telemetry);
      expect(exemplarsByBucket(telemetry)).toEqual({ '2': { value: 2, ...withTrace } });
    }
  });

  it('always_on keeps every observation, with the ids only for the one inside the sampled span', () => {
    const telemetry = new GatewayTelemetry({ ...base(), exemplars: 'always_on' });
    observeThree(telemetry);
    expect(exemplarsByBucket(telemetry)).toEqual({
      '0.05': { value: 0.04, ...noTrace },
      // An unsampled span's ids lead to no trace a backend holds: they are not written.
      '0.5': { value: 0.3, ...noTrace },
      '2': { value: 2, ...withTrace },
    });
  });

  it('always_on: the newest observation of a bucket wins, and drops the ids of an older one', () => {
    const telemetry = new GatewayTelemetry({ ...base(), exemplars: 'always_on' });
    inSpan(SAMPLED, () => telemetry.recordProviderResponseTime('openai', 2.05));
    expect(exemplarsByBucket(telemetry)['3']).toEqual({ value: 2.05, ...withTrace });
    telemetry.recordProviderResponseTime('openai', 2.1);
    expect(exemplarsByBucket(telemetry)['3']).toEqual({ value: 2.1, ...noTrace });
    inSpan(SAMPLED, () => telemetry.recordProviderResponseTime('openai', 2.2));
    expect(exemplarsByBucket(telemetry)['3']).toEqual({ value: 2.2, ...withTrace });
  });

  it('always_off (and false) keeps none', () => {
    for (const exemplars of [false, 'always_off'] as const) {
      const telemetry = new GatewayTelemetry({ ...base(), exemplars });
      observeThree(telemetry);
      expect(exemplarsByBucket(telemetry)).toEqual({});
    }
  });
});

describe('the exemplars option', () => {
  it('a continued instance keeps the filter unless given another', () => {
    const earlier = new GatewayTelemetry({ exportVia: 'producer', exemplars: 'always_on' });
    const later = new GatewayTelemetry({ exportVia: 'producer', continueFrom: earlier });
    later.recordProviderResponseTime('openai', 0.04);
    expect(exemplarsByBucket(later)).toEqual({ '0.05': { value: 0.04, ...noTrace } });
    const off = new GatewayTelemetry({ exportVia: 'producer', continueFrom: later, exemplars: 'always_off' });
    off.recordProviderResponseTime('openai', 0.3);
    expect(Object.keys(exemplarsByBucket(off))).toEqual(['0.05']);
  });

  it.each([['sometimes'], ['ALWAYS_ON'], [1], [null]])('rejects %j with the values it takes', (value) => {
    const attempt = (): GatewayTelemetry => new GatewayTelemetry({ exemplars: value as unknown as ExemplarFilter });
    expect(attempt).toThrow(TelemetryConfigurationError);
    expect(attempt).toThrow(/exemplars.*expected true, false, "trace_based", "always_on" or "always_off"/);
  });
});
