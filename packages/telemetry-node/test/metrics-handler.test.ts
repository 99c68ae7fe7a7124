import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsHandler, toNodeListener, type MetricsHandler } from '../src/index.js';

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const TOKEN = 'test-token-0123456789abcdef';

function setup(token?: string): { handler: MetricsHandler; telemetry: GatewayTelemetry } {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const telemetry = new GatewayTelemetry({ meterProvider: provider });
  provider
    .getMeter('runtime-like')
    .createObservableGauge('v8js.memory.heap.used')
    .addCallback((result) => result.observe(1024));
  telemetry.setProviderHealthScore('openai', 0.95);
  telemetry.setProviderAvailability('openai', true);
  telemetry.setProviderErrorRate('openai', 0.02);
  telemetry.setProviderHealthScore('openrouter', 0.6);
  telemetry.setProviderAvailability('openrouter', 1);
  telemetry.setProviderErrorRate('openrouter', 0.3);
  telemetry.setProviderHealthScore('cerebras', 0.4);
  telemetry.setProviderAvailability('cerebras', 0);
  telemetry.setProviderErrorRate('cerebras', 1);
  telemetry.recordProviderResponseTime('openai', 0.1);
  telemetry.recordProviderResponseTime('openrouter', 0.3);
  telemetry.setActiveApiKeys(234);
  telemetry.setSubscriptionCount(45);
  telemetry.recordTokensUsed('openai', 'gpt-4o-mini', 'input', 1000);
  telemetry.recordTokensUsed('openai', 'gpt-4o-mini', 'output', 234);
  telemetry.recordCreditsUsed('openai', 'gpt-4o-mini', 0.5);
  telemetry.recordCreditsUsed('openrouter', 'gpt-4o-mini', 0.25);
  telemetry.recordHttpRequest('POST', '/v1/chat/completions', 200, 0.05);
  telemetry.recordDatabaseQuery('record_model_calls', 0.004);
  telemetry.recordModelInference('openai', 'gpt-4o-mini', 'success', 0.4);
  return { handler: createMetricsHandler({ source: reader, ...(token ? { token } : {}) }), telemetry };
}

const get = (handler: MetricsHandler, path: string, headers: Record<string, string> = {}): Promise<Response> =>
  handler(new Request(`http://gateway.test${path}`, { headers }));

describe('metrics handler', () => {
  it('serves everything on /metrics and /prometheus/metrics/all in the Prometheus text format', async () => {
    const { handler } = setup();
    const metrics = await get(handler, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.text();
    for (const name of [
      'gatewayz_provider_health_score',
      'provider_response_time_seconds_bucket',
      'active_api_keys',
      'v8js_memory_heap_used',
      'fastapi_requests_total',
    ]) {
      expect(text).toContain(name);
    }
    expect(await (await get(handler, '/prometheus/metrics/all')).text()).toBe(text);
  });

  it('filters each category by the catalog', async () => {
    const { handler } = setup();
    const providers = await (await get(handler, '/prometheus/metrics/providers')).text();
    expect(providers).toContain('gatewayz_provider_health_score{provider="openai"} 0.95');
    expect(providers).toContain('provider_response_time_seconds_count');
    expect(providers).not.toContain('active_api_keys');
    expect(providers).not.toContain('v8js_memory_heap_used');

    const business = await (await get(handler, '/prometheus/metrics/business')).text();
    expect(business).toContain('active_api_keys 234');
    expect(business).toContain('tokens_used_total{provider="openai",model="gpt-4o-mini",token_type="input"} 1000');
    expect(business).not.toContain('provider_error_rate');

    const system = await (await get(handler, '/prometheus/metrics/system')).text();
    expect(system).toContain('v8js_memory_heap_used');
    expect(system).toContain('fastapi_requests_total');
    expect(system).not.toContain('gatewayz_provider_health_score');

    const performance = await (await get(handler, '/prometheus/metrics/performance')).text();
    for (const name of [
      'provider_response_time_seconds',
      'model_inference_duration_seconds',
      'database_query_duration_seconds',
      'fastapi_requests_duration_seconds',
    ]) {
      expect(performance).toContain(`# TYPE ${name} histogram`);
    }
    expect(performance).not.toContain('active_api_keys');

    const models = await (await get(handler, '/prometheus/metrics/models')).text();
    expect(models).toContain(
      'model_inference_requests_total{provider="openai",model="gpt-4o-mini",status="success"} 1',
    );
  });

  it('serves the JSON summary in the shape of the GatewayZ dashboards', async () => {
    const { handler } = setup();
    const response = await get(handler, '/prometheus/metrics/summary');
    expect(response.status).toBe(200);
    const summary = await response.json();
    expect(summary.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(summary.metrics).toEqual({
      providers: {
        total_providers: 3,
        healthy_providers: 1,
        degraded_providers: 1,
        unavailable_providers: 1,
        avg_error_rate: 0.44,
        avg_response_time_ms: 200,
      },
      business: { active_api_keys: 234, active_subscriptions: 45, total_tokens_used: 1234, total_credits_used: 0.75 },
    });
    const onlyBusiness = await (await get(handler, '/prometheus/metrics/summary?category=business')).json();
    expect(Object.keys(onlyBusiness.metrics)).toEqual(['business']);
  });

  it('counts configured providers without traffic as available and healthy, and tokens once', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const telemetry = new GatewayTelemetry({ meterProvider: provider });
    const handler = createMetricsHandler({ source: reader, providers: ['openai', 'anthropic', 'openrouter'] });
    const atStart = await (await get(handler, '/prometheus/metrics/summary?category=providers')).json();
    expect(atStart.metrics.providers).toMatchObject({
      total_providers: 3,
      healthy_providers: 3,
      degraded_providers: 0,
      unavailable_providers: 0,
    });
    // Once the tracker has gauges for one, they count; a provider only seen in the gauges counts too.
    telemetry.setProviderAvailability('anthropic', 0);
    telemetry.setProviderHealthScore('cerebras', 0.5);
    // The cache and reasoning series are subsets of input and output: the total counts each token once.
    telemetry.recordTokensUsed('openai', 'o4-mini', 'input', 2000);
    telemetry.recordTokensUsed('openai', 'o4-mini', 'cache_read', 1024);
    telemetry.recordTokensUsed('openai', 'o4-mini', 'output', 300);
    telemetry.recordTokensUsed('openai', 'o4-mini', 'reasoning', 192);
    const later = await (await get(handler, '/prometheus/metrics/summary')).json();
    expect(later.metrics.providers).toMatchObject({
      total_providers: 4,
      healthy_providers: 2,
      degraded_providers: 1,
      unavailable_providers: 1,
    });
    expect(later.metrics.business.total_tokens_used).toBe(2300);
    await provider.shutdown();
  });

  it('answers 400 with a JSON error naming the parameter for an unknown summary category', async () => {
    const { handler } = setup();
    const response = await get(handler, '/prometheus/metrics/summary?category=nope');
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ param: 'category', code: 'invalid_parameter' });
  });

  it('serves markdown docs generated from the catalog', async () => {
    const { handler } = setup();
    const response = await get(handler, '/prometheus/metrics/docs');
    expect(response.headers.get('content-type')).toContain('text/markdown');
    const markdown = await response.text();
    expect(markdown).toContain('`gatewayz_circuit_breaker_state`');
    expect(markdown).toContain('curl http://gateway.test/prometheus/metrics/providers');
  });

  it("writes the docs' examples for the origin each request came to, not the first requester's", async () => {
    const { handler } = setup();
    const first = await (await handler(new Request('http://attacker.example/prometheus/metrics/docs'))).text();
    expect(first).toContain('curl http://attacker.example/prometheus/metrics/providers');
    const next = await (await get(handler, '/prometheus/metrics/docs')).text();
    expect(next).toContain('curl http://gateway.test/prometheus/metrics/providers');
    expect(next).not.toContain('attacker.example');
    // Past the origins kept, a rendering is still the requester's own.
    for (let index = 0; index < 12; index++) {
      const text = await (await handler(new Request(`http://host-${index}.test/prometheus/metrics/docs`))).text();
      expect(text).toContain(`curl http://host-${index}.test/prometheus/metrics/providers`);
    }
    expect(await (await get(handler, '/prometheus/metrics/docs')).text()).toBe(next);
  });

  it('answers 404 for unknown categories and 405 for other methods', async () => {
    const { handler } = setup();
    expect((await get(handler, '/prometheus/metrics/nope')).status).toBe(404);
    const post = await handler(new Request('http://gateway.test/metrics', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(handler.handles('/metrics')).toBe(true);
    expect(handler.handles('/v1/chat/completions')).toBe(false);
  });

  it('requires the bearer token on every endpoint when one is configured', async () => {
    const { handler } = setup(TOKEN);
    for (const path of [
      '/metrics',
      '/prometheus/metrics/providers',
      '/prometheus/metrics/summary',
      '/prometheus/metrics/docs',
    ]) {
      const missing = await get(handler, path);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toContain('Bearer');
      expect((await get(handler, path, { authorization: 'Bearer wrong-token' })).status).toBe(401);
      expect((await get(handler, path, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    }
  });

  it('answers 503 with a JSON error when telemetry is disabled', async () => {
    const handler = createMetricsHandler({
      source: undefined,
      disabledReason: 'Telemetry is disabled (OTEL_SDK_DISABLED=true)',
    });
    const response = await get(handler, '/metrics');
    expect(response.status).toBe(503);
    expect((await response.json()).error.message).toContain('OTEL_SDK_DISABLED');
  });

  describe('node:http adapter', () => {
    let close: (() => Promise<void>) | undefined;
    afterEach(async () => close?.());

    it('serves the handler over a real socket', async () => {
      const { handler } = setup();
      const server = createServer(toNodeListener(handler));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      close = () => new Promise((resolve) => server.close(() => resolve()));
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/prometheus/metrics/providers`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('provider_availability{provider="cerebras"} 0');
      const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    });
  });
});
