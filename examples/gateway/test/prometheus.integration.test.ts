import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  componentAvailable,
  startPrometheus,
  type PrometheusInstance,
  type PromSample,
} from '../../../test-support/prometheus.js';
import { DEMO_PRICES } from '../src/index.js';
import { chatBody, demoCost, startTestGateway, type TestGateway } from './harness.js';

const available = componentAvailable('prometheus');

const single = (result: PromSample[]): number => {
  if (result.length !== 1) throw new Error(`expected one sample, got ${JSON.stringify(result)}`);
  return Number((result[0] as PromSample).value[1]);
};

describe.skipIf(!available)('a real Prometheus scraping the example gateway', () => {
  let gw: TestGateway;
  let prometheus: PrometheusInstance;
  const expectedCost = { openai: 0, openrouter: 0 };
  const successes = { count: 0 };

  beforeAll(async () => {
    gw = await startTestGateway();
    prometheus = await startPrometheus({
      targets: [{ job: 'gateway', url: `${gw.url}/metrics` }],
      scrapeIntervalSeconds: 1,
    });

    // anthropic fails every call: claude-3-5-haiku fails over to openrouter, anthropic's breaker opens.
    gw.provider('anthropic').configure({ errorRate: 1, failureMode: 'error' });
    for (let index = 0; index < 8; index++) {
      const response = await gw.post('/v1/chat/completions', chatBody('claude-3-5-haiku'));
      expect(response.status).toBe(200);
      const body = await response.json();
      expectedCost.openrouter += demoCost(
        DEMO_PRICES['claude-3-5-haiku'],
        body.usage.prompt_tokens,
        body.usage.completion_tokens,
        body.usage.prompt_tokens_details.cached_tokens,
      );
      successes.count++;
    }
    // openai answers in ~300 ms: every observation lands in the (0.25, 0.5] bucket.
    gw.provider('openai').configure({ latencyMs: 300 });
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const response = await gw.post('/v1/chat/completions', chatBody('gpt-4o'));
        expect(response.status).toBe(200);
        const body = await response.json();
        expectedCost.openai += demoCost(
          DEMO_PRICES['gpt-4o'],
          body.usage.prompt_tokens,
          body.usage.completion_tokens,
          body.usage.prompt_tokens_details.cached_tokens,
        );
        successes.count++;
      }),
    );
    await gw.gateway.recorder.flush();
    await gw.gateway.tracker.tick();
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await gw?.close();
  });

  it('scrapes the endpoint without errors', async () => {
    await prometheus.waitForQuery(
      'up{job="gateway"}',
      (samples) => samples.length === 1 && Number(samples[0]?.value[1]) === 1,
      20_000,
    );
    const targets = await prometheus.targets();
    const target = targets.activeTargets.find((candidate) => candidate.scrapePool === 'gateway');
    expect(target?.health).toBe('up');
    expect(target?.lastError).toBe('');
  });

  it('computes provider health scores as seed 000 defines them', async () => {
    const failing = await prometheus.waitForQuery(
      'gatewayz_provider_health_score{provider="anthropic"}',
      (result) => result.length === 1,
    );
    // availability 0, error rate 1, latency well under 2 s: 0.4*0 + 0.3*0 + 0.3*1
    expect(single(failing)).toBeCloseTo(0.3, 10);
    expect(single(await prometheus.query('provider_availability{provider="anthropic"}'))).toBe(0);
    expect(single(await prometheus.query('provider_error_rate{provider="anthropic"}'))).toBe(1);
    expect(single(await prometheus.query('gatewayz_provider_health_score{provider="openai"}'))).toBe(1);
    expect(single(await prometheus.query('gatewayz_provider_health_score{provider="openrouter"}'))).toBe(1);
  });

  it('answers the p95 latency query from the provider histogram', async () => {
    const query = 'histogram_quantile(0.95, sum by (le) (provider_response_time_seconds_bucket{provider="openai"}))';
    const result = await prometheus.waitForQuery(
      query,
      (samples) => samples.length === 1 && Number(samples[0]?.value[1]) > 0,
    );
    // All ten observations are in (0.25, 0.5]: 0.25 + 0.25 * 0.95
    expect(single(result)).toBeCloseTo(0.4875, 6);
  });

  it("sums cost by provider to what the responses' usage costs at the configured prices", async () => {
    const result = await prometheus.waitForQuery(
      'sum by (provider) (gatewayz_cost_by_provider_total)',
      (samples) => samples.length === 2,
    );
    const byProvider = Object.fromEntries(result.map((sample) => [sample.metric['provider'], Number(sample.value[1])]));
    expect(byProvider['openai']).toBeCloseTo(expectedCost.openai, 12);
    expect(byProvider['openrouter']).toBeCloseTo(expectedCost.openrouter, 12);
  });

  it('shows the open circuit breaker', async () => {
    const open = await prometheus.waitForQuery(
      'gatewayz_circuit_breaker_state{state="open"} == 1',
      (samples) => samples.length === 1,
    );
    expect(open[0]?.metric['provider']).toBe('anthropic');
    expect(single(await prometheus.query('gatewayz_circuit_breaker_state{provider="anthropic",state="closed"}'))).toBe(
      0,
    );
    expect(single(await prometheus.query('gatewayz_circuit_breaker_state{provider="openai",state="closed"}'))).toBe(1);
  });

  it('counts requests exactly', async () => {
    const result = await prometheus.waitForQuery(
      'sum(model_inference_requests_total{status="success"})',
      (samples) => single(samples) === successes.count,
    );
    expect(single(result)).toBe(18);
    expect(
      single(await prometheus.query('sum(model_inference_requests_total{provider="anthropic",status="error"})')),
    ).toBe(3);
  });
});
