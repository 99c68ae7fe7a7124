import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import {
  startHealthServicePoller,
  type HealthServicePoller,
  type HealthServicePollerOptions,
} from '../src/health-service/index.js';
import {
  CollectingDiagLogger,
  ManualClock,
  createTelemetry,
  type CollectedMetrics,
  type MetricsHarness,
} from '../../telemetry/test/helpers.js';

/** How the fake health service answers one path. */
type Behaviour =
  | { kind: 'json'; body: unknown; status?: number }
  | { kind: 'raw'; body: string; contentType: string; status?: number }
  /** Never answers. */
  | { kind: 'hang' }
  /** Sends headers and half a body, then goes silent. */
  | { kind: 'stall_body' }
  /** Sends a cut-off JSON body and ends the response. */
  | { kind: 'truncated' }
  /** Destroys the connection without answering. */
  | { kind: 'close' }
  /** Sends headers and part of the body, then destroys the connection. */
  | { kind: 'close_mid_body' };

const GOOD: Record<string, Behaviour> = {
  '/health': { kind: 'json', body: { status: 'healthy', monitoring_active: true } },
  '/status': {
    kind: 'json',
    body: {
      tracked_models: 50,
      tracked_providers: 16,
      tracked_gateways: 8,
      active_incidents: 2,
      status_distribution: { healthy: 14, degraded: 1, down: 1 },
    },
  },
  '/metrics': { kind: 'json', body: { total_checks: 1234, healthy_models: 14 } },
  '/cache/stats': { kind: 'json', body: { redis: { available: true, hits: 10 }, system_health: { available: true } } },
};

/** A real `node:http` health service on loopback whose answers the tests choose per path. */
class FakeHealthService {
  readonly requests: string[] = [];
  private readonly routes = new Map<string, Behaviour>(Object.entries(GOOD));
  private readonly server: Server;
  url = '';

  constructor(private readonly prefix = '') {
    this.server = createServer((request, response) => this.handle(request, response));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${this.prefix}`;
    return this;
  }

  set(path: string, behaviour: Behaviour): this {
    this.routes.set(path, behaviour);
    return this;
  }

  count(path: string): number {
    return this.requests.filter((requested) => requested === path).length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname.slice(this.prefix.length);
    this.requests.push(path);
    const behaviour = this.routes.get(path) ?? { kind: 'json', status: 404, body: { error: 'not found' } };
    switch (behaviour.kind) {
      case 'json':
        response.writeHead(behaviour.status ?? 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(behaviour.body));
        return;
      case 'raw':
        response.writeHead(behaviour.status ?? 200, { 'content-type': behaviour.contentType });
        response.end(behaviour.body);
        return;
      case 'hang':
        return;
      case 'stall_body':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"tracked_models": 5');
        return;
      case 'truncated':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"tracked_models": 50, "status_distribution": {"healthy": 1');
        return;
      case 'close':
        request.socket.destroy();
        return;
      case 'close_mid_body':
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
        response.write('{"redis": {"avail');
        setImmediate(() => request.socket.destroy());
        return;
    }
  }
}

const START = Date.UTC(2025, 11, 24, 12, 0, 0);
const INTERVAL = 30_000;
/** The deadline in the tests about timeouts: small, so no test waits long for one to fire. */
const TIMEOUT = 250;
/** The deadline everywhere else: loopback answers must never hit it, even on a loaded machine. */
const REQUEST_TIMEOUT = 5_000;

let logger: CollectingDiagLogger;
const harnesses: MetricsHarness[] = [];
const pollers: HealthServicePoller[] = [];
const services: FakeHealthService[] = [];

beforeAll(async () => {
  // The first fetch of a process loads its HTTP client; keep that out of the deadlines under test.
  const service = await new FakeHealthService().start();
  await (await fetch(`${service.url}/health`)).text();
  await service.close();
});

beforeEach(() => {
  logger = new CollectingDiagLogger().install();
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
  await Promise.all(services.splice(0).map((service) => service.close()));
  CollectingDiagLogger.uninstall();
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

async function setup(overrides: Partial<HealthServicePollerOptions> = {}, prefix = '') {
  const service = await new FakeHealthService(prefix).start();
  services.push(service);
  const { telemetry, harness, collect } = createTelemetry();
  harnesses.push(harness);
  const clock = new ManualClock(START);
  const poller = startHealthServicePoller({
    url: service.url,
    intervalMs: INTERVAL,
    timeoutMs: REQUEST_TIMEOUT,
    clock,
    telemetry,
    runImmediately: false,
    ...overrides,
  });
  pollers.push(poller);
  return { service, telemetry, collect, clock, poller };
}

/**
 * Wait until the poller has finished `count` polls. Polls started by the injected clock's timer run
 * over real loopback HTTP, so they may or may not have finished when `advance()` returns.
 */
async function polled(poller: HealthServicePoller, count: number): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (poller.toJSON().polls < count) {
    if (performance.now() > deadline)
      throw new Error(`poller finished ${poller.toJSON().polls} polls, expected ${count}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
  }
}

function gauges(collected: CollectedMetrics) {
  return {
    up: collected.value('gatewayz_health_service_up'),
    monitoringActive: collected.value('gatewayz_health_monitoring_active'),
    trackedModels: collected.value('gatewayz_health_tracked_models'),
    trackedProviders: collected.value('gatewayz_health_tracked_providers'),
    trackedGateways: collected.value('gatewayz_health_tracked_gateways'),
    activeIncidents: collected.value('gatewayz_health_active_incidents'),
    scrapeErrors: collected.value('gatewayz_health_service_scrape_errors'),
    lastSuccessfulScrape: collected.value('gatewayz_health_service_last_successful_scrape'),
  };
}

function distribution(collected: CollectedMetrics): Record<string, number> {
  return Object.fromEntries(
    collected
      .points('gatewayz_health_status_distribution')
      .map((point) => [String(point.attributes['status']), point.value as number]),
  );
}

function caches(collected: CollectedMetrics): Record<string, number> {
  return Object.fromEntries(
    collected
      .points('gatewayz_health_cache_available')
      .map((point) => [String(point.attributes['cache_type']), point.value as number]),
  );
}

describe('startHealthServicePoller: options', () => {
  it.each([
    [{ url: '' }, 'url'],
    [{ url: 'health-service:8000' }, 'url'],
    [{ url: 'ftp://health-service' }, 'url'],
    [{ url: 'http://health-service?x=1' }, 'url'],
    [{ url: 'http://health-service', intervalMs: 5 }, 'intervalMs'],
    [{ url: 'http://health-service', intervalMs: Number.NaN }, 'intervalMs'],
    [{ url: 'http://health-service', timeoutMs: 0 }, 'timeoutMs'],
    [{ url: 'http://health-service', maxResponseBytes: 1.5 }, 'maxResponseBytes'],
  ] as Array<[HealthServicePollerOptions, string]>)(
    'rejects %j with a TelemetryConfigurationError naming %s',
    (options, option) => {
      let thrown: unknown;
      try {
        startHealthServicePoller({ ...options, clock: new ManualClock() });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
      expect((thrown as TelemetryConfigurationError).option).toBe(option);
      expect((thrown as Error).message).toMatch(/expected|pass/);
    },
  );

  // Node.js fires a timer longer than 2^31 - 1 ms after 1 ms: polls back to back, every request timed out.
  it.each([
    ['intervalMs', { intervalMs: 3_000_000_000 }],
    ['timeoutMs', { timeoutMs: 3_000_000_000 }],
    ['intervalMs', { intervalMs: 2 ** 31 }],
    ['timeoutMs', { timeoutMs: 2 ** 31 }],
  ] as Array<[string, Partial<HealthServicePollerOptions>]>)(
    'refuses %s above the longest timer delay, naming the option and the limit',
    (option, overrides) => {
      let thrown: unknown;
      try {
        startHealthServicePoller({ url: 'http://health-service', clock: new ManualClock(), ...overrides });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
      expect((thrown as TelemetryConfigurationError).option).toBe(option);
      expect((thrown as Error).message).toContain('2147483647');
    },
  );

  it('refuses a header it cannot send, naming the key and not the value (a secret)', () => {
    const start = (headers: Record<string, unknown>) => (): unknown =>
      startHealthServicePoller({
        url: 'http://health-service',
        clock: new ManualClock(),
        headers: headers as Record<string, string>,
      });
    for (const headers of [{ authorization: 'Bearer s3cret\n' }, { 'bad key': 'v' }, { authorization: 5 }]) {
      let thrown: unknown;
      try {
        start(headers)();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
      expect((thrown as TelemetryConfigurationError).option).toBe('headers');
      expect((thrown as Error).message).toContain(JSON.stringify(Object.keys(headers)[0]));
      expect((thrown as Error).message).not.toContain('s3cret');
    }
  });

  // A null from a config file is a mistake to report, not a request for the default.
  it.each(['intervalMs', 'timeoutMs', 'maxResponseBytes'])('refuses %s: null, naming the option', (option) => {
    let thrown: unknown;
    try {
      startHealthServicePoller({ url: 'http://health-service', clock: new ManualClock(), [option]: null });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
    expect((thrown as TelemetryConfigurationError).option).toBe(option);
    expect((thrown as Error).message).toContain('got null');
  });

  it('accepts an intervalMs and a timeoutMs of exactly the longest timer delay', async () => {
    const poller = startHealthServicePoller({
      url: 'http://health-service',
      clock: new ManualClock(),
      intervalMs: 2_147_483_647,
      timeoutMs: 2_147_483_647,
      runImmediately: false,
    });
    expect(poller.toJSON()).toMatchObject({ intervalMs: 2_147_483_647, timeoutMs: 2_147_483_647 });
    await poller.stop();
  });
});

describe('startHealthServicePoller: a healthy service', () => {
  it('polls all four endpoints and sets every gatewayz_health_* gauge with the seed labels', async () => {
    const { service, collect, poller } = await setup();
    const poll = await poller.tick();

    expect(poll.ok).toBe(true);
    expect(poll.up).toBe(true);
    expect([...service.requests].sort()).toEqual(['/cache/stats', '/health', '/metrics', '/status']);
    const collected = await collect();
    expect(gauges(collected)).toEqual({
      up: 1,
      monitoringActive: 1,
      trackedModels: 50,
      trackedProviders: 16,
      trackedGateways: 8,
      activeIncidents: 2,
      scrapeErrors: 0,
      lastSuccessfulScrape: START / 1000,
    });
    expect(distribution(collected)).toEqual({ healthy: 14, degraded: 1, down: 1 });
    expect(caches(collected)).toEqual({ redis: 1, system_health: 1 });
    expect(poller.toJSON()).toMatchObject({ polls: 1, failedPolls: 0, consecutiveFailures: 0, lastSuccessAt: START });
  });

  it('polls at once, then every intervalMs after the previous poll ended, on the injected clock', async () => {
    const { service, clock, poller } = await setup({ runImmediately: true });
    expect(service.requests).toEqual([]);
    await clock.advance(0);
    await polled(poller, 1);
    expect(service.count('/health')).toBe(1);
    expect(clock.pendingTimers).toBe(1);

    await clock.advance(INTERVAL - 1);
    expect(service.count('/health')).toBe(1);
    await clock.advance(1);
    await polled(poller, 2);
    expect(service.count('/health')).toBe(2);
    expect(poller.toJSON().polls).toBe(2);
  });

  it('waits one interval for the first poll with runImmediately: false', async () => {
    const { service, clock, poller } = await setup();
    await clock.advance(INTERVAL - 1);
    expect(service.requests).toEqual([]);
    await clock.advance(1);
    await polled(poller, 1);
    expect(service.count('/status')).toBe(1);
  });

  it('keeps a base path and strips a trailing slash', async () => {
    const service = await new FakeHealthService('/hs/v1').start();
    services.push(service);
    const { telemetry, harness } = createTelemetry();
    harnesses.push(harness);
    const poller = startHealthServicePoller({
      url: `${service.url}/`,
      clock: new ManualClock(START),
      telemetry,
      runImmediately: false,
    });
    pollers.push(poller);
    const poll = await poller.tick();
    expect(poll.ok).toBe(true);
    expect(poll.endpoints.cacheStats.url).toBe(`${service.url}/cache/stats`);
  });

  it('passes an AbortSignal on every request of an injected fetch', async () => {
    const signals: unknown[] = [];
    const counting: typeof fetch = (input, init) => {
      signals.push(init?.signal);
      return fetch(input, init);
    };
    const { poller } = await setup({ fetch: counting });
    await poller.tick();
    await poller.tick();
    expect(signals).toHaveLength(8);
    for (const signal of signals) expect(signal).toBeInstanceOf(AbortSignal);
  });
});

describe('startHealthServicePoller: failures', () => {
  it('counts an HTTP 500, sets up to 0, keeps the last successful scrape time and keeps polling', async () => {
    const { service, collect, clock, poller } = await setup({ runImmediately: true });
    await clock.advance(0);
    await polled(poller, 1);

    service.set('/status', { kind: 'json', status: 500, body: { error: 'boom' } });
    service.set('/cache/stats', {
      kind: 'json',
      body: { redis: { available: false }, system_health: { available: true } },
    });
    await clock.advance(INTERVAL);
    await polled(poller, 2);
    const failed = poller.lastPoll();
    expect(failed?.ok).toBe(false);
    expect(failed?.endpoints.status).toMatchObject({ ok: false, httpStatus: 500, failure: { reason: 'http_error' } });

    let collected = await collect();
    expect(gauges(collected)).toMatchObject({
      up: 0,
      scrapeErrors: 1,
      lastSuccessfulScrape: START / 1000,
      trackedModels: 50,
    });
    // The endpoints that answered still update their gauges.
    expect(caches(collected)).toEqual({ redis: 0, system_health: 1 });
    expect(clock.pendingTimers).toBe(1);

    await clock.advance(INTERVAL);
    await polled(poller, 3);
    collected = await collect();
    expect(gauges(collected).scrapeErrors).toBe(2);
    expect(poller.toJSON()).toMatchObject({ polls: 3, failedPolls: 2, consecutiveFailures: 2 });

    service.set('/status', GOOD['/status'] as Behaviour);
    await clock.advance(INTERVAL);
    await polled(poller, 4);
    collected = await collect();
    expect(gauges(collected)).toMatchObject({
      up: 1,
      scrapeErrors: 2,
      lastSuccessfulScrape: (START + 3 * INTERVAL) / 1000,
    });
    expect(poller.toJSON().consecutiveFailures).toBe(0);
  });

  it('times out a request that is never answered, within timeoutMs', async () => {
    const { service, collect, poller } = await setup({ timeoutMs: TIMEOUT });
    service.set('/cache/stats', { kind: 'hang' });
    const started = performance.now();
    const poll = await poller.tick();
    const elapsed = performance.now() - started;

    expect(poll.endpoints.cacheStats.failure?.reason).toBe('timeout');
    expect(poll.endpoints.cacheStats.failure?.message).toContain(`timed out after ${TIMEOUT} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(elapsed).toBeLessThan(TIMEOUT + 2_000);
    expect(poll.endpoints.health.ok).toBe(true);
    expect(gauges(await collect())).toMatchObject({ up: 0, scrapeErrors: 1 });
  });

  it('times out a response whose body stalls after the headers', async () => {
    const { service, poller } = await setup({ timeoutMs: TIMEOUT });
    service.set('/status', { kind: 'stall_body' });
    const poll = await poller.tick();
    expect(poll.endpoints.status).toMatchObject({ ok: false, httpStatus: 200, failure: { reason: 'timeout' } });
  });

  it('fails on truncated JSON, on JSON that is not an object, and keeps the last good values', async () => {
    const { service, collect, poller } = await setup();
    await poller.tick();

    service.set('/status', { kind: 'truncated' });
    service.set('/metrics', { kind: 'raw', contentType: 'application/json', body: '[1, 2, 3]' });
    service.set('/health', { kind: 'raw', contentType: 'application/json', body: 'null' });
    const poll = await poller.tick();
    expect(poll.endpoints.status.failure?.reason).toBe('malformed_json');
    expect(poll.endpoints.metrics.failure).toMatchObject({
      reason: 'malformed_json',
      message: expect.stringContaining('an array'),
    });
    expect(poll.endpoints.health.failure?.reason).toBe('malformed_json');
    const collected = await collect();
    // One failed poll is one error, however many of its requests failed.
    expect(gauges(collected)).toMatchObject({ up: 0, scrapeErrors: 1, trackedModels: 50, monitoringActive: 1 });
    expect(distribution(collected)).toEqual({ healthy: 14, degraded: 1, down: 1 });
  });

  it('counts connections closed without an answer or in the middle of the body', async () => {
    const { service, collect, poller } = await setup();
    service.set('/health', { kind: 'close' });
    service.set('/cache/stats', { kind: 'close_mid_body' });
    const poll = await poller.tick();
    expect(poll.endpoints.health.failure?.reason).toBe('network_error');
    expect(poll.endpoints.cacheStats.failure?.reason).toBe('network_error');
    expect(gauges(await collect())).toMatchObject({ up: 0, scrapeErrors: 1 });
  });

  it('counts a refused connection and logs one error per outage, not one per poll', async () => {
    const { service, collect, poller } = await setup();
    await service.close();
    for (let index = 0; index < 3; index++) {
      const poll = await poller.tick();
      expect(poll.endpoints.status.failure?.reason).toBe('network_error');
    }
    expect(gauges(await collect())).toMatchObject({ up: 0, scrapeErrors: 3 });
    const errors = logger.errors.filter((entry) => entry.message.includes('health service poll failed'));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('ECONNREFUSED');
  });

  it('refuses a body larger than maxResponseBytes', async () => {
    const { service, poller } = await setup({ maxResponseBytes: 64 });
    service.set('/status', { kind: 'json', body: { tracked_models: 1, padding: 'x'.repeat(200) } });
    const poll = await poller.tick();
    expect(poll.endpoints.status.failure?.reason).toBe('response_too_large');
  });

  it('reads 0 as up when /health answers 200 but reports the service unhealthy, without a scrape error', async () => {
    const { service, collect, clock, poller } = await setup();
    service.set('/health', { kind: 'json', body: { status: 'unhealthy', monitoring_active: false } });
    await clock.advance(5_000);
    const poll = await poller.tick();
    expect(poll).toMatchObject({
      ok: true,
      up: false,
      values: { serviceStatus: 'unhealthy', monitoringActive: false },
    });
    expect(gauges(await collect())).toMatchObject({
      up: 0,
      scrapeErrors: 0,
      monitoringActive: 0,
      lastSuccessfulScrape: (START + 5_000) / 1000,
    });
  });
});

describe('startHealthServicePoller: liberal reading', () => {
  it('skips malformed values field by field and still sets the rest', async () => {
    const { service, collect, poller } = await setup();
    await poller.tick();
    service.set('/status', {
      kind: 'json',
      body: {
        tracked_models: -3,
        tracked_providers: 'NaN',
        tracked_gateways: { many: true },
        active_incidents: 4,
        status_distribution: { healthy: 20, degraded: -1, down: 'lots', '???': 3 },
      },
    });
    service.set('/health', { kind: 'json', body: { status: 'healthy', monitoring_active: 'maybe' } });
    service.set('/cache/stats', {
      kind: 'json',
      body: { redis: { available: 'perhaps' }, system_health: { available: false } },
    });
    const poll = await poller.tick();

    expect(poll.ok).toBe(true);
    expect(poll.ignoredFields).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^status\.tracked_models: .*-3/),
        expect.stringMatching(/^status\.tracked_providers: .*"NaN"/),
        expect.stringMatching(/^status\.tracked_gateways: .*an object/),
        expect.stringMatching(/^status\.status_distribution\.degraded: /),
        expect.stringMatching(/^status\.status_distribution\.down: /),
        expect.stringMatching(/^status\.status_distribution\.\?\?\?: /),
        expect.stringMatching(/^health\.monitoring_active: /),
        expect.stringMatching(/^cache_stats\.redis\.available: /),
      ]),
    );
    const collected = await collect();
    expect(gauges(collected)).toMatchObject({
      up: 1,
      scrapeErrors: 0,
      activeIncidents: 4,
      // Unusable values leave the previous figures in place.
      trackedModels: 50,
      trackedProviders: 16,
      trackedGateways: 8,
      monitoringActive: 1,
    });
    // A status listed with an unusable count keeps its value; one no longer listed would drop to 0.
    expect(distribution(collected)).toEqual({ healthy: 20, degraded: 1, down: 1 });
    expect(caches(collected)).toEqual({ redis: 1, system_health: 0 });
    expect(logger.ownWarnings.some((warning) => warning.includes('status.tracked_models'))).toBe(true);
  });

  it('understands alternative shapes: envelopes, totals, arrays, /metrics counts and cache flags', async () => {
    const { service, collect, poller } = await setup();
    service.set('/health', { kind: 'raw', contentType: 'text/plain; charset=utf-8', body: 'OK\n' });
    service.set('/status', {
      kind: 'json',
      body: { data: { total_models: 12, providers: ['a', 'b', 'c'], incidents: [{ id: 1 }] } },
    });
    service.set('/metrics', {
      kind: 'json',
      body: {
        total_gateways: '4',
        monitoring: { active: 1 },
        healthy_models: 10,
        degraded_models: 2,
        unhealthy_models: 0,
      },
    });
    service.set('/cache/stats', {
      kind: 'json',
      body: { caches: { redis: true, memory: { status: 'connected' }, disk_available: 0, updated_at: '2025-12-24' } },
    });
    const poll = await poller.tick();

    expect(poll.ok).toBe(true);
    expect(poll.values.serviceStatus).toBe('ok');
    const collected = await collect();
    expect(gauges(collected)).toMatchObject({
      up: 1,
      trackedModels: 12,
      trackedProviders: 3,
      trackedGateways: 4,
      activeIncidents: 1,
      monitoringActive: 1,
    });
    expect(distribution(collected)).toEqual({ healthy: 10, degraded: 2, unhealthy: 0 });
    expect(caches(collected)).toEqual({ redis: 1, memory: 1, disk: 0 });
  });

  it('accepts Prometheus text on /metrics without reading it', async () => {
    const { service, poller } = await setup();
    service.set('/metrics', { kind: 'raw', contentType: 'text/plain; version=0.0.4', body: '# TYPE up gauge\nup 1\n' });
    const poll = await poller.tick();
    expect(poll.ok).toBe(true);
    expect(poll.values.trackedModels).toBe(50);
  });

  it('keeps the statuses a failed /status would have set while /metrics counts stand in for it', async () => {
    const { service, collect, poller } = await setup();
    await poller.tick();
    expect(distribution(await collect())).toEqual({ healthy: 14, degraded: 1, down: 1 });

    // /status fails; /metrics still answers its `healthy_models` count, which stands in for the
    // distribution. It says nothing about degraded or down models: they keep their last values.
    service.set('/status', { kind: 'json', status: 503, body: { error: 'unavailable' } });
    service.set('/metrics', { kind: 'json', body: { total_checks: 1300, healthy_models: 13 } });
    const poll = await poller.tick();
    expect(poll.endpoints.status.ok).toBe(false);
    expect(distribution(await collect())).toEqual({ healthy: 13, degraded: 1, down: 1 });

    // /status answers again, without `down`: now it has no models any more.
    service.set('/status', { kind: 'json', body: { status_distribution: { healthy: 15, degraded: 1 } } });
    await poller.tick();
    expect(distribution(await collect())).toEqual({ healthy: 15, degraded: 1, down: 0 });
  });

  it('sets a cache that /cache/stats stops listing, or lists without availability, to 0; keeps them while it fails', async () => {
    const { service, collect, poller } = await setup();
    await poller.tick();
    expect(caches(await collect())).toEqual({ redis: 1, system_health: 1 });

    // A failed /cache/stats says nothing about the caches: they keep their last values.
    service.set('/cache/stats', { kind: 'json', status: 503, body: { error: 'unavailable' } });
    expect((await poller.tick()).endpoints.cacheStats.ok).toBe(false);
    expect(caches(await collect())).toEqual({ redis: 1, system_health: 1 });

    // redis is listed without an availability field, system_health not at all: both are unavailable.
    service.set('/cache/stats', {
      kind: 'json',
      body: { redis: { error: 'connection refused' }, memcached: { available: true } },
    });
    const poll = await poller.tick();
    expect(poll.ok).toBe(true);
    expect(caches(await collect())).toEqual({ redis: 0, system_health: 0, memcached: 1 });

    // No cache readable at all: every cache seen before reads 0.
    service.set('/cache/stats', { kind: 'json', body: { updated_at: '2025-12-24T12:00:00Z' } });
    await poller.tick();
    expect(caches(await collect())).toEqual({ redis: 0, system_health: 0, memcached: 0 });

    // Listed again: back to its reading.
    service.set('/cache/stats', { kind: 'json', body: { redis: { available: true } } });
    await poller.tick();
    expect(caches(await collect())).toEqual({ redis: 1, system_health: 0, memcached: 0 });
  });

  it('reads the top level of /status, /metrics and /cache/stats beside a data envelope when it has a field read there', async () => {
    const { service, poller } = await setup();
    service.set('/status', { kind: 'json', body: { total_providers: 3, data: { tracked_providers: 99 } } });
    service.set('/metrics', { kind: 'json', body: { down_models: 2, data: { healthy_models: 99 } } });
    service.set('/cache/stats', {
      kind: 'json',
      body: { memcached: { available: false }, data: { redis: { available: true } } },
    });
    const poll = await poller.tick();
    expect(poll.values).toMatchObject({ trackedProviders: 3, cacheAvailable: { memcached: false } });
    expect(poll.values.cacheAvailable).not.toHaveProperty('redis');
    expect(poll.values.statusDistribution).toEqual({ down: 2 });
  });

  it('sets a status that left the distribution to 0 and caps label values from the service', async () => {
    const { service, collect, poller } = await setup();
    await poller.tick();
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`state_${index}`, 1]));
    service.set('/status', { kind: 'json', body: { status_distribution: { healthy: 16, ...many } } });
    const poll = await poller.tick();
    const collected = await collect();
    const seen = distribution(collected);
    expect(seen['healthy']).toBe(16);
    expect(seen['degraded']).toBe(0);
    expect(seen['down']).toBe(0);
    // 16 statuses from this poll (healthy + 15 others) plus the two zeroed ones.
    expect(Object.keys(seen)).toHaveLength(18);
    expect(poll.ignoredFields.filter((field) => field.includes('more than 16 statuses'))).toHaveLength(15);
  });
});

describe('startHealthServicePoller: lifecycle', () => {
  it('shares a poll in flight between tick() calls', async () => {
    const { service, poller } = await setup();
    const first = poller.tick();
    const second = poller.tick();
    expect(second).toBe(first);
    await first;
    expect(service.count('/health')).toBe(1);
  });

  it('stop() aborts a poll in flight at once, records nothing and schedules nothing', async () => {
    const { service, collect, clock, poller } = await setup({ runImmediately: true, timeoutMs: 60_000 });
    service.set('/status', { kind: 'hang' });
    await clock.advance(0);
    const inFlight = poller.tick();
    const started = performance.now();
    await poller.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
    const poll = await inFlight;
    expect(poll.endpoints.status.failure?.reason).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
    expect(poller.toJSON().polls).toBe(0);
    const collected = await collect();
    expect(gauges(collected)).toMatchObject({ up: undefined, scrapeErrors: 0 });
    await clock.advance(10 * INTERVAL);
    expect(service.count('/health')).toBe(1);
  });

  it('stop() before the first poll clears the timer', async () => {
    const { service, clock, poller } = await setup();
    await poller.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10 * INTERVAL);
    expect(service.requests).toEqual([]);
  });

  it('toJSON() reports the last poll', async () => {
    const { poller } = await setup();
    expect(poller.toJSON()).toMatchObject({
      polls: 0,
      lastSuccessAt: null,
      lastPoll: null,
      intervalMs: INTERVAL,
      timeoutMs: REQUEST_TIMEOUT,
    });
    const poll = await poller.tick();
    expect(poller.lastPoll()).toBe(poll);
    expect(JSON.parse(JSON.stringify(poller))).toMatchObject({ polls: 1, lastPoll: { ok: true, up: true } });
  });
});

describe('startHealthServicePoller: what /health says', () => {
  const json = (body: unknown): Behaviour => ({ kind: 'json', body });
  const text = (body: string): Behaviour => ({ kind: 'raw', contentType: 'text/plain; charset=utf-8', body });

  it.each([
    // The common spellings of false in a flag field, in any case, and the known down words.
    ['{"healthy":"false"}', json({ healthy: 'false' }), 'unhealthy'],
    ['{"healthy":"FALSE"}', json({ healthy: 'FALSE' }), 'unhealthy'],
    ['{"healthy":"0"}', json({ healthy: '0' }), 'unhealthy'],
    ['{"healthy":0}', json({ healthy: 0 }), 'unhealthy'],
    ['{"healthy":"no"}', json({ healthy: 'no' }), 'unhealthy'],
    ['{"healthy":"down"}', json({ healthy: 'down' }), 'unhealthy'],
    ['{"healthy":false}', json({ healthy: false }), 'unhealthy'],
    ['{"ok":false}', json({ ok: false }), 'unhealthy'],
    ['{"ok":"off"}', json({ ok: 'off' }), 'unhealthy'],
    ['{"data":{"healthy":"false"}}', json({ data: { healthy: 'false' } }), 'unhealthy'],
    ['{"status":"false"}', json({ status: 'false' }), 'false'],
    ['{"status":"DOWN"}', json({ status: 'DOWN' }), 'down'],
    ['{"status":"OUT_OF_SERVICE"}', json({ status: 'OUT_OF_SERVICE' }), 'out_of_service'],
    ['{"status":"out of service"}', json({ status: 'out of service' }), 'out of service'],
    ['{"status":"fail"}', json({ status: 'fail' }), 'fail'],
    ['{"state":"red"}', json({ state: 'red' }), 'red'],
    ['{"status":0}', json({ status: 0 }), 'unhealthy'],
    ['{"status":503}', json({ status: 503 }), 'unhealthy'],
    ['{"status":"unhealthy","healthy":true}', json({ status: 'unhealthy', healthy: true }), 'unhealthy'],
    ['text/plain "false"', text('false'), 'false'],
    ['text/plain "0"', text('0\n'), '0'],
    ['text/plain "Unhealthy"', text('Unhealthy\n'), 'unhealthy'],
  ])('reads %s as the service reporting itself down: up 0, no scrape error', async (_name, health, status) => {
    const { service, collect, poller } = await setup();
    service.set('/health', health);
    const poll = await poller.tick();
    expect(poll).toMatchObject({ ok: true, up: false, values: { serviceStatus: status } });
    expect(gauges(await collect())).toMatchObject({ up: 0, scrapeErrors: 0, lastSuccessfulScrape: START / 1000 });
  });

  it.each([
    ['{"healthy":"true"}', json({ healthy: 'true' }), 'healthy'],
    ['{"healthy":1}', json({ healthy: 1 }), 'healthy'],
    ['{"healthy":"yes"}', json({ healthy: 'yes' }), 'healthy'],
    ['{"ok":true}', json({ ok: true }), 'healthy'],
    ['{"status":"UP"}', json({ status: 'UP' }), 'up'],
    ['{"status":"pass"}', json({ status: 'pass' }), 'pass'],
    ['{"status":"degraded"}', json({ status: 'degraded' }), 'degraded'],
    ['{"status":"operational"}', json({ status: 'operational' }), 'operational'],
    ['{"status":200}', json({ status: 200 }), 'healthy'],
    ['{"status":null,"healthy":"true"}', json({ status: null, healthy: 'true' }), 'healthy'],
    ['{"monitoring_active":true} (no status)', json({ monitoring_active: true }), undefined],
    ['text/plain "OK"', text('OK\n'), 'ok'],
    ['text/plain "true"', text('true'), 'true'],
    ['text/plain "pong" (free-form)', text('pong'), 'pong'],
    ['an empty text/plain body', text(''), undefined],
  ])('reads %s as up', async (_name, health, status) => {
    const { service, collect, poller } = await setup();
    service.set('/health', health);
    const poll = await poller.tick();
    expect(poll).toMatchObject({ ok: true, up: true });
    expect(poll.values.serviceStatus).toBe(status);
    expect(poll.ignoredFields).toEqual([]);
    expect(gauges(await collect())).toMatchObject({ up: 1, scrapeErrors: 0 });
  });

  it.each([
    [
      '{"ok":false,"data":{…}}',
      { ok: false, data: { version: '1.2.3' } },
      { up: false, values: { serviceStatus: 'unhealthy' } },
      { up: 0 },
    ],
    [
      '{"healthy":"false","data":{…}}',
      { healthy: 'false', data: { status: 'healthy' } },
      { up: false, values: { serviceStatus: 'unhealthy' } },
      { up: 0 },
    ],
    [
      '{"monitoring":{"active":false},"data":{…}}',
      { monitoring: { active: false }, data: { version: '1' } },
      { up: true, values: { monitoringActive: false } },
      { up: 1, monitoringActive: 0 },
    ],
    [
      '{"monitoringActive":"inactive","data":{…}}',
      { monitoringActive: 'inactive', data: { monitoring_active: true } },
      { up: true, values: { monitoringActive: false } },
      { up: 1, monitoringActive: 0 },
    ],
  ])(
    'reads a top-level verdict or monitoring flag beside a data envelope (%s)',
    async (_name, body, expectedPoll, expectedGauges) => {
      const { service, collect, poller } = await setup();
      service.set('/health', json(body));
      const poll = await poller.tick();
      expect(poll).toMatchObject({ ok: true, ...expectedPoll });
      expect(gauges(await collect())).toMatchObject({ scrapeErrors: 0, ...expectedGauges });
    },
  );

  it.each([
    ['{"healthy":"maybe"}', { healthy: 'maybe', monitoring_active: false }, /"healthy" is "maybe"/],
    ['{"healthy":2}', { healthy: 2, monitoring_active: false }, /"healthy" is 2/],
    ['{"status":42}', { status: 42, monitoring_active: false }, /"status" is 42/],
    ['{"status":"banana"}', { status: 'banana', monitoring_active: false }, /"status" is "banana"/],
    ['{"status":""}', { status: '', monitoring_active: false }, /"status" is ""/],
    ['{"status":{"db":"ok"}}', { status: { db: 'ok' }, monitoring_active: false }, /"status" is an object/],
    ['{"ok":[]}', { ok: [], monitoring_active: false }, /"ok" is an array/],
  ])(
    'counts a /health whose status cannot be read (%s) as a failed request, not as up',
    async (_name, body, message) => {
      const { service, collect, clock, poller } = await setup();
      await poller.tick();
      service.set('/health', json(body));
      await clock.advance(5_000);
      const poll = await poller.tick();
      expect(poll).toMatchObject({ ok: false, up: false });
      expect(poll.endpoints.health).toMatchObject({
        ok: false,
        httpStatus: 200,
        failure: { reason: 'unreadable_health_status' },
      });
      expect(poll.endpoints.health.failure?.message).toMatch(message);
      expect(poll.values.serviceStatus).toBeUndefined();
      expect(gauges(await collect())).toMatchObject({
        up: 0,
        scrapeErrors: 1,
        // The poll failed: the last successful one stands, and so do the gauges /health would set.
        lastSuccessfulScrape: START / 1000,
        monitoringActive: 1,
        // The other endpoints answered: their gauges are set as usual.
        trackedModels: 50,
      });
      expect(logger.errors.some((error) => error.message.includes('cannot read as up or down'))).toBe(true);
    },
  );
});
