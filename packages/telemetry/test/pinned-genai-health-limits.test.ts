/*
 * Anomaly detection, rate-limit headers and breaker bindings at their edges that no other test
 * pinned: the exact boundaries of the detector's windows, thresholds, cooldown and eviction, which
 * provider's headers win when a response carries both styles, which of several live breakers the
 * state gauge follows, the model-health store's cut-offs and tie-breaks, folding calls of one
 * millisecond, GenAI span content and numbers at their edges, a fractional top_k and the
 * hint of a wrong telemetry option.
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry, TelemetryConfigurationError, bindCircuitBreakerMetrics } from '../src/index.js';
import {
  GEN_AI_CONTENT_TRUNCATION_MARKER,
  endGenAiSpan,
  requestParametersFromAnthropic,
  semconv,
  startGenAiSpan,
} from '../src/genai/index.js';
import { MemoryModelHealthStore, foldModelCall, type ModelCallBatch } from '../src/model-health/index.js';
import { AnomalyDetector, type AnomalyDetectorOptions } from '../src/provider-health/index.js';
import { parseRateLimitHeaders } from '../src/rate-limits/index.js';
import { FakeBreaker, modelCall, telemetryPerTest } from './helpers.js';

const SECOND = 1_000;
const MINUTE = 60_000;
/** A multiple of every bucket size used here, so bucket edges fall on round times. */
const T0 = 1_700_000_000_000;

/** A clock the test moves by hand. */
class TestClock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
}

/** Buckets of 10 s, a window of 6 buckets and a baseline of 30: a ring of 36 buckets. */
const OPTIONS: AnomalyDetectorOptions = {
  windowMs: MINUTE,
  baselineWindowMs: 5 * MINUTE,
  bucketMs: 10 * SECOND,
  cooldownMs: 2 * MINUTE,
  latency: false,
  errors: { threshold: 0.25, minIncrease: 0.1, minSamples: 10, minBaselineSamples: 10 },
};

const newTelemetry = telemetryPerTest();

function detectorAt(overrides: AnomalyDetectorOptions = {}) {
  const { telemetry } = newTelemetry();
  const clock = new TestClock();
  const detector = new AnomalyDetector({ ...OPTIONS, clock, telemetry, ...overrides });
  /** `count` calls of openai at the clock's time; call `index` fails when `fails(index)`. */
  const calls = (count: number, fails: (index: number) => boolean = () => false, latencySeconds?: number) => {
    for (let index = 0; index < count; index++) {
      detector.observe({
        provider: 'openai',
        success: !fails(index),
        ...(latencySeconds !== undefined ? { latencySeconds } : {}),
      });
    }
  };
  return { detector, clock, calls };
}

describe('the anomaly detector at its edges', () => {
  it('counts in the window the last windowMs only: a call exactly one window old is baseline', () => {
    const { detector, clock, calls } = detectorAt();
    calls(1);
    clock.time += MINUTE;
    calls(1);
    expect(detector.providerStats('openai')).toMatchObject({
      window: { calls: 1, errors: 0 },
      baseline: { calls: 1, errors: 0 },
    });
  });

  it('ignores a call exactly one ring (window + baseline) older than the newest, leaving the newest bucket intact', () => {
    const { detector, clock, calls } = detectorAt();
    calls(1);
    clock.time -= 6 * MINUTE; // 36 buckets of 10 s: the slot of the newest bucket
    calls(1, () => true);
    clock.time += 6 * MINUTE;
    expect(detector.providerStats('openai')?.window).toMatchObject({ calls: 1, errors: 0 });
    expect(detector.toJSON()).toMatchObject({ staleObservations: 1 });
  });

  it('calls a latency spike when the mean reaches exactly multiplier × baseline', () => {
    const { detector, clock, calls } = detectorAt({
      latency: { multiplier: 3, minIncreaseSeconds: 1, minSamples: 5, minBaselineSamples: 10 },
      errors: false,
    });
    calls(10, undefined, 1);
    clock.time += 2 * MINUTE;
    calls(5, undefined, 3);
    expect(detector.toJSON().detected).toEqual({ latency_spike: 1, error_surge: 0 });
    expect(detector.providerStats('openai')?.active.latency_spike).toBe(true);
  });

  it('reports a new episode that starts exactly cooldownMs after the last report', () => {
    const { detector, clock, calls } = detectorAt();
    calls(10, () => true); // reported at T0
    clock.time += 10 * SECOND;
    calls(40); // 10 of 50 failed: 0.2, the surge is over
    expect(detector.providerStats('openai')?.active.error_surge).toBe(false);
    clock.time = T0 + 2 * MINUTE;
    calls(10, () => true);
    expect(detector.toJSON().detected.error_surge).toBe(2);
  });

  it('takes a baseline of exactly minBaselineSamples calls into account', () => {
    const { detector, clock, calls } = detectorAt();
    calls(10, (index) => index < 2); // baseline 0.2
    clock.time += 2 * MINUTE;
    calls(20, (index) => index >= 15); // 0.25: at the threshold, but only 0.05 above the baseline
    expect(detector.providerStats('openai')).toMatchObject({
      window: { calls: 20, errorRate: 0.25 },
      baseline: { calls: 10, errorRate: 0.2 },
      active: { error_surge: false },
    });
    expect(detector.toJSON().detected.error_surge).toBe(0);
  });

  it('beyond maxProviders forgets the first of the providers seen equally long ago', () => {
    const { detector } = detectorAt({ maxProviders: 2 });
    for (const provider of ['a', 'b', 'c']) detector.observe({ provider, success: true });
    expect(detector.providerStats('a')).toBeUndefined();
    expect(detector.providerStats('b')?.window.calls).toBe(1);
    expect(detector.providerStats('c')?.window.calls).toBe(1);
  });
});

describe('rate-limit headers of both styles in one response', () => {
  const NOW = Date.parse('2026-06-01T00:00:00Z');

  it('takes the OpenAI-style request budget first and fills the gaps from the Anthropic one', () => {
    expect(
      parseRateLimitHeaders(
        {
          'x-ratelimit-remaining-requests': '5',
          'x-ratelimit-reset-requests': '1s',
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '7',
          'anthropic-ratelimit-requests-reset': '2026-06-01T00:00:30Z',
        },
        NOW,
      ),
    ).toEqual({ requests: { limit: 50, remaining: 5, resetSeconds: 1 }, malformed: [] });
  });
});

describe('several live breakers bound to one provider', () => {
  function state(telemetry: GatewayTelemetry): string {
    const metric = telemetry.exportableMetrics().find((entry) => entry.name === 'gatewayz_circuit_breaker_state');
    return (metric?.cells ?? [])
      .filter((cell) => cell.value === 1)
      .map((cell) => String(cell.attributes.state))
      .join();
  }

  it('when the newest is unbound, the gauge follows the most recently bound of the others', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const oldest = new FakeBreaker();
    bindCircuitBreakerMetrics(oldest, 'openai', telemetry);
    const middle = new FakeBreaker();
    bindCircuitBreakerMetrics(middle, 'openai', telemetry);
    middle.trip();
    const newest = new FakeBreaker();
    const unbindNewest = bindCircuitBreakerMetrics(newest, 'openai', telemetry);
    newest.probe();
    expect(state(telemetry)).toBe('half_open');
    unbindNewest();
    expect(state(telemetry)).toBe('open');
  });
});

describe('model-health records at their edges', () => {
  const DAY = 86_400_000;
  const NOW = Date.parse('2026-06-01T00:00:00Z');

  it('deleteOlderThan keeps a record whose last call is exactly `days` old', async () => {
    const store = new MemoryModelHealthStore({ now: () => new Date(NOW) });
    store.recordCall(modelCall({ model: 'at-cutoff', calledAt: new Date(NOW - DAY) }));
    store.recordCall(modelCall({ model: 'older', calledAt: new Date(NOW - DAY - 1) }));
    expect(await store.deleteOlderThan(1)).toBe(1);
    expect((await store.listAllModelHealth()).map((record) => record.model)).toEqual(['at-cutoff']);
  });

  it('getUnhealthyModels puts the model with more calls first among equal error rates', async () => {
    const store = new MemoryModelHealthStore({ now: () => new Date(NOW) });
    // a-model: 1 of 2 failed; b-model: 2 of 4 failed. Same rate, b-model has more calls.
    for (const [model, calls] of [
      ['a-model', 2],
      ['b-model', 4],
    ] as const) {
      for (let index = 0; index < calls; index++) {
        store.recordCall(modelCall({ model, status: index % 2 === 0 ? 'error' : 'success' }));
      }
    }
    expect((await store.getUnhealthyModels(0.5)).map((record) => [record.model, record.callCount])).toEqual([
      ['b-model', 4],
      ['a-model', 2],
    ]);
  });

  it('remembers the last 10 000 batch ids: the 10 001st batch back is applied again', async () => {
    const store = new MemoryModelHealthStore({ now: () => new Date(NOW) });
    const batch = (id: number): ModelCallBatch => ({
      id: `batch-${id}`,
      entries: [
        {
          provider: 'openai',
          model: 'gpt-4o',
          calls: 1,
          successes: 1,
          errors: 0,
          totalResponseTimeMs: 100,
          lastResponseTimeMs: 100,
          lastStatus: 'success',
          lastErrorMessage: null,
          lastErrorAt: null,
          lastCalledAt: new Date(NOW),
        },
      ],
    });
    for (let id = 0; id <= 10_000; id++) await store.applyBatch(batch(id));
    await store.applyBatch(batch(1)); // still remembered: a duplicate
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(10_001);
    await store.applyBatch(batch(0)); // forgotten when the 10 001st id was noted: applied again
    expect((await store.getModelHealth('openai', 'gpt-4o'))?.callCount).toBe(10_002);
  });

  it('foldModelCall: of two calls in the same millisecond, the one folded later sets the last status and time', () => {
    const at = new Date(NOW);
    const first = foldModelCall(undefined, modelCall({ responseTimeMs: 100, calledAt: at }));
    expect(
      foldModelCall(
        first,
        modelCall({ responseTimeMs: 300, status: 'error', errorMessage: 'overloaded', calledAt: at }),
      ),
    ).toEqual({
      provider: 'openai',
      model: 'gpt-4o',
      calls: 2,
      successes: 1,
      errors: 1,
      totalResponseTimeMs: 400,
      lastResponseTimeMs: 300,
      lastStatus: 'error',
      lastErrorMessage: 'overloaded',
      lastErrorAt: at,
      lastCalledAt: at,
    });
  });
});

describe('GenAI span content and numbers at their edges', () => {
  const start = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' };
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  });
  afterEach(async () => {
    await provider.shutdown();
  });
  const finished = (): Record<string, unknown> => {
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    return spans[0]!.attributes;
  };

  it('leaves a text of exactly contentMaxLength characters whole, and cuts one a character longer', () => {
    const span = startGenAiSpan(provider.getTracer('test'), {
      ...start,
      contentMaxLength: 8,
      inputMessages: [
        { role: 'user', parts: [{ type: 'text', content: '12345678' }] },
        { role: 'user', parts: [{ type: 'text', content: '123456789' }] },
      ],
    });
    endGenAiSpan(span, {});
    expect(JSON.parse(finished()[semconv.ATTR_GEN_AI_INPUT_MESSAGES] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: '12345678' }] },
      { role: 'user', parts: [{ type: 'text', content: `12345678${GEN_AI_CONTENT_TRUNCATION_MARKER}` }] },
    ]);
  });

  it('records content that holds the same (acyclic) object twice when cutting it', () => {
    const location = { city: 'Paris', country: 'France' };
    const span = startGenAiSpan(provider.getTracer('test'), {
      ...start,
      contentMaxLength: 100,
      inputMessages: [
        {
          role: 'assistant',
          parts: [{ type: 'tool_call', id: 'call_1', name: 'route', arguments: { from: location, to: location } }],
        },
      ],
    });
    endGenAiSpan(span, {});
    expect(JSON.parse(finished()[semconv.ATTR_GEN_AI_INPUT_MESSAGES] as string)).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'route', arguments: { from: location, to: location } }],
      },
    ]);
  });

  it('records a time to first chunk of 0 s', () => {
    endGenAiSpan(startGenAiSpan(provider.getTracer('test'), start), { timeToFirstChunkSeconds: 0 });
    expect(finished()[semconv.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBe(0);
  });
});

describe('GenAI request parameters', () => {
  it('keeps a fractional Anthropic top_k: gen_ai.request.top_k is a double', () => {
    expect(requestParametersFromAnthropic({ max_tokens: 256, top_k: 2.5 })).toEqual({ maxTokens: 256, topK: 2.5 });
  });
});

describe('a wrong telemetry option', () => {
  it('is not taken for a startTelemetry() handle when its `telemetry` property lacks the methods too', () => {
    let thrown: unknown;
    try {
      new AnomalyDetector({ telemetry: { telemetry: {} } as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
    expect((thrown as TelemetryConfigurationError).message).toBe(
      'Invalid option "telemetry": expected an object with recordAnomaly(), got an object without recordAnomaly()',
    );
  });
});
