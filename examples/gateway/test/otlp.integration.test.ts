import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SpanKindNumber,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../../../test-support/otlp-receiver.js';
import { startGatewayProcess } from './gateway-process.js';
import { sampleSum } from './harness.js';

const PLANTED_PROMPT = `planted-prompt-${randomBytes(6).toString('hex')}`;

// The gateway passes each request's context explicitly, so traces are the same with either context
// manager; 'synchronous' (the default) carries no context across awaits at all.
describe.each(['synchronous', 'async-local-storage'])(
  'OTLP traces from the example gateway process (TELEMETRY_CONTEXT_MANAGER=%s)',
  (contextManager) => {
    let receiver: OtlpReceiver;
    let spans: ReceivedSpan[];
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    let exitCode: number | null;
    let requestCountBeforeShutdown = 0;
    let metricsText = '';

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      const gateway = await startGatewayProcess({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Nothing is exported on a timer during the test: every span must arrive through the
        // flush on SIGTERM.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_BLRP_SCHEDULE_DELAY: '600000',
        // The standard variables name the service either way (the second as the specification's
        // fallback when OTEL_SERVICE_NAME is unset).
        ...(contextManager === 'synchronous'
          ? { OTEL_SERVICE_NAME: 'otlp-test-gateway' }
          : { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,service.name=otlp-test-gateway' }),
        TELEMETRY_CONTEXT_MANAGER: contextManager,
        // Streams take a few chunks of 5 ms (latency / 20), relayed after the handler returned.
        DEMO_LATENCY_MS: '100',
        DEMO_ERROR_RATE: '0',
        DEMO_TRAFFIC_RPS: '0',
      });
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentSpanId}-01` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PLANTED_PROMPT }] }),
      });
      expect(chat.status).toBe(200);
      await chat.json();
      const stream = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-3-5-haiku',
          stream: true,
          messages: [{ role: 'user', content: PLANTED_PROMPT }],
        }),
      });
      expect(await stream.text()).toContain('[DONE]');
      metricsText = await (await fetch(`${gateway.url}/metrics`)).text();
      requestCountBeforeShutdown = receiver.requestCount;
      exitCode = await gateway.terminate();
      spans = await receiver.waitForSpans((received) => received.length >= 5, 10_000);
    }, 60_000);

    afterAll(async () => {
      await receiver?.close();
    });

    it('exits cleanly on SIGTERM and flushes every span on the way out', () => {
      expect(exitCode).toBe(0);
      expect(requestCountBeforeShutdown).toBe(0);
      // Two model requests, their two provider attempts, and the /metrics request.
      expect(spans.length).toBe(5);
    });

    it("continues the caller's trace in the server span (W3C traceparent)", () => {
      const server = spans.find((span) => span.traceId === traceId && span.kind === SpanKindNumber.SERVER);
      expect(server?.name).toBe('POST /v1/chat/completions');
      expect(server?.parentSpanId).toBe(parentSpanId);
      expect(server?.attributes['http.response.status_code']).toBe(200);
      expect(server?.resource['service.name']).toBe('otlp-test-gateway');
    });

    it('exports a GenAI CLIENT span per provider attempt under the request span', () => {
      const server = spans.find(
        (span) => span.traceId === traceId && span.kind === SpanKindNumber.SERVER,
      ) as ReceivedSpan;
      const attempt = spans.find((span) => span.traceId === traceId && span.kind === SpanKindNumber.CLIENT);
      expect(attempt?.name).toBe('chat gpt-4o-mini');
      expect(attempt?.parentSpanId).toBe(server.spanId);
      expect(attempt?.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini',
        'server.address': '127.0.0.1',
      });
      expect(attempt?.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(attempt?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);

      const streamed = spans.find((span) => span.name === 'chat claude-3-5-haiku');
      expect(streamed?.kind).toBe(SpanKindNumber.CLIENT);
      expect(streamed?.attributes['gen_ai.provider.name']).toBe('anthropic');
      expect(streamed?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    });

    it("ends a streamed request's SERVER span once the stream has been relayed, after its provider attempt", () => {
      const attempt = spans.find((span) => span.name === 'chat claude-3-5-haiku') as ReceivedSpan;
      const server = spans.find((span) => span.spanId === attempt.parentSpanId);
      expect(server?.kind).toBe(SpanKindNumber.SERVER);
      // The server span covers the whole response, not just the handler that returned the stream:
      // it lasts longer than its attempt child. (Durations, not timestamps: the SDK anchors each
      // span's wall-clock time separately, to the millisecond.)
      const duration = (span: ReceivedSpan): bigint => BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano);
      expect(duration(server!)).toBeGreaterThan(duration(attempt));
    });

    it("records a streamed request's HTTP duration to the end of its stream", () => {
      const attempts = spans.filter((span) => span.kind === SpanKindNumber.CLIENT);
      expect(attempts).toHaveLength(2);
      const attemptSeconds = attempts.reduce(
        (total, span) => total + Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e9,
        0,
      );
      // Both requests went to this route; each lasted longer than its provider attempt.
      const labels = { method: 'POST', path: '/v1/chat/completions' };
      expect(sampleSum(metricsText, 'fastapi_requests_duration_seconds_count', labels)).toBe(2);
      expect(sampleSum(metricsText, 'fastapi_requests_duration_seconds_sum', labels)).toBeGreaterThan(attemptSeconds);
    });

    it('never exports the prompt', () => {
      expect(JSON.stringify(receiver.requests())).not.toContain(PLANTED_PROMPT);
    });
  },
);
