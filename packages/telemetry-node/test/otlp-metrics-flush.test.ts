import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { flushFailures } from '../../../test-support/flush-failures.js';
import { otlpEnv, useOtlpPush } from './fixtures/otlp-metrics-push.js';
import { startTelemetry } from '../src/index.js';

const push = useOtlpPush();

/**
 * A loopback OTLP/HTTP front for `target`: it answers the first `failing` POSTs `503` after
 * `delayMs` (a backend refusing a push while a flush waits for it) and forwards the others.
 */
async function failingFront(
  target: OtlpReceiver,
  failing: number,
  delayMs: number,
): Promise<{ url: string; seen: () => number }> {
  let seen = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen++;
      if (seen <= failing) {
        setTimeout(() => response.writeHead(503).end('unavailable'), delayMs);
        return;
      }
      const headers: Record<string, string> = { 'content-type': String(request.headers['content-type']) };
      if (request.headers['content-encoding'] !== undefined)
        headers['content-encoding'] = String(request.headers['content-encoding']);
      void fetch(target.metricsUrl, { method: 'POST', headers, body: Buffer.concat(chunks) }).then(
        async (answer) =>
          response
            .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
            .end(Buffer.from(await answer.arrayBuffer())),
        () => response.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fronts.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, seen: () => seen };
}

const fronts: Server[] = [];
afterEach(async () => {
  await Promise.all(
    fronts.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())),
  );
});

/** Starts a push every 500 ms through `front`; the 503 reaches the exporter before its timeout. */
function startPushing(target: OtlpReceiver, url: string, temporality: string): void {
  push.running = startTelemetry({
    traces: false,
    hostMetrics: false,
    runtimeMetrics: false,
    env: otlpEnv(target, {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: temporality,
    }),
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

describe('OTLP metrics forceFlush: a scheduled push refused while the flush waits', () => {
  it.each(['delta', 'cumulative'])(
    '%s: the flush resolves when its own push, carrying that data, is accepted',
    async (temporality) => {
      const target = await push.receiver();
      const front = await failingFront(target, 1, 300);
      startPushing(target, front.url, temporality);
      push.running!.telemetry.incrementCostByProvider('openai', 1);
      await waitFor(() => front.seen() === 1);
      push.running!.telemetry.incrementCostByProvider('openai', 100);
      await expect(push.running!.forceFlush()).resolves.toBeUndefined();
      const cost = target
        .metrics()
        .filter((metric) => metric.name === 'gatewayz_cost_by_provider')
        .map((metric) => metric.dataPoints.reduce((total, point) => total + (point.value ?? 0), 0));
      // Delta: the refused push's 1 went out again with the flush's 100; cumulative: 101 at once.
      expect(cost[0]).toBe(101);
      if (temporality === 'delta') expect(cost.reduce((total, value) => total + value, 0)).toBe(101);
    },
  );

  it('shutdown: its final push carries the refused scheduled one; it reports nothing lost', async () => {
    const errors: string[] = [];
    const ignore = (): void => {};
    diag.setLogger(
      { error: (message) => void errors.push(message), warn: ignore, info: ignore, debug: ignore, verbose: ignore },
      DiagLogLevel.ERROR,
    );
    try {
      const target = await push.receiver();
      const front = await failingFront(target, 1, 300);
      startPushing(target, front.url, 'cumulative');
      push.running!.telemetry.incrementCostByProvider('openai', 1);
      await waitFor(() => front.seen() === 1);
      await push.running!.shutdown();
      push.running = undefined;
      // The SDK's reader logs the refused push itself when it happens; shutdown reports no loss.
      expect(errors.filter((message) => message.includes('not exported'))).toEqual([]);
      expect(target.metrics().find((metric) => metric.name === 'gatewayz_cost_by_provider')?.dataPoints[0]?.value).toBe(
        1,
      );
    } finally {
      diag.disable();
    }
  });

  it('a flush whose own push is refused still rejects', async () => {
    const target = await push.receiver();
    const front = await failingFront(target, 2, 300);
    startPushing(target, front.url, 'delta');
    push.running!.telemetry.incrementCostByProvider('openai', 1);
    await waitFor(() => front.seen() === 1);
    const failures = await flushFailures(push.running!);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure).toMatch(/metrics not exported \(http_error\)/);
    expect(target.metrics()).toEqual([]);
  });
});
