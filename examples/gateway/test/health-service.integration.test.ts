import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { sampleSum } from './harness.js';

/** A stand-in for the external health service of seed 004, answering its four endpoints. */
function startHealthService(): Promise<{ url: string; server: Server; failing: { value: boolean } }> {
  const failing = { value: false };
  const bodies: Record<string, unknown> = {
    '/health': { status: 'healthy', monitoring_active: true },
    '/status': {
      tracked_models: 50,
      tracked_providers: 16,
      tracked_gateways: 8,
      active_incidents: 2,
      status_distribution: { healthy: 14, degraded: 1, down: 1 },
    },
    '/metrics': { tracked_models: 50 },
    '/cache/stats': { redis: { available: true }, system_health: { available: true } },
  };
  const server = createServer((request, response) => {
    const body = bodies[request.url ?? ''];
    if (failing.value || body === undefined) {
      response.writeHead(500).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, failing }),
    ),
  );
}

describe('HEALTH_SERVICE_URL in the example gateway', () => {
  let service: Awaited<ReturnType<typeof startHealthService>>;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    service = await startHealthService();
    gateway = await startGatewayProcess({
      HEALTH_SERVICE_URL: service.url,
      HEALTH_SERVICE_INTERVAL_MS: '200',
      DEMO_LATENCY_MS: '0',
    });
  }, 30_000);
  afterAll(async () => {
    await gateway?.terminate();
    service?.server.close();
  });

  const scrapeUntil = async (predicate: (text: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const text = await (await fetch(`${gateway.url}/prometheus/metrics/all`)).text();
      if (predicate(text) || Date.now() > deadline) return text;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('exports the health service figures under the seed 004 names', async () => {
    const text = await scrapeUntil((body) => sampleSum(body, 'gatewayz_health_service_up') === 1);
    expect(sampleSum(text, 'gatewayz_health_service_up')).toBe(1);
    expect(sampleSum(text, 'gatewayz_health_tracked_models')).toBe(50);
    expect(sampleSum(text, 'gatewayz_health_tracked_providers')).toBe(16);
    expect(sampleSum(text, 'gatewayz_health_active_incidents')).toBe(2);
    expect(sampleSum(text, 'gatewayz_health_status_distribution', { status: 'degraded' })).toBe(1);
    expect(sampleSum(text, 'gatewayz_health_cache_available', { cache_type: 'redis' })).toBe(1);
    expect(sampleSum(text, 'gatewayz_health_service_last_successful_scrape')).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('marks the service down and counts scrape errors when it fails, and keeps polling', async () => {
    service.failing.value = true;
    const text = await scrapeUntil((body) => sampleSum(body, 'gatewayz_health_service_scrape_errors_total') >= 2);
    expect(sampleSum(text, 'gatewayz_health_service_up')).toBe(0);
    expect(sampleSum(text, 'gatewayz_health_service_scrape_errors_total')).toBeGreaterThanOrEqual(2);
    service.failing.value = false;
    const recovered = await scrapeUntil((body) => sampleSum(body, 'gatewayz_health_service_up') === 1);
    expect(sampleSum(recovered, 'gatewayz_health_service_up')).toBe(1);
  });
});
