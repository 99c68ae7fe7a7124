/**
 * Edges the rest of the suite let through (found by mutation testing): absent optional labels in the
 * overflow series, a producer histogram's minimum, the time and first bucket of exemplars, the
 * highest HTTP status code, and a model inference refused for its duration.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatewayTelemetry } from '../src/index.js';
import { GEN_AI_DURATION_BUCKETS } from '../src/genai/semconv.js';
import { LLM_LATENCY_BUCKETS, OVERFLOW_LABEL_VALUE } from '../src/metrics/index.js';
import { CollectingDiagLogger, telemetryPerTest } from './helpers.js';

const DROPPED = 'gatewayz_telemetry_dropped';

const setup = telemetryPerTest();

afterEach(() => {
  CollectingDiagLogger.uninstall();
  vi.useRealTimers();
});

/** The live series of the catalog metric `name` of a producer-mode instance. */
function cellsOf(telemetry: GatewayTelemetry, name: string) {
  const metric = telemetry.exportableMetrics().find((candidate) => candidate.name === name);
  if (metric === undefined) throw new Error(`no catalog metric "${name}"`);
  return metric.cells;
}

/** The exemplars of the only series of `name`, by the upper bound of their bucket. */
function exemplarsByBucket(telemetry: GatewayTelemetry, name: string, boundaries: readonly number[]) {
  const slots = cellsOf(telemetry, name)[0]?.exemplars?.slots ?? [];
  return slots.flatMap((slot, index) => (slot === undefined ? [] : [{ le: boundaries[index] ?? Infinity, ...slot }]));
}

describe('the overflow series at the series limit', () => {
  it('leaves an absent optional label absent rather than folding it into "other"', () => {
    new CollectingDiagLogger().install();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: 2 });
    const operation = { operationName: 'chat', providerName: 'openai', durationSeconds: 1 } as const;
    telemetry.recordGenAiOperation({ ...operation, requestModel: 'gpt-4o' });
    telemetry.recordGenAiOperation({ ...operation, requestModel: 'gpt-4o-mini' });
    // Beyond the limit: a success (no error.type), and a failure without a response (no response model).
    telemetry.recordGenAiOperation({ ...operation, requestModel: 'o3' });
    telemetry.recordGenAiOperation({ ...operation, requestModel: 'o4-mini', errorType: 'timeout' });

    const folded = cellsOf(telemetry, 'gen_ai.client.operation.duration')
      .map((cell) => cell.attributes)
      .filter((attributes) => attributes['gen_ai.request.model'] === OVERFLOW_LABEL_VALUE);
    expect(folded).toEqual([
      {
        'gen_ai.operation.name': OVERFLOW_LABEL_VALUE,
        'gen_ai.provider.name': OVERFLOW_LABEL_VALUE,
        'gen_ai.request.model': OVERFLOW_LABEL_VALUE,
        'gen_ai.response.model': OVERFLOW_LABEL_VALUE,
      },
      {
        'gen_ai.operation.name': OVERFLOW_LABEL_VALUE,
        'gen_ai.provider.name': OVERFLOW_LABEL_VALUE,
        'gen_ai.request.model': OVERFLOW_LABEL_VALUE,
        'error.type': OVERFLOW_LABEL_VALUE,
      },
    ]);
  });
});

describe('producer-mode histograms', () => {
  it('keep the smallest and largest observation, whatever their order', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    for (const seconds of [0.5, 0.1, 2]) telemetry.recordProviderResponseTime('openai', seconds);
    const histogram = cellsOf(telemetry, 'provider_response_time_seconds')[0]?.histogram;
    expect(histogram).toMatchObject({ count: 3, min: 0.1, max: 2 });
    expect(histogram?.sum).toBeCloseTo(2.6, 12);
  });
});

describe('exemplars', () => {
  it("a bucket's exemplar carries the time of its latest observation", () => {
    const start = Date.parse('2026-03-01T12:00:00Z');
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: start });
    const telemetry = new GatewayTelemetry({ exportVia: 'producer', exemplars: 'always_on' });
    telemetry.recordProviderResponseTime('openai', 0.3);
    vi.advanceTimersByTime(1_500);
    telemetry.recordProviderResponseTime('openai', 0.4);

    const exemplars = exemplarsByBucket(telemetry, 'provider_response_time_seconds', LLM_LATENCY_BUCKETS);
    expect(exemplars).toEqual([
      { le: 0.5, value: 0.4, traceId: undefined, spanId: undefined, timestampSeconds: start / 1000 + 1.5 },
    ]);
  });

  it.each([
    ['producer', () => ({ exportVia: 'producer' as const })],
    ['instruments', () => ({})],
  ])("a stream's chunk time in the first bucket gets its exemplar too (exportVia %s)", (_path, base) => {
    const { telemetry } = setup({ ...base(), exemplars: 'always_on' });
    telemetry.recordGenAiOperation({
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'gpt-4o',
      durationSeconds: 1,
      timesPerOutputChunkSeconds: [0.0005, 0.3],
    });
    const exemplars = exemplarsByBucket(
      telemetry,
      'gen_ai.client.operation.time_per_output_chunk',
      GEN_AI_DURATION_BUCKETS,
    );
    expect(exemplars.map(({ le, value }) => ({ le, value }))).toEqual([
      { le: 0.01, value: 0.0005 },
      { le: 0.32, value: 0.3 },
    ]);
  });
});

describe('HTTP status codes', () => {
  it('label 100 and 599, the ends of the valid range, with their own code', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordHttpRequest('POST', '/v1/chat/completions', 599, 0.1);
    telemetry.recordHttpRequest('GET', '/v1/models', 100, 0.1);

    const collected = await collect();
    expect(
      collected.value('fastapi_requests', { method: 'POST', path: '/v1/chat/completions', status_code: '599' }),
    ).toBe(1);
    expect(collected.value('fastapi_requests', { method: 'GET', path: '/v1/models', status_code: '100' })).toBe(1);
    expect(collected.points('fastapi_requests')).toHaveLength(2);
  });
});

describe('a model inference refused for its duration', () => {
  it.each([
    ['producer', () => ({ exportVia: 'producer' as const })],
    ['instruments', () => ({})],
  ])('leaves no model_inference_requests series behind (exportVia %s)', (_path, base) => {
    new CollectingDiagLogger().install();
    const { telemetry } = setup(base());
    telemetry.recordModelInference('openai', 'gpt-4o', 'success', -1);

    expect(telemetry.seriesCount('modelInferenceRequests')).toBe(0);
    expect(cellsOf(telemetry, 'model_inference_requests')).toEqual([]);
    expect(
      telemetry.currentValue('telemetryDropped', {
        reason: 'out_of_range',
        metric: 'model_inference_duration_seconds',
      }),
    ).toBe(1);
  });

  it('exports neither a request count nor a duration for it (exportVia instruments)', async () => {
    new CollectingDiagLogger().install();
    const { telemetry, collect } = setup();
    telemetry.recordModelInference('openai', 'gpt-4o', 'success', -1);

    const collected = await collect();
    expect(collected.metric('model_inference_requests')).toBeUndefined();
    expect(collected.metric('model_inference_duration_seconds')).toBeUndefined();
    expect(collected.value(DROPPED, { reason: 'out_of_range', metric: 'model_inference_duration_seconds' })).toBe(1);
  });
});
