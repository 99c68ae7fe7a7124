import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry } from '../src/index.js';
import { OVERFLOW_LABEL_VALUE } from '../src/metrics/index.js';
import { CollectingDiagLogger, createTelemetry, type MetricsHarness } from './helpers.js';

const OVERFLOW = 'gatewayz_telemetry_label_overflow';

let logger: CollectingDiagLogger;
const harnesses: MetricsHarness[] = [];

function setup(options: Parameters<typeof createTelemetry>[0] = {}) {
  const created = createTelemetry(options);
  harnesses.push(created.harness);
  return created;
}

beforeEach(() => {
  logger = new CollectingDiagLogger().install();
});

afterEach(async () => {
  CollectingDiagLogger.uninstall();
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

describe('series limit', () => {
  it('has sensible defaults', () => {
    const telemetry = new GatewayTelemetry();
    expect(telemetry.maxSeriesPerMetric).toBe(2000);
    expect(telemetry.maxLabelLength).toBe(128);
    expect(OVERFLOW_LABEL_VALUE).toBe('other');
  });

  it('folds label values beyond maxSeriesPerMetric into "other" and keeps the total exact', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 10 });
    for (let index = 0; index < 1000; index++) {
      telemetry.recordModelInference('openai', `model-${index}`, 'success');
    }

    expect(telemetry.seriesCount('modelInferenceRequests')).toBeLessThanOrEqual(11);
    const collected = await collect();
    const points = collected.points('model_inference_requests');
    expect(points.length).toBeLessThanOrEqual(11);
    expect(collected.total('model_inference_requests')).toBe(1000);

    // The first ten label sets keep their own series.
    for (let index = 0; index < 10; index++) {
      expect(
        collected.value('model_inference_requests', { provider: 'openai', model: `model-${index}`, status: 'success' }),
        `model-${index}`,
      ).toBe(1);
    }
    // Open labels fold into "other"; the closed `status` label keeps its value.
    expect(collected.value('model_inference_requests', { provider: 'other', model: 'other', status: 'success' })).toBe(
      990,
    );
    expect(collected.value(OVERFLOW, { metric: 'model_inference_requests' })).toBe(990);
  });

  it('keeps counting label values seen before the limit in their own series', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 3 });
    for (const cache of ['a', 'b', 'c', 'd', 'e']) telemetry.recordCacheHit(cache);
    telemetry.recordCacheHit('a');
    telemetry.recordCacheHit('c');

    const collected = await collect();
    expect(collected.value('cache_hits', { cache: 'a' })).toBe(2);
    expect(collected.value('cache_hits', { cache: 'c' })).toBe(2);
    expect(collected.value('cache_hits', { cache: OVERFLOW_LABEL_VALUE })).toBe(2);
    expect(collected.points('cache_hits')).toHaveLength(4);
    expect(collected.value(OVERFLOW, { metric: 'cache_hits' })).toBe(2);
  });

  it('keeps enumerated label values apart in the overflow series', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 2 });
    telemetry.recordModelInference('openai', 'a', 'success');
    telemetry.recordModelInference('openai', 'b', 'success');
    telemetry.recordModelInference('openai', 'c', 'success');
    telemetry.recordModelInference('openai', 'd', 'error');
    telemetry.recordModelInference('openai', 'e', 'error');

    const collected = await collect();
    expect(collected.value('model_inference_requests', { provider: 'other', model: 'other', status: 'success' })).toBe(
      1,
    );
    expect(collected.value('model_inference_requests', { provider: 'other', model: 'other', status: 'error' })).toBe(2);
    expect(collected.total('model_inference_requests')).toBe(5);
  });

  it('bounds histogram series too and keeps every observation', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 5 });
    for (let index = 0; index < 20; index++) telemetry.recordProviderResponseTime(`provider-${index}`, 1);

    const collected = await collect();
    const points = collected.points('provider_response_time_seconds');
    expect(points.length).toBeLessThanOrEqual(6);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'other' })?.count).toBe(15);
    const totalCount = points.reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
    expect(totalCount).toBe(20);
    expect(collected.value(OVERFLOW, { metric: 'provider_response_time_seconds' })).toBe(15);
  });

  it('counts overflow per metric and warns once per metric', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 2 });
    for (let index = 0; index < 5; index++) telemetry.recordCacheHit(`hit-${index}`);
    for (let index = 0; index < 3; index++) telemetry.recordCacheMiss(`miss-${index}`);

    const collected = await collect();
    expect(collected.value(OVERFLOW, { metric: 'cache_hits' })).toBe(3);
    expect(collected.value(OVERFLOW, { metric: 'cache_misses' })).toBe(1);
    expect(collected.value('cache_hits', { cache: 'other' })).toBe(3);
    expect(collected.value('cache_misses', { cache: 'other' })).toBe(1);
    expect(logger.ownWarnings).toHaveLength(2);
    expect(logger.ownWarnings[0]).toContain('cache_hits');
    expect(logger.ownWarnings[0]).toContain('"other"');
    expect(logger.ownWarnings[1]).toContain('cache_misses');
  });

  it('does not apply maxSeriesPerMetric to its own accounting metrics', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 1 });
    for (let index = 0; index < 3; index++) telemetry.recordCacheHit(`hit-${index}`);
    for (let index = 0; index < 3; index++) telemetry.recordCacheMiss(`miss-${index}`);
    telemetry.recordCacheHit('');
    telemetry.recordProviderResponseTime('openai', Number.NaN);

    const collected = await collect();
    expect(collected.value(OVERFLOW, { metric: 'cache_hits' })).toBe(2);
    expect(collected.value(OVERFLOW, { metric: 'cache_misses' })).toBe(2);
    const dropped = 'gatewayz_telemetry_dropped';
    expect(collected.value(dropped, { reason: 'empty_label', metric: 'cache_hits' })).toBe(1);
    expect(collected.value(dropped, { reason: 'not_a_number', metric: 'provider_response_time_seconds' })).toBe(1);
  });

  it('keeps the token-efficiency ratio of folded models in the "other" series', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 1 });
    telemetry.recordTokenUsage('openai', 'gpt-4o', 100, 100);
    telemetry.recordTokenUsage('openai', 'x', 100, 300);
    telemetry.recordTokenUsage('openai', 'y', 100, 100);

    const collected = await collect();
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o' })).toBe(1);
    expect(collected.value('gatewayz_token_efficiency', { model: 'other' })).toBe(2);
  });
});

describe('label normalisation', () => {
  it('strips control characters and trims whitespace, sharing one series', async () => {
    const { telemetry, collect } = setup();
    telemetry.incrementCostByProvider('openai', 1);
    telemetry.incrementCostByProvider('  openai  ', 1);
    telemetry.incrementCostByProvider('open\u0000ai\n', 1);
    telemetry.incrementCostByProvider('\u001b\topenai\u007f', 1);

    const collected = await collect();
    expect(collected.points('gatewayz_cost_by_provider')).toHaveLength(1);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(4);
    expect(telemetry.seriesCount('costByProvider')).toBe(1);
  });

  it('replaces a lone surrogate with U+FFFD, so values that differ only there share one series', async () => {
    // The exposition is UTF-8, where every lone surrogate is U+FFFD: kept apart here, these were
    // three series written with one label set, and Prometheus kept the first of them only.
    const { telemetry, collect } = setup();
    telemetry.incrementCostByProvider('acme\uD800', 1);
    telemetry.incrementCostByProvider('acme\uDC00', 2);
    telemetry.incrementCostByProvider('acme\uFFFD', 4);
    telemetry.incrementCostByProvider('\uDBFFacme\uFFFD', 8);
    telemetry.incrementCostByProvider('acme\uD83D\uDE00', 16);

    const collected = await collect();
    expect(collected.points('gatewayz_cost_by_provider')).toHaveLength(3);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'acme\uFFFD' })).toBe(7);
    expect(collected.value('gatewayz_cost_by_provider', { provider: '\uFFFDacme\uFFFD' })).toBe(8);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'acme\uD83D\uDE00' })).toBe(16);
  });

  it('keeps inner spaces and other printable characters', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordCacheHit('  response cache/v2  ');
    const collected = await collect();
    expect(collected.value('cache_hits', { cache: 'response cache/v2' })).toBe(1);
  });

  it('does not spend series on different spellings of one value', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 2 });
    telemetry.recordCacheHit('a');
    for (let index = 0; index < 100; index++) telemetry.recordCacheHit(`${' '.repeat(index)}b\n`);
    telemetry.recordCacheHit('b');

    const collected = await collect();
    expect(collected.value('cache_hits', { cache: 'b' })).toBe(101);
    expect(collected.value('cache_hits', { cache: 'a' })).toBe(1);
    expect(collected.metric(OVERFLOW)).toBeUndefined();
  });

  it('normalises labels on histograms as well', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordProviderResponseTime(' openai', 0.1);
    telemetry.recordProviderResponseTime('openai\r\n', 0.2);
    const collected = await collect();
    expect(collected.points('provider_response_time_seconds')).toHaveLength(1);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'openai' })?.count).toBe(2);
  });

  it('does not normalise closed label sets: values must match exactly', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordTokensUsed('openai', 'gpt-4o', ' input' as 'input', 1);
    const collected = await collect();
    expect(collected.metric('tokens_used')).toBeUndefined();
    expect(
      collected.value('gatewayz_telemetry_dropped', { reason: 'unknown_label_value', metric: 'tokens_used' }),
    ).toBe(1);
  });
});
