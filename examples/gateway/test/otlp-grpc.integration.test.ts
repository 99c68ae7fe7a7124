import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKindNumber, type ReceivedSpan } from '../../../test-support/otlp-receiver.js';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../../test-support/otlp-grpc-receiver.js';
import { startGatewayProcess } from './gateway-process.js';
import { sampleSum } from './harness.js';

// As a user would switch a gateway to a collector's gRPC port: two standard variables, nothing else.
describe('OTLP/gRPC from the example gateway process (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)', () => {
  let receiver: OtlpGrpcReceiver;
  let spans: ReceivedSpan[];
  let exitCode: number | null;
  let scraped = '';
  let callsBeforeShutdown = -1;
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');

  beforeAll(async () => {
    receiver = await startOtlpGrpcReceiver();
    const gateway = await startGatewayProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=gateway-test',
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      OTEL_SERVICE_NAME: 'grpc-gateway',
      // Nothing leaves on a timer: what arrives came through the flush on SIGTERM.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_BLRP_SCHEDULE_DELAY: '600000',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0',
    });
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentSpanId}-01` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(chat.status).toBe(200);
    await chat.json();
    scraped = await (await fetch(`${gateway.url}/metrics`)).text();
    callsBeforeShutdown = receiver.calls().length;
    exitCode = await gateway.terminate();
    spans = await receiver.waitForSpans((received) => received.some((span) => span.traceId === traceId), 10_000);
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('exits cleanly and flushes traces and metrics over gRPC on SIGTERM, with the configured metadata', () => {
    expect(exitCode).toBe(0);
    expect(callsBeforeShutdown).toBe(0);
    const calls = receiver.calls();
    expect(new Set(calls.map((call) => call.signal))).toEqual(new Set(['traces', 'metrics', 'logs']));
    expect(calls.every((call) => call.status === 0)).toBe(true);
    expect(calls.every((call) => call.metadata['x-tenant'] === 'gateway-test')).toBe(true);
  });

  it("exports the request's server span and its GenAI attempt span", () => {
    const server = spans.find((span) => span.traceId === traceId && span.kind === SpanKindNumber.SERVER);
    expect(server).toMatchObject({
      name: 'POST /v1/chat/completions',
      parentSpanId,
      resource: { 'service.name': 'grpc-gateway' },
    });
    const attempt = spans.find((span) => span.traceId === traceId && span.kind === SpanKindNumber.CLIENT);
    expect(attempt).toMatchObject({
      name: 'chat gpt-4o-mini',
      parentSpanId: server?.spanId,
      attributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' },
    });
  });

  it("pushes the request's metrics, equal to what /metrics serves", () => {
    const metrics = receiver.metrics();
    const requests = metrics
      .filter((metric) => metric.name === 'model_inference_requests')
      .flatMap((metric) => metric.dataPoints.map((point) => point.value ?? 0));
    expect(requests.reduce((total, value) => total + value, 0)).toBe(1);
    expect(sampleSum(scraped, 'model_inference_requests_total', {})).toBe(1);
    const names = new Set(metrics.map((metric) => metric.name));
    for (const name of ['provider_response_time_seconds', 'gen_ai.client.operation.duration', 'tokens_used'])
      expect(names, name).toContain(name);
    expect(metrics.every((metric) => metric.resource['service.name'] === 'grpc-gateway')).toBe(true);
    // No export failed or dropped anything on the way.
    const failures = metrics.filter((metric) => metric.name === 'gatewayz_telemetry_export_failures');
    expect(failures.flatMap((metric) => metric.dataPoints.map((point) => point.value))).toEqual([]);
  });
});
