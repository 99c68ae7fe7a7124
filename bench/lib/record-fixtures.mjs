// Contenders of the record-path comparison: our helpers, the raw OpenTelemetry instrument calls and
// the equivalent prom-client calls, recording the same label values and the same values.
//
// Every task function runs BATCH operations. Each loop is its own function literal on purpose: V8
// keeps type feedback per closure site, so a shared loop calling `op(i)` would turn megamorphic
// and add an indirect call to every contender.
import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { LLM_LATENCY_BUCKETS } from '@gatewayz/telemetry/metrics';
import { createTelemetryMetricProducer } from '@gatewayz/telemetry-node';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import client from 'prom-client';
import { BenchReader, seededRandom } from './common.mjs';

export const BATCH = 1024;

const PROVIDERS = ['openai', 'anthropic', 'openrouter', 'google', 'mistral', 'groq', 'together', 'fireworks'];
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku', 'llama-3.1-8b-instruct'];
const TOKEN_TYPES = ['input', 'output'];

/** Label sets of the multi-label comparison: combination c = provider (c & 7), model ((c >> 3) & 3), token type (c >> 5). */
function combination(c) {
  return { provider: PROVIDERS[c & 7], model: MODELS[(c >> 3) & 3], token_type: TOKEN_TYPES[c >> 5] };
}

/**
 * BATCH input values held as heap numbers. A Float64Array (or an all-double array) would hand the
 * loop raw doubles, and V8 then allocates a 16-byte HeapNumber for every double passed to a call
 * that is not inlined: an allocation of the benchmark loop, not of the code under test. A mixed
 * array (PACKED_ELEMENTS, forced by a trailing non-number) keeps the numbers boxed once, up front,
 * as they would be when the value comes from an earlier computation in a real caller.
 */
function boxedValues(make) {
  const values = Array.from({ length: BATCH }, make);
  values.push('not-a-value'); // never read: indexes stay below BATCH
  return values;
}

export function buildRecordFixtures() {
  // As in production (NodeSDK registers it): an AsyncLocalStorage context manager, so
  // `context.active()` (called by the SDK's sync instruments and by the helpers' exemplar capture)
  // costs what it costs in a gateway.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const sampledSpan = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: false,
  });
  const random = seededRandom(42);
  const costs = boxedValues(() => random() * 0.01);
  const scores = boxedValues(() => random());
  const tokens = boxedValues(() => Math.floor(random() * 4000));
  // Latencies log-uniform between 20 ms and 150 s, so every bucket of the LLM layout gets hits.
  const latencies = boxedValues(() => 0.02 * Math.exp(random() * Math.log(7500)));

  // Our helpers as startTelemetry configures them: in-process series collected by a reader through a
  // MetricProducer (exportVia: 'producer').
  const t = new GatewayTelemetry({ exportVia: 'producer' });
  const helperProvider = new MeterProvider({
    readers: [new BenchReader({ metricProducers: [createTelemetryMetricProducer(t)] })],
  });
  // Same helpers without exemplar capture (attribution row of the histogram comparison).
  const tNoExemplars = new GatewayTelemetry({ exportVia: 'producer', exemplars: false });
  // Every observation an exemplar (OTEL_METRICS_EXEMPLAR_FILTER=always_on), here outside any span.
  const tAlwaysOn = new GatewayTelemetry({ exportVia: 'producer', exemplars: 'always_on' });
  // As startTelemetry configures them when the OTLP push asks for exponential histograms: the
  // exponential aggregation is kept beside the explicit buckets (which the Prometheus endpoints read).
  const tExponential = new GatewayTelemetry({ exportVia: 'producer', exponentialHistograms: true });
  const exponentialHelperProvider = new MeterProvider({
    readers: [
      new BenchReader({
        metricProducers: [createTelemetryMetricProducer(tExponential, { histograms: 'exponential' })],
      }),
    ],
  });

  // Raw OpenTelemetry instruments with the same names, units and buckets, on another provider.
  const rawProvider = new MeterProvider({ readers: [new BenchReader()] });
  const meter = rawProvider.getMeter('bench-raw-otel');
  const otelCost = meter.createCounter(t.metricName('costByProvider'), { unit: 'USD' });
  const otelScore = meter.createGauge(t.metricName('providerHealthScore'), { unit: '1' });
  const otelTokens = meter.createCounter(t.metricName('tokensUsed'), { unit: '{token}' });
  const otelLatency = meter.createHistogram(t.metricName('providerResponseTime'), {
    unit: 's',
    advice: { explicitBucketBoundaries: [...LLM_LATENCY_BUCKETS] },
  });
  // The SDK's own exponential aggregation (160 buckets, scale from 20), through a View.
  const exponentialProvider = new MeterProvider({
    readers: [new BenchReader()],
    views: [{ instrumentName: '*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const otelExponential = exponentialProvider
    .getMeter('bench-raw-otel-exponential')
    .createHistogram(t.metricName('providerResponseTime'), { unit: 's' });
  const providerAttrs = PROVIDERS.map((provider) => Object.freeze({ provider }));
  const tokenAttrs = Array.from({ length: 64 }, (_, c) => Object.freeze(combination(c)));

  // prom-client, on a private registry.
  const registry = new client.Registry();
  const promCost = new client.Counter({
    name: 'gatewayz_cost_by_provider_total',
    help: 'cost',
    labelNames: ['provider'],
    registers: [registry],
  });
  const promScore = new client.Gauge({
    name: 'gatewayz_provider_health_score',
    help: 'score',
    labelNames: ['provider'],
    registers: [registry],
  });
  const promTokens = new client.Counter({
    name: 'tokens_used_total',
    help: 'tokens',
    labelNames: ['provider', 'model', 'token_type'],
    registers: [registry],
  });
  const promLatency = new client.Histogram({
    name: 'provider_response_time_seconds',
    help: 'latency',
    labelNames: ['provider'],
    buckets: [...LLM_LATENCY_BUCKETS],
    registers: [registry],
  });
  const promCostChildren = PROVIDERS.map((provider) => promCost.labels(provider));
  const promScoreChildren = PROVIDERS.map((provider) => promScore.labels(provider));
  const promTokenChildren = Array.from({ length: 64 }, (_, c) => promTokens.labels(combination(c)));
  const promLatencyChildren = PROVIDERS.map((provider) => promLatency.labels(provider));

  const P = PROVIDERS;
  const M = MODELS;
  const T = TOKEN_TYPES;

  const comparisons = {
    counter: {
      title: 'Counter, 1 label (`incrementCostByProvider`)',
      baseline: 'prom',
      subject: 'helper',
      rawOtel: 'otel',
      target: 'helper faster than prom-client (ratio < 1)',
      tasks: [
        {
          id: 'helper',
          label: '`telemetry.incrementCostByProvider(p, v)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) t.incrementCostByProvider(P[i & 7], costs[i]);
          },
        },
        {
          id: 'otel',
          label: 'OTel `counter.add(v, { provider })`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelCost.add(costs[i], { provider: P[i & 7] });
          },
        },
        {
          id: 'otelCached',
          label: 'OTel `counter.add(v, cachedAttrs)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelCost.add(costs[i], providerAttrs[i & 7]);
          },
        },
        {
          id: 'prom',
          label: 'prom-client `counter.inc({ provider }, v)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promCost.inc({ provider: P[i & 7] }, costs[i]);
          },
        },
        {
          id: 'promChild',
          label: 'prom-client cached child `child.inc(v)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promCostChildren[i & 7].inc(costs[i]);
          },
        },
      ],
    },
    gauge: {
      title: 'Gauge, 1 label (`setProviderHealthScore`)',
      baseline: 'prom',
      subject: 'helper',
      rawOtel: 'otel',
      target: 'helper faster than prom-client (ratio < 1)',
      tasks: [
        {
          id: 'helper',
          label: '`telemetry.setProviderHealthScore(p, v)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) t.setProviderHealthScore(P[i & 7], scores[i]);
          },
        },
        {
          id: 'otel',
          label: 'OTel sync `gauge.record(v, { provider })`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelScore.record(scores[i], { provider: P[i & 7] });
          },
        },
        {
          id: 'otelCached',
          label: 'OTel `gauge.record(v, cachedAttrs)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelScore.record(scores[i], providerAttrs[i & 7]);
          },
        },
        {
          id: 'prom',
          label: 'prom-client `gauge.set({ provider }, v)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promScore.set({ provider: P[i & 7] }, scores[i]);
          },
        },
        {
          id: 'promChild',
          label: 'prom-client cached child `child.set(v)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promScoreChildren[i & 7].set(scores[i]);
          },
        },
      ],
    },
    multiLabel: {
      title: 'Counter, 3 labels (`recordTokensUsed`)',
      baseline: 'prom',
      subject: 'helper',
      rawOtel: 'otel',
      target: 'helper faster than prom-client (ratio < 1)',
      tasks: [
        {
          id: 'helper',
          label: '`telemetry.recordTokensUsed(p, m, type, n)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) {
              const c = i & 63;
              t.recordTokensUsed(P[c & 7], M[(c >> 3) & 3], T[c >> 5], tokens[i]);
            }
          },
        },
        {
          id: 'otel',
          label: 'OTel `counter.add(n, { provider, model, token_type })`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) {
              const c = i & 63;
              otelTokens.add(tokens[i], { provider: P[c & 7], model: M[(c >> 3) & 3], token_type: T[c >> 5] });
            }
          },
        },
        {
          id: 'otelCached',
          label: 'OTel `counter.add(n, cachedAttrs)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelTokens.add(tokens[i], tokenAttrs[i & 63]);
          },
        },
        {
          id: 'prom',
          label: 'prom-client `counter.inc({ provider, model, token_type }, n)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) {
              const c = i & 63;
              promTokens.inc({ provider: P[c & 7], model: M[(c >> 3) & 3], token_type: T[c >> 5] }, tokens[i]);
            }
          },
        },
        {
          id: 'promChild',
          label: 'prom-client cached child `child.inc(n)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promTokenChildren[i & 63].inc(tokens[i]);
          },
        },
      ],
    },
    histogram: {
      title: 'Histogram, 1 label, 17 buckets (`recordProviderResponseTime`)',
      baseline: 'otel',
      subject: 'helper',
      rawOtel: 'otel',
      target: 'helper at most 1.1x the raw OTel histogram (ratio <= 1.10)',
      tasks: [
        {
          id: 'helper',
          label: '`telemetry.recordProviderResponseTime(p, s)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) t.recordProviderResponseTime(P[i & 7], latencies[i]);
          },
        },
        {
          id: 'helperNoExemplars',
          label: 'same, `exemplars: false` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) tNoExemplars.recordProviderResponseTime(P[i & 7], latencies[i]);
          },
        },
        {
          id: 'helperAlwaysOn',
          label: "same, `exemplars: 'always_on'`, outside any span (exemplar captured, no ids) (info)",
          fn: () => {
            for (let i = 0; i < BATCH; i++) tAlwaysOn.recordProviderResponseTime(P[i & 7], latencies[i]);
          },
        },
        {
          id: 'helperInSpan',
          label: 'same, inside a sampled span (exemplar captured) (info)',
          fn: () =>
            context.with(sampledSpan, () => {
              for (let i = 0; i < BATCH; i++) t.recordProviderResponseTime(P[i & 7], latencies[i]);
            }),
        },
        {
          id: 'otel',
          label: 'OTel `histogram.record(s, cachedAttrs)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelLatency.record(latencies[i], providerAttrs[i & 7]);
          },
        },
        {
          id: 'otelLiteral',
          label: 'OTel `histogram.record(s, { provider })` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelLatency.record(latencies[i], { provider: P[i & 7] });
          },
        },
        {
          id: 'prom',
          label: 'prom-client `histogram.observe({ provider }, s)`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promLatency.observe({ provider: P[i & 7] }, latencies[i]);
          },
        },
        {
          id: 'promChild',
          label: 'prom-client cached child `child.observe(s)` (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) promLatencyChildren[i & 7].observe(latencies[i]);
          },
        },
      ],
    },
    exponential: {
      title:
        'Histogram, 1 label, base-2 exponential (`recordProviderResponseTime`, OTLP push with `base2_exponential_bucket_histogram`)',
      baseline: 'otel',
      subject: 'helper',
      rawOtel: 'otel',
      target:
        'helper (explicit and exponential aggregations) at most 1.1x the raw OTel exponential histogram (ratio <= 1.10)',
      tasks: [
        {
          id: 'helper',
          label: '`telemetry.recordProviderResponseTime(p, s)`, `exponentialHistograms: true`',
          fn: () => {
            for (let i = 0; i < BATCH; i++) tExponential.recordProviderResponseTime(P[i & 7], latencies[i]);
          },
        },
        {
          id: 'helperExplicit',
          label: 'same, explicit buckets only (info)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) t.recordProviderResponseTime(P[i & 7], latencies[i]);
          },
        },
        {
          id: 'otel',
          label: 'OTel exponential `histogram.record(s, cachedAttrs)` (View, 160 buckets)',
          fn: () => {
            for (let i = 0; i < BATCH; i++) otelExponential.record(latencies[i], providerAttrs[i & 7]);
          },
        },
      ],
    },
  };

  // Sanity: every contender records (no silent drops on the helper side).
  for (const comparison of Object.values(comparisons)) for (const task of comparison.tasks) task.fn();
  if (t.seriesCount('telemetryDropped') !== 0)
    throw new Error('helpers dropped recordings in the record-path fixtures');

  return {
    comparisons,
    telemetry: t,
    helperProvider,
    exponentialHelperProvider,
    rawProvider,
    exponentialProvider,
    registry,
  };
}
