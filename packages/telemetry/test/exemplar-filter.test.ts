import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, TraceFlags, context, trace, type SpanContext } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry, TelemetryConfigurationError, type ExemplarFilter } from '../src/index.js';
import { LLM_LATENCY_BUCKETS, type Exemplar } from '../src/metrics/index.js';
import { GEN_AI_DURATION_BUCKETS } from '../src/genai/semconv.js';
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

/** A streamed chat call, its chunk times left to each test. */
const CHUNKED = {
  operationName: 'chat',
  providerName: 'openai',
  requestModel: 'gpt-4o',
  durationSeconds: 1.5,
  timeToFirstChunkSeconds: 0.2,
} as const;

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

  it("a stream's chunk times: the newest of each bucket, with the span's ids and one time; a bad one dropped", () => {
    const chunkExemplars = (exemplars: ExemplarFilter, spanContext: SpanContext | undefined) => {
      const telemetry = new GatewayTelemetry({ ...base(), exemplars });
      const record = (): void =>
        telemetry.recordGenAiOperation({
          ...CHUNKED,
          timesPerOutputChunkSeconds: [0.012, 0.3, -1, 0.011, 0.9, Number.NaN, 0.25],
        });
      if (spanContext === undefined) record();
      else inSpan(spanContext, record);
      const metrics = telemetry.exportableMetrics();
      const metric = metrics.find((candidate) => candidate.name === 'gen_ai.client.operation.time_per_output_chunk');
      const cell = metric?.cells[0];
      const slots = (cell?.exemplars?.slots ?? []).flatMap((slot, index) =>
        slot === undefined ? [] : [{ le: GEN_AI_DURATION_BUCKETS[index], ...slot }],
      );
      const dropped = metrics.find((candidate) => candidate.name === 'gatewayz_telemetry_dropped');
      const droppedTotal = dropped?.cells.reduce((sum, droppedCell) => sum + droppedCell.value, 0);
      return { slots, dropped: droppedTotal };
    };
    const sampled = chunkExemplars('trace_based', SAMPLED);
    expect(sampled.slots.map(({ le, value, traceId, spanId }) => ({ le, value, traceId, spanId }))).toEqual([
      { le: 0.02, value: 0.011, ...withTrace },
      { le: 0.32, value: 0.25, ...withTrace },
      { le: 1.28, value: 0.9, ...withTrace },
    ]);
    expect(new Set(sampled.slots.map((slot) => slot.timestampSeconds)).size).toBe(1);
    expect(Math.abs((sampled.slots[0]?.timestampSeconds as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(sampled.dropped).toBe(2);
    expect(chunkExemplars('trace_based', UNSAMPLED).slots).toEqual([]);
    expect(chunkExemplars('trace_based', undefined).slots).toEqual([]);
    expect(chunkExemplars('always_on', undefined).slots.map(({ value, traceId }) => [value, traceId])).toEqual([
      [0.011, undefined],
      [0.25, undefined],
      [0.9, undefined],
    ]);
    const off = chunkExemplars('always_off', SAMPLED);
    expect(off.slots).toEqual([]);
    expect(off.dropped).toBe(2);
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
  it("a continued instance records an earlier handle's chunk times under its own filter", () => {
    const earlier = new GatewayTelemetry({ exportVia: 'producer', exemplars: 'always_off' });
    const later = new GatewayTelemetry({ exportVia: 'producer', continueFrom: earlier, exemplars: 'always_on' });
    earlier.recordGenAiOperation({ ...CHUNKED, timesPerOutputChunkSeconds: [0.011, 0.3] });
    const metric = later.exportableMetrics().find((candidate) => candidate.name.endsWith('time_per_output_chunk'));
    expect(metric?.cells[0]?.histogram?.count).toBe(2);
    expect(metric?.cells[0]?.exemplars?.slots.flatMap((slot) => (slot === undefined ? [] : [slot.value]))).toEqual([
      0.011, 0.3,
    ]);
  });

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
