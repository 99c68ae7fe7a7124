import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryError, TelemetryInputError, type DropReason, type GatewayTelemetry } from '../src/index.js';
import { CollectingDiagLogger, createTelemetry, type MetricsHarness } from './helpers.js';

const DROPPED = 'gatewayz_telemetry_dropped';

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

/** Input that must be refused, the reason it is counted under and the metric it is counted for. */
interface BadInputCase {
  readonly title: string;
  readonly reason: DropReason;
  /** The `metric` label of the drop counter. */
  readonly metric: string;
  /** `TelemetryInputError.metric` when it differs: the unknown key itself, which the counter's label never holds. */
  readonly thrownMetric?: string;
  readonly record: (telemetry: GatewayTelemetry) => void;
}

const asString = (value: unknown) => value as string;
const asNumber = (value: unknown) => value as number;

const BAD_INPUT: readonly BadInputCase[] = [
  {
    title: 'NaN latency',
    reason: 'not_a_number',
    metric: 'provider_response_time_seconds',
    record: (t) => t.recordProviderResponseTime('openai', Number.NaN),
  },
  {
    title: 'a string where a number belongs',
    reason: 'not_a_number',
    metric: 'gatewayz_cost_by_provider',
    record: (t) => t.incrementCostByProvider('openai', asNumber('0.5')),
  },
  {
    title: 'NaN gauge',
    reason: 'not_a_number',
    metric: 'gatewayz_provider_health_score',
    record: (t) => t.setProviderHealthScore('openai', Number.NaN),
  },
  {
    title: '+Infinity latency',
    reason: 'not_finite',
    metric: 'provider_response_time_seconds',
    record: (t) => t.recordProviderResponseTime('openai', Infinity),
  },
  {
    title: '-Infinity cost',
    reason: 'not_finite',
    metric: 'gatewayz_cost_by_provider',
    record: (t) => t.incrementCostByProvider('openai', -Infinity),
  },
  {
    title: 'Infinity in-progress delta',
    reason: 'not_finite',
    metric: 'fastapi_requests_in_progress',
    record: (t) => t.trackHttpRequestInProgress('GET', '/', asNumber(Infinity) as 1),
  },
  {
    title: 'negative duration',
    reason: 'out_of_range',
    metric: 'provider_response_time_seconds',
    record: (t) => t.recordProviderResponseTime('openai', -0.1),
  },
  {
    title: 'negative database duration',
    reason: 'out_of_range',
    metric: 'database_query_duration_seconds',
    record: (t) => t.recordDatabaseQuery('select', -1),
  },
  {
    title: 'negative cost',
    reason: 'out_of_range',
    metric: 'gatewayz_cost_by_provider',
    record: (t) => t.incrementCostByProvider('openai', -0.01),
  },
  {
    title: 'health score above 1',
    reason: 'out_of_range',
    metric: 'gatewayz_provider_health_score',
    record: (t) => t.setProviderHealthScore('openai', 1.01),
  },
  {
    title: 'error rate below 0',
    reason: 'out_of_range',
    metric: 'provider_error_rate',
    record: (t) => t.setProviderErrorRate('openai', -0.5),
  },
  {
    title: 'model uptime above 1',
    reason: 'out_of_range',
    metric: 'gatewayz_model_uptime_24h',
    record: (t) => t.setModelUptime24h('gpt-4o', 2),
  },
  {
    title: 'negative trial count',
    reason: 'out_of_range',
    metric: 'trial_active',
    record: (t) => t.setTrialActiveCount(-1),
  },
  {
    title: 'a fraction of a token',
    reason: 'not_an_integer',
    metric: 'tokens_used',
    record: (t) => t.recordTokensUsed('openai', 'gpt-4o-mini', 'input', 12.5),
  },
  {
    title: 'a fraction of a token in one direction of a call',
    reason: 'not_an_integer',
    metric: 'tokens_used',
    record: (t) => t.recordTokenUsage('openai', 'gpt-4o-mini', 100, 2.5),
  },
  {
    title: 'a fraction of a token by API key',
    reason: 'not_an_integer',
    metric: 'gatewayz_tokens_by_api_key',
    record: (t) => t.recordApiKeyTokens('team-a', 'output', 0.5),
  },
  {
    title: 'a fraction of a token in gen_ai.client.token.usage',
    reason: 'not_an_integer',
    metric: 'gen_ai.client.token.usage',
    record: (t) =>
      t.recordGenAiOperation({
        operationName: 'chat',
        providerName: 'openai',
        requestModel: 'gpt-4o-mini',
        durationSeconds: 1,
        inputTokens: 12.5,
      }),
  },
  {
    title: 'a fractional in-progress move',
    reason: 'not_an_integer',
    metric: 'fastapi_requests_in_progress',
    record: (t) => t.trackHttpRequestInProgress('GET', '/v1/models', asNumber(2.5) as 1),
  },
  {
    title: 'half an anomaly',
    reason: 'not_an_integer',
    metric: 'gatewayz_detected_anomalies',
    record: (t) => t.recordAnomaly('latency_spike', 0.5),
  },
  {
    title: 'a fraction of a request through the generic API',
    reason: 'not_an_integer',
    metric: 'fastapi_requests',
    record: (t) => t.add('httpRequests', 1.5, { method: 'GET', path: '/v1/models', status_code: '200' }),
  },
  {
    title: 'a fractional count gauge',
    reason: 'not_an_integer',
    metric: 'trial_active',
    record: (t) => t.setTrialActiveCount(2.5),
  },
  {
    title: 'empty provider',
    reason: 'empty_label',
    metric: 'provider_response_time_seconds',
    record: (t) => t.recordProviderResponseTime('', 0.1),
  },
  {
    title: 'whitespace provider',
    reason: 'empty_label',
    metric: 'gatewayz_cost_by_provider',
    record: (t) => t.incrementCostByProvider(' \t\n ', 0.1),
  },
  {
    title: 'control characters only',
    reason: 'empty_label',
    metric: 'cache_hits',
    record: (t) => t.recordCacheHit('\u0000\u0007\u001b'),
  },
  {
    title: 'empty model',
    reason: 'empty_label',
    metric: 'credits_used',
    record: (t) => t.recordCreditsUsed('openai', '', 1),
  },
  {
    title: 'over-long provider',
    reason: 'label_too_long',
    metric: 'provider_response_time_seconds',
    record: (t) => t.recordProviderResponseTime('p'.repeat(129), 0.1),
  },
  {
    title: 'number label',
    reason: 'invalid_label_type',
    metric: 'provider_response_time_seconds',
    record: (t) => t.recordProviderResponseTime(asString(42), 0.1),
  },
  {
    title: 'undefined label',
    reason: 'invalid_label_type',
    metric: 'gatewayz_cost_by_provider',
    record: (t) => t.incrementCostByProvider(asString(undefined), 1),
  },
  {
    title: 'null label',
    reason: 'invalid_label_type',
    metric: 'cache_misses',
    record: (t) => t.recordCacheMiss(asString(null)),
  },
  {
    title: 'object label',
    reason: 'invalid_label_type',
    metric: 'gatewayz_provider_health_score',
    record: (t) => t.setProviderHealthScore(asString({ name: 'openai' }), 0.5),
  },
  {
    title: 'unknown inference status',
    reason: 'unknown_label_value',
    metric: 'model_inference_requests',
    record: (t) => t.recordModelInference('openai', 'gpt-4o', asString('failed') as 'error'),
  },
  {
    title: 'unknown token type',
    reason: 'unknown_label_value',
    metric: 'tokens_used',
    record: (t) => t.recordTokensUsed('openai', 'gpt-4o', asString('cached') as 'input', 5),
  },
  {
    title: 'no GenAI operation record at all',
    reason: 'not_a_number',
    metric: 'gen_ai.client.operation.duration',
    record: (t) => t.recordGenAiOperation(undefined as never),
  },
  {
    title: 'a null GenAI server request record',
    reason: 'not_a_number',
    metric: 'gen_ai.server.request.duration',
    record: (t) => t.recordGenAiServerRequest(null as never),
  },
  {
    title: 'no rate-limit snapshot at all',
    reason: 'not_a_number',
    metric: 'gatewayz_provider_ratelimit_remaining',
    record: (t) => t.recordRateLimits('openai', undefined as never),
  },
  {
    title: 'labels of null through the generic API',
    reason: 'invalid_label_type',
    metric: 'gatewayz_cost_by_provider',
    record: (t) => t.add('costByProvider', 1, null as never),
  },
  {
    title: 'a histogram label of null through the generic API',
    reason: 'invalid_label_type',
    metric: 'gatewayz_time_to_first_token_seconds',
    record: (t) => t.record('timeToFirstToken', 0.2, null as never),
  },
  {
    title: 'a metric key the catalog does not have',
    reason: 'unknown_metric',
    metric: '_unknown',
    thrownMetric: 'costByProviders',
    record: (t) => t.add('costByProviders' as 'costByProvider', 1, { provider: 'openai' }),
  },
  {
    title: 'an Object.prototype name as a metric key',
    reason: 'unknown_metric',
    metric: '_unknown',
    thrownMetric: 'toString',
    record: (t) => t.set('toString' as 'providerHealthScore', 1, { provider: 'openai' }),
  },
  {
    title: 'unknown circuit state',
    reason: 'unknown_label_value',
    metric: 'gatewayz_circuit_breaker_state',
    record: (t) => t.setCircuitBreakerState('openai', asString('opened') as 'open'),
  },
];

describe('invalid input is dropped and counted', () => {
  it.each(BAD_INPUT)('$title → $reason', async ({ reason, metric, record }) => {
    const { telemetry, collect } = setup();
    expect(() => record(telemetry)).not.toThrow();
    expect(() => record(telemetry)).not.toThrow();

    const collected = await collect();
    expect(collected.value(DROPPED, { reason, metric })).toBe(2);
    expect(collected.points(DROPPED)).toHaveLength(1);
    // Nothing reached the metric itself.
    expect(collected.metric(metric)).toBeUndefined();
    expect(logger.ownWarnings).toHaveLength(1);
    expect(logger.ownWarnings[0]).toContain(reason);
  });

  it('counts keys the catalog does not have under one fixed label, naming each key once in a bounded set of warnings', async () => {
    const { telemetry, collect } = setup();
    // A computed key from a bug: more distinct values than the drop counter's 10,000 series.
    for (let index = 0; index < 12_000; index++)
      telemetry.add(`cost_${index}` as 'costByProvider', 1, { provider: 'a' });
    telemetry.add('cost_1' as 'costByProvider', 1, { provider: 'a' });
    // A real drop afterwards still gets its own series, not `other`.
    telemetry.recordProviderResponseTime('openai', Number.NaN);

    const collected = await collect();
    expect(collected.value(DROPPED, { reason: 'unknown_metric', metric: '_unknown' })).toBe(12_001);
    expect(collected.value(DROPPED, { reason: 'not_a_number', metric: 'provider_response_time_seconds' })).toBe(1);
    expect(collected.points(DROPPED)).toHaveLength(2);
    expect(collected.metric('gatewayz_telemetry_label_overflow')).toBeUndefined();
    // The developer learns which keys were wrong: the first ten by name, then one last warning.
    const unknown = logger.ownWarnings.filter(
      (warning) => warning.includes('not metrics of the catalog') || warning.includes('is not a metric of the catalog'),
    );
    expect(unknown).toHaveLength(11);
    for (let index = 0; index < 10; index++) expect(unknown[index]).toContain(`"cost_${index}"`);
    expect(unknown[10]).toContain('more than 10 keys');
  });

  it('exports the drop counter as a monotonic counter', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordProviderResponseTime('openai', Number.NaN);
    const dropped = (await collect()).require(DROPPED);
    expect(dropped.descriptor.name).toBe('gatewayz_telemetry_dropped');
    expect(dropped.dataPoints[0]?.value).toBe(1);
  });

  it('keeps earlier valid values when later input is refused', async () => {
    const { telemetry, collect } = setup();
    telemetry.setProviderHealthScore('openai', 0.8);
    telemetry.setProviderHealthScore('openai', Number.NaN);
    telemetry.setProviderHealthScore('openai', 7);
    telemetry.incrementCostByProvider('openai', 1);
    telemetry.incrementCostByProvider('openai', -1);

    const collected = await collect();
    expect(collected.value('gatewayz_provider_health_score', { provider: 'openai' })).toBe(0.8);
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(1);
  });

  it('accepts values on the edges of their ranges', async () => {
    const { telemetry, collect } = setup();
    telemetry.setProviderHealthScore('a', 0);
    telemetry.setProviderHealthScore('b', 1);
    telemetry.recordProviderResponseTime('a', 0);
    telemetry.incrementCostByProvider('a', 0);
    telemetry.recordProviderResponseTime('p'.repeat(128), 0.1);

    const collected = await collect();
    expect(collected.value('gatewayz_provider_health_score', { provider: 'a' })).toBe(0);
    expect(collected.value('gatewayz_provider_health_score', { provider: 'b' })).toBe(1);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'a' })?.count).toBe(1);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'p'.repeat(128) })?.count).toBe(1);
    expect(collected.metric(DROPPED)).toBeUndefined();
  });

  it('keeps fractions where values are not whole numbers: costs, durations, credits and ratios', async () => {
    const { telemetry, collect } = setup();
    telemetry.incrementCostByProvider('openai', 0.0042);
    telemetry.recordProviderResponseTime('openai', 0.25);
    telemetry.recordCreditsUsed('openai', 'gpt-4o-mini', 4.2);
    telemetry.setTokenEfficiency('gpt-4o-mini', 0.5);
    telemetry.recordTokensUsed('openai', 'gpt-4o-mini', 'input', 12);

    const collected = await collect();
    expect(collected.value('gatewayz_cost_by_provider', { provider: 'openai' })).toBe(0.0042);
    expect(collected.histogram('provider_response_time_seconds', { provider: 'openai' })?.sum).toBe(0.25);
    expect(collected.value('credits_used', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(4.2);
    expect(collected.value('gatewayz_token_efficiency', { model: 'gpt-4o-mini' })).toBe(0.5);
    expect(collected.value('tokens_used', { provider: 'openai', model: 'gpt-4o-mini', token_type: 'input' })).toBe(12);
    expect(collected.metric(DROPPED)).toBeUndefined();
  });

  it('refuses labels longer than a configured maxLabelLength', async () => {
    const { telemetry, collect } = setup({ maxLabelLength: 16 });
    telemetry.recordCacheHit('c'.repeat(16));
    telemetry.recordCacheHit('c'.repeat(17));
    // Length is measured after trimming.
    telemetry.recordCacheHit(`  ${'d'.repeat(16)}  `);

    const collected = await collect();
    expect(collected.value('cache_hits', { cache: 'c'.repeat(16) })).toBe(1);
    expect(collected.value('cache_hits', { cache: 'd'.repeat(16) })).toBe(1);
    expect(collected.points('cache_hits')).toHaveLength(2);
    expect(collected.value(DROPPED, { reason: 'label_too_long', metric: 'cache_hits' })).toBe(1);
  });

  it('counts drops even when the metric name is longer than maxLabelLength', async () => {
    // The drop counter's `metric` label holds the instrument name; a small maxLabelLength for
    // application labels must not make the library's own accounting lose the drop.
    const { telemetry, collect } = setup({ maxLabelLength: 16 });
    expect(() => telemetry.recordProviderResponseTime('p'.repeat(17), 0.1)).not.toThrow();
    expect(() => telemetry.recordProviderResponseTime('openai', Number.NaN)).not.toThrow();

    const collected = await collect();
    expect(collected.metric('provider_response_time_seconds')).toBeUndefined();
    expect(collected.value(DROPPED, { reason: 'label_too_long', metric: 'provider_response_time_seconds' })).toBe(1);
    expect(collected.value(DROPPED, { reason: 'not_a_number', metric: 'provider_response_time_seconds' })).toBe(1);
  });

  it('drops the whole HTTP recording when a label is refused', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordHttpRequest('GET', '   ', 200, 0.1);
    telemetry.recordHttpRequest('GET', '/health', 200, -1);

    const collected = await collect();
    expect(collected.metric('fastapi_requests')).toBeUndefined();
    expect(collected.metric('fastapi_requests_duration_seconds')).toBeUndefined();
    expect(collected.value(DROPPED, { reason: 'empty_label', metric: 'fastapi_requests' })).toBe(1);
    expect(collected.value(DROPPED, { reason: 'out_of_range', metric: 'fastapi_requests_duration_seconds' })).toBe(1);
  });

  it('counts a refused model-inference duration and observes nothing', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordModelInference('openai', 'gpt-4o', 'success', Number.NaN);
    const collected = await collect();
    expect(collected.metric('model_inference_duration_seconds')).toBeUndefined();
    expect(collected.value(DROPPED, { reason: 'not_a_number', metric: 'model_inference_duration_seconds' })).toBe(1);
  });
});

describe('hand-built rate-limit snapshots', () => {
  it('records what a snapshot without `malformed` or with null windows says, without throwing', async () => {
    const { telemetry, collect } = setup();
    const snapshot = { requests: { remaining: 40, limit: 50, resetSeconds: 12 }, tokens: null };
    expect(() => telemetry.recordRateLimits('openai', snapshot as never)).not.toThrow();
    expect(() =>
      telemetry.recordRateLimits('openai', { malformed: [null, { header: 5 }, { header: 'retry-after' }] } as never),
    ).not.toThrow();

    const collected = await collect();
    expect(
      collected.value('gatewayz_provider_ratelimit_remaining', { provider: 'openai', limit_type: 'requests' }),
    ).toBe(40);
    expect(collected.value('gatewayz_ratelimit_headers_malformed', { provider: 'openai', header: 'retry-after' })).toBe(
      1,
    );
    // The entries without a header name are refused as labels and counted.
    expect(
      collected.value(DROPPED, { reason: 'invalid_label_type', metric: 'gatewayz_ratelimit_headers_malformed' }),
    ).toBe(2);
  });
});

describe('rate-limit windows with values the gauges refuse', () => {
  it('counts a refused reset or limit and never shows it at collection (no NaN, infinite or negative gauge)', async () => {
    const { telemetry, collect } = setup();
    const labels = { provider: 'openai', limit_type: 'requests' };
    telemetry.recordRateLimits('openai', { requests: { remaining: 5, resetSeconds: 60, limit: 100 }, malformed: [] });
    for (const resetSeconds of [Number.NaN, Infinity, -5])
      telemetry.recordRateLimits('openai', { requests: { remaining: 4, resetSeconds }, malformed: [] });
    let collected = await collect();
    // The good reset still counts down; the refused ones were counted, not used.
    const reset = collected.value('gatewayz_provider_ratelimit_reset_seconds', labels) as number;
    expect(reset).toBeGreaterThan(59);
    expect(reset).toBeLessThanOrEqual(60);
    expect(collected.value('gatewayz_provider_ratelimit_remaining', labels)).toBe(4);
    for (const reason of ['not_a_number', 'not_finite', 'out_of_range'])
      expect(collected.value(DROPPED, { reason, metric: 'gatewayz_provider_ratelimit_reset_seconds' }), reason).toBe(1);

    // A limit the remaining gauge would refuse does not refill it at the reset.
    telemetry.recordRateLimits('anthropic', { requests: { remaining: 4, resetSeconds: 0, limit: -7 }, malformed: [] });
    collected = await collect();
    expect(
      collected.value('gatewayz_provider_ratelimit_remaining', { provider: 'anthropic', limit_type: 'requests' }),
    ).toBe(4);
    expect(collected.value(DROPPED, { reason: 'out_of_range', metric: 'gatewayz_provider_ratelimit_remaining' })).toBe(
      1,
    );
  });
});

describe('rate-limit resets too long to count down to', () => {
  it('drops and counts a finite reset above 10^10 s, so the reset gauge never exports +Inf', async () => {
    const { telemetry, collect } = setup();
    const labels = { provider: 'openai', limit_type: 'requests' };
    telemetry.recordRateLimits('openai', { requests: { remaining: 5, resetSeconds: 60 }, malformed: [] });
    // From a hand-built snapshot: finite, but now + 1e306 s is not.
    telemetry.recordRateLimits('openai', { requests: { remaining: 3, resetSeconds: 1e306 }, malformed: [] });
    let collected = await collect();
    const reset = collected.value('gatewayz_provider_ratelimit_reset_seconds', labels) as number;
    expect(reset).toBeGreaterThan(59);
    expect(reset).toBeLessThanOrEqual(60);
    expect(collected.value('gatewayz_provider_ratelimit_remaining', labels)).toBe(3);
    const refused = { reason: 'out_of_range', metric: 'gatewayz_provider_ratelimit_reset_seconds' };
    expect(collected.value(DROPPED, refused)).toBe(1);
    // The bound is the longest wait retry-after can express: 10^10 s is accepted, a little more is not.
    telemetry.recordRateLimits('groq', { requests: { resetSeconds: 1e10 }, malformed: [] });
    telemetry.recordRateLimits('groq', { requests: { resetSeconds: 1.0000001e10 }, malformed: [] });
    collected = await collect();
    expect(
      collected.value('gatewayz_provider_ratelimit_reset_seconds', { provider: 'groq', limit_type: 'requests' }),
    ).toBeGreaterThan(1e10 - 60);
    expect(collected.value(DROPPED, refused)).toBe(2);
  });
});

describe('invalid input warnings', () => {
  it('warns once per reason, not once per call', async () => {
    const { telemetry, collect } = setup();
    for (let index = 0; index < 50; index++) telemetry.recordProviderResponseTime('openai', Number.NaN);
    for (let index = 0; index < 50; index++) telemetry.incrementCostByProvider('openai', Number.NaN);
    for (let index = 0; index < 10; index++) telemetry.recordProviderResponseTime('openai', Infinity);
    for (let index = 0; index < 10; index++) telemetry.recordCacheHit('');
    telemetry.setCircuitBreakerState('openai', 'opened' as 'open');
    telemetry.setCircuitBreakerState('openai', 'OPEN' as 'open');

    expect(logger.ownWarnings).toHaveLength(4);
    const joined = logger.ownWarnings.join('\n');
    for (const reason of ['not_a_number', 'not_finite', 'empty_label', 'unknown_label_value']) {
      expect(
        logger.ownWarnings.filter((message) => message.includes(`"${reason}"`)),
        reason,
      ).toHaveLength(1);
    }
    // The first warning names the metric and the value so the developer can find the call site.
    expect(joined).toContain('provider_response_time_seconds got NaN');
    expect(joined).toContain('Unknown circuit state "opened"; expected closed, open or half_open');

    // Every call is still counted.
    const collected = await collect();
    expect(collected.value(DROPPED, { reason: 'not_a_number', metric: 'provider_response_time_seconds' })).toBe(50);
    expect(collected.value(DROPPED, { reason: 'not_a_number', metric: 'gatewayz_cost_by_provider' })).toBe(50);
    expect(collected.value(DROPPED, { reason: 'not_finite', metric: 'provider_response_time_seconds' })).toBe(10);
    expect(collected.value(DROPPED, { reason: 'empty_label', metric: 'cache_hits' })).toBe(10);
    expect(collected.value(DROPPED, { reason: 'unknown_label_value', metric: 'gatewayz_circuit_breaker_state' })).toBe(
      2,
    );
  });

  it('warns again for a new telemetry instance', () => {
    setup().telemetry.recordCacheHit('');
    setup().telemetry.recordCacheHit('');
    expect(logger.ownWarnings).toHaveLength(2);
  });
});

describe('onInvalidInput: "throw"', () => {
  it.each(BAD_INPUT)('throws a TelemetryInputError for $title', async ({ reason, metric, thrownMetric, record }) => {
    const { telemetry, collect } = setup({ onInvalidInput: 'throw' });
    let thrown: unknown;
    try {
      record(telemetry);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TelemetryInputError);
    expect(thrown).toBeInstanceOf(TelemetryError);
    const error = thrown as TelemetryInputError;
    expect(error.reason).toBe(reason);
    expect(error.metric).toBe(thrownMetric ?? metric);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.name).toBe('TelemetryInputError');
    expect(error.message.length).toBeGreaterThan(0);
    // Thrown instead of counted.
    expect((await collect()).metric(DROPPED)).toBeUndefined();
  });

  it('still records valid input', async () => {
    const { telemetry, collect } = setup({ onInvalidInput: 'throw' });
    telemetry.recordProviderResponseTime('openai', 0.2);
    expect((await collect()).histogram('provider_response_time_seconds', { provider: 'openai' })?.count).toBe(1);
  });
});
