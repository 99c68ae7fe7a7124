import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startDemoTraffic } from '../src/demo-traffic.js';
import { startGatewayProcess } from './gateway-process.js';

/*
 * The demo traffic on SIGTERM: its requests in flight are drained with every other request, so the
 * gateway stops accepting at once and ends within its drain deadline, not when the slowest demo
 * request is answered; a demo request that can never be answered is aborted.
 */

/** Simulated providers slower than any bound below: a demo request in flight at SIGTERM waits this long. */
const SLOW_PROVIDERS = {
  DEMO_LATENCY_MS: '25000',
  DEMO_ERROR_RATE: '0',
  DEMO_TRAFFIC_RPS: '20',
  SHUTDOWN_TIMEOUT_MS: '1000',
};

/** SIGTERM with demo requests in flight: how long the process took, its exit code, and a request sent meanwhile. */
async function stopWithDemoRequestsInFlight(env: Record<string, string>): Promise<{
  exitCode: number | null;
  stoppedAfterMs: number;
  lateRequest: string;
  output: string;
}> {
  const gateway = await startGatewayProcess({ ...SLOW_PROVIDERS, ...env });
  try {
    // At 20 requests/s, about ten demo requests are waiting on the slow providers after 600 ms.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const started = Date.now();
    const exited = gateway.terminate();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lateRequest = await fetch(`${gateway.url}/v1/models`).then(
      (response) => `answered ${response.status}`,
      (error: unknown) => `refused: ${String((error as { cause?: { code?: string } }).cause?.code)}`,
    );
    const exitCode = await exited;
    return { exitCode, stoppedAfterMs: Date.now() - started, lateRequest, output: gateway.output() };
  } finally {
    if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  }
}

describe('demo traffic at shutdown', () => {
  it('does not keep a single-process gateway accepting, nor running past its drain deadline', async () => {
    const { exitCode, stoppedAfterMs, lateRequest, output } = await stopWithDemoRequestsInFlight({});
    expect(exitCode).toBe(0);
    expect(lateRequest).toBe('refused: ECONNREFUSED');
    // Drain deadline 1 s, then the OTLP-less telemetry shutdown: far below the providers' 20–32 s.
    expect(stoppedAfterMs).toBeLessThan(15_000);
    expect(output).toContain('"msg":"stopped"');
  });

  it('signals the cluster workers at once, so they drain and the cluster ends within their deadline', async () => {
    const { exitCode, stoppedAfterMs, output } = await stopWithDemoRequestsInFlight({ GATEWAY_WORKERS: '2' });
    expect(exitCode).toBe(0);
    expect(stoppedAfterMs).toBeLessThan(15_000);
    expect(output).toContain('"workers_failed":"0"');
    // Both workers got the signal and stopped themselves (the primary's line names its role).
    const workerStops = output
      .split('\n')
      .filter((line) => line.includes('"msg":"shutting down"') && !line.includes('"role":"cluster-primary"'));
    expect(workerStops).toHaveLength(2);
  });

  it('aborts on close() a demo request that is never answered, and sends none after stop()', async () => {
    const received: IncomingMessage[] = [];
    const closed: Array<Promise<void>> = [];
    // A server that takes every request and never answers it.
    const silent = createServer((incoming) => {
      received.push(incoming);
      closed.push(new Promise((resolve) => incoming.socket.once('close', () => resolve())));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const traffic = startDemoTraffic(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, 50, [undefined]);
      while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      traffic.stop();
      const sentAtStop = traffic.sent;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(traffic.sent).toBe(sentAtStop);
      // Without the abort, close() would wait for answers that never come (the test would time out).
      await traffic.close();
      await Promise.all(closed);
      expect(received.length).toBe(sentAtStop);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
