import { describe, expect, it } from 'vitest';
import { SpanKindNumber, startOtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { freePort } from '../../../test-support/ports.js';
import { startGatewayProcess } from './gateway-process.js';

const chat = (url: string, stream: boolean): Promise<Response> =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'hello' }] }),
  });

describe('graceful shutdown of the gateway process', () => {
  it('on SIGTERM stops accepting, finishes in-flight requests (streams included) and flushes every span', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const gateway = await startGatewayProcess({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        DEMO_LATENCY_MS: '400',
        DEMO_ERROR_RATE: '0',
      });
      const inFlight = [false, true, false, true, false, true].map(async (stream) => {
        const response = await chat(gateway.url, stream);
        return { status: response.status, body: await response.text(), stream };
      });
      // Let the requests reach the (slow) upstream, then ask the gateway to stop.
      await new Promise((resolve) => setTimeout(resolve, 150));
      const exit = gateway.terminate();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(chat(gateway.url, false)).rejects.toThrow();
      const results = await Promise.all(inFlight);
      for (const result of results) {
        expect(result.status).toBe(200);
        if (result.stream) expect(result.body.trim().endsWith('data: [DONE]')).toBe(true);
        else expect(JSON.parse(result.body).choices[0].message.content.length).toBeGreaterThan(0);
      }
      expect(await exit).toBe(0);
      expect(gateway.output()).toContain('"stopped"');
      // Nothing was exported on a timer (10-minute schedule): every span came with the shutdown flush.
      const spans = receiver.spans();
      expect(
        spans.filter((span) => span.kind === SpanKindNumber.SERVER && span.name === 'POST /v1/chat/completions'),
      ).toHaveLength(6);
      expect(spans.filter((span) => span.kind === SpanKindNumber.CLIENT && span.name === 'chat gpt-4o')).toHaveLength(
        6,
      );
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('keeps serving when the OTLP endpoint is down, and still exits cleanly', async () => {
    const deadPort = await freePort();
    const gateway = await startGatewayProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0',
    });
    for (let index = 0; index < 60; index++) {
      const response = await chat(gateway.url, index % 3 === 0);
      expect(response.status).toBe(200);
      await response.text();
    }
    const started = Date.now();
    expect(await gateway.terminate()).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
