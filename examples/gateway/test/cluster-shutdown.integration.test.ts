import { describe, expect, it } from 'vitest';
import { SpanKindNumber, startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startGatewayProcess } from './gateway-process.js';

/** Upstream latency of the demo's `gpt-4o`: the request in flight at SIGTERM takes this long. */
const LATENCY_MS = 4000;

async function withReceiver(test: (receiver: OtlpReceiver) => Promise<void>): Promise<void> {
  const receiver = await startOtlpReceiver();
  try {
    await test(receiver);
  } finally {
    await receiver.close();
  }
}

/**
 * A two-worker cluster exporting spans only on shutdown, one slow chat request in flight, then
 * SIGTERM to the primary: the worker's shutdown lasts as long as that request (the drain waits for
 * it), then it flushes the request's spans.
 */
async function stopDuringSlowRequest(
  receiver: OtlpReceiver,
  env: Record<string, string>,
): Promise<{ exitCode: number | null; stoppedAfterMs: number; status: number | undefined; output: string }> {
  const gateway = await startGatewayProcess({
    GATEWAY_WORKERS: '2',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '600000',
    DEMO_LATENCY_MS: String(LATENCY_MS),
    DEMO_ERROR_RATE: '0',
    ...env,
  });
  try {
    const request = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
    }).then(
      async (response) => {
        await response.text();
        return response.status;
      },
      () => undefined,
    );
    // Let the request reach the slow upstream, then stop the cluster.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const exitCode = await gateway.terminate();
    const stoppedAfterMs = Date.now() - started;
    return { exitCode, stoppedAfterMs, status: await request, output: gateway.output() };
  } finally {
    if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  }
}

const serverSpans = (receiver: OtlpReceiver): number =>
  receiver.spans().filter((span) => span.kind === SpanKindNumber.SERVER && span.name === 'POST /v1/chat/completions')
    .length;

describe('cluster shutdown deadline (WORKER_KILL_TIMEOUT_MS)', () => {
  it('waits for a worker whose shutdown is slow but within the deadline: its spans reach the collector first', async () => {
    await withReceiver(async (receiver) => {
      const result = await stopDuringSlowRequest(receiver, { WORKER_KILL_TIMEOUT_MS: '15000' });
      expect(result.status).toBe(200);
      expect(result.exitCode).toBe(0);
      expect(result.stoppedAfterMs).toBeGreaterThan(LATENCY_MS - 1000);
      expect(result.output).toContain('"worker_kill_timeout_ms":"15000"');
      expect(result.output).not.toContain('killing them');
      // Exported on shutdown (10-minute schedule), before the primary exited.
      expect(serverSpans(receiver)).toBe(1);
    });
  }, 60_000);

  it('kills workers still shutting down at the configured deadline, says so and exits 1', async () => {
    await withReceiver(async (receiver) => {
      const result = await stopDuringSlowRequest(receiver, { WORKER_KILL_TIMEOUT_MS: '1000' });
      // Killed at 1 s, long before the request (and so the worker's shutdown) could end.
      expect(result.stoppedAfterMs).toBeLessThan(LATENCY_MS - 1000);
      expect(result.exitCode).toBe(1);
      expect(result.status).toBeUndefined();
      expect(result.output).toContain('workers still shutting down at the deadline; killing them');
      expect(serverSpans(receiver)).toBe(0);
    });
  }, 60_000);

  it('refuses a WORKER_KILL_TIMEOUT_MS that is not a whole number of milliseconds from 1000', async () => {
    await expect(startGatewayProcess({ GATEWAY_WORKERS: '2', WORKER_KILL_TIMEOUT_MS: '500' })).rejects.toThrow(
      /WORKER_KILL_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 3600000/,
    );
  }, 30_000);
});
