import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '../../../test-support/otlp-receiver.js';
import { startGatewayProcess } from './gateway-process.js';
import { sendOnFreshConnection } from './harness.js';

const REQUESTS = 24;

/** The `model_inference_requests` total of one push (one metric entry per request to the receiver). */
function pushedTotals(metrics: ReceivedMetric[]): number[] {
  return metrics
    .filter((metric) => metric.name === 'model_inference_requests')
    .map((metric) => metric.dataPoints.reduce((total, point) => total + (point.value ?? 0), 0));
}

// As a user would try it: the standard variables on the example gateway, nothing else.
describe.each([
  ['http/protobuf', 'cumulative'],
  ['http/json', 'delta'],
] as const)('OTLP metrics push from the example gateway process (%s, %s)', (protocol, temporality) => {
  let receiver: OtlpReceiver;
  let scraped = '';
  let exitCode: number | null;
  let pushesWhileRunning: number[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const gateway = await startGatewayProcess({
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.metricsUrl,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: temporality,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_SERVICE_NAME: 'otlp-metrics-gateway',
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0',
    });
    const answers = await Promise.all(
      Array.from({ length: REQUESTS }, (_, index) =>
        fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: index % 2 === 0 ? 'gpt-4o-mini' : 'claude-3-5-haiku',
            stream: index % 3 === 0,
            messages: [{ role: 'user', content: `hello ${index}` }],
          }),
        }).then(async (response) => {
          await response.text();
          return response.status;
        }),
      ),
    );
    expect(answers.every((status) => status === 200)).toBe(true);
    // At least one timed push arrives while the gateway runs.
    await receiver.waitForMetrics((metrics) => pushedTotals(metrics).length > 0, 10_000);
    pushesWhileRunning = pushedTotals(receiver.metrics());
    scraped = await (await fetch(`${gateway.url}/metrics`)).text();
    exitCode = await gateway.terminate();
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('pushes on the OTEL_METRIC_EXPORT_INTERVAL and once more on SIGTERM', () => {
    expect(exitCode).toBe(0);
    expect(pushesWhileRunning.length).toBeGreaterThan(0);
    const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    expect(new Set(receiver.requests().map((request) => request.contentType))).toEqual(new Set([contentType]));
    expect(receiver.requests().every((request) => request.status === 200)).toBe(true);
  });

  it('carries exactly the requests served, as /metrics does', () => {
    const totals = pushedTotals(receiver.metrics());
    // Cumulative: the last push has the total; delta: the pushes add up to it.
    const pushed = temporality === 'cumulative' ? totals.at(-1) : totals.reduce((sum, value) => sum + value, 0);
    expect(pushed).toBe(REQUESTS);
    const scrapedTotal = [...scraped.matchAll(/^model_inference_requests_total\{[^}]*\} (\d+)$/gm)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    expect(scrapedTotal).toBe(REQUESTS);
  });

  it('sends the GenAI and seed histograms with the service resource', () => {
    const metrics = receiver.metrics();
    const names = new Set(metrics.map((metric) => metric.name));
    for (const name of [
      'model_inference_duration_seconds',
      'provider_response_time_seconds',
      'gen_ai.client.operation.duration',
      'gen_ai.client.token.usage',
      'gatewayz_cost_by_provider',
      'tokens_used',
    ])
      expect(names, name).toContain(name);
    expect(metrics.every((metric) => metric.resource['service.name'] === 'otlp-metrics-gateway')).toBe(true);
  });
});

describe('OTLP metrics push from a cluster (GATEWAY_WORKERS=2)', () => {
  it('each worker pushes with its own service.instance.id, and their latest pushes add up to the requests served', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const gateway = await startGatewayProcess({
        GATEWAY_WORKERS: '2',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.metricsUrl,
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
        DEMO_LATENCY_MS: '0',
        DEMO_ERROR_RATE: '0',
      });
      const sent = 40;
      // Fresh connections, so both workers serve some of them.
      const answers = await Promise.all(
        Array.from({ length: sent }, () =>
          sendOnFreshConnection(gateway, 'POST', '/v1/chat/completions', {
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        ),
      );
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      // SIGTERM: every worker makes its final push.
      expect(await gateway.terminate()).toBe(0);
      const latest = new Map<string, number>();
      for (const metric of receiver.metrics().filter((m) => m.name === 'model_inference_requests')) {
        const instance = String(metric.resource['service.instance.id']);
        latest.set(
          instance,
          metric.dataPoints.reduce((total, point) => total + (point.value ?? 0), 0),
        );
      }
      expect(latest.size).toBe(2);
      expect([...latest.values()].reduce((total, value) => total + value, 0)).toBe(sent);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
