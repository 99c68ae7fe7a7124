/**
 * Rate-limit headroom and failover history with real processes: the built gateway runs as its own
 * process, its providers are real HTTP servers on loopback (the demo's, inside the gateway process,
 * or simulated providers started by the test so their side can be counted), and every figure is
 * read from the gateway's `/metrics`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedProvider, type SimulatedProvider } from '../src/index.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

/** Values of the series of `name` whose labels include `labels`, from Prometheus text. */
function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const series = line.slice(0, line.lastIndexOf(' '));
    if (
      !Object.entries(labels).every(
        ([key, value]) => series.includes(`{${key}="${value}"`) || series.includes(`,${key}="${value}"`),
      )
    )
      continue;
    values.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return values;
}

/** The one series of `name` with `labels`, or undefined; fails when several match. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const found = samples(text, name, labels);
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0];
}

async function chat(gateway: GatewayProcess, model: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
  return { status: response.status, body: await response.text() };
}

async function scrape(gateway: GatewayProcess): Promise<string> {
  return (await fetch(`${gateway.url}/metrics`)).text();
}

describe('demo gateway with DEMO_RATE_LIMIT_RPM: traffic moves off an exhausted provider', () => {
  let gateway: GatewayProcess;

  beforeAll(async () => {
    gateway = await startGatewayProcess({
      DEMO_RATE_LIMIT_RPM: '5',
      DEMO_LATENCY_MS: '0',
      DEMO_ERROR_RATE: '0',
      // No health scores: the chain keeps the configuration order (openai before openrouter).
      HEALTH_TRACKER_INTERVAL_MS: '3600000',
    });
  });
  afterAll(async () => {
    await gateway?.terminate();
  });

  it('serves every request while another provider can, with the headroom gauges moving', async () => {
    // gpt-4o-mini: openai, then openrouter. openai answers 5 a minute, then has none left.
    const statuses: number[] = [];
    for (let index = 0; index < 4; index++) statuses.push((await chat(gateway, 'gpt-4o-mini')).status);
    let text = await scrape(gateway);
    expect(sample(text, 'gatewayz_provider_ratelimit_remaining', { provider: 'openai', limit_type: 'requests' })).toBe(
      1,
    );
    const tokensAfterFour = sample(text, 'gatewayz_provider_ratelimit_remaining', {
      provider: 'openai',
      limit_type: 'tokens',
    });
    expect(tokensAfterFour).toBeGreaterThan(0);
    expect(tokensAfterFour).toBeLessThan(20_000);

    for (let index = 0; index < 6; index++) statuses.push((await chat(gateway, 'gpt-4o-mini')).status);
    expect(statuses).toEqual(new Array(10).fill(200));
    text = await scrape(gateway);
    expect(sample(text, 'gatewayz_provider_ratelimit_remaining', { provider: 'openai', limit_type: 'requests' })).toBe(
      0,
    );
    const reset = sample(text, 'gatewayz_provider_ratelimit_reset_seconds', {
      provider: 'openai',
      limit_type: 'requests',
    });
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(60);
    // openrouter answered the last 5 (its own budget is 5 as well): none left now either.
    expect(
      sample(text, 'gatewayz_provider_ratelimit_remaining', { provider: 'openrouter', limit_type: 'requests' }),
    ).toBe(0);
    // openai was passed over 5 times, never tried: no attempt of it was rate limited.
    expect(
      sample(text, 'gatewayz_failovers_total', {
        provider: 'openai',
        next_provider: 'openrouter',
        reason: 'rate_limited',
      }),
    ).toBe(5);
    expect(
      sample(text, 'model_inference_requests_total', {
        provider: 'openai',
        model: 'gpt-4o-mini',
        status: 'rate_limited',
      }),
      // Created at 0 at start-up (initial-series.ts), and never counted.
    ).toBe(0);
    expect(
      sample(text, 'model_inference_requests_total', { provider: 'openai', model: 'gpt-4o-mini', status: 'success' }),
    ).toBe(5);
    expect(
      sample(text, 'model_inference_requests_total', {
        provider: 'openrouter',
        model: 'gpt-4o-mini',
        status: 'success',
      }),
    ).toBe(5);
  });

  it('reads Anthropic-style headers from the anthropic provider', async () => {
    // claude-3-5-sonnet: anthropic only.
    expect((await chat(gateway, 'claude-3-5-sonnet')).status).toBe(200);
    expect((await chat(gateway, 'claude-3-5-sonnet')).status).toBe(200);
    const text = await scrape(gateway);
    expect(
      sample(text, 'gatewayz_provider_ratelimit_remaining', { provider: 'anthropic', limit_type: 'requests' }),
    ).toBe(3);
    const reset = sample(text, 'gatewayz_provider_ratelimit_reset_seconds', {
      provider: 'anthropic',
      limit_type: 'requests',
    });
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(61);
    expect(samples(text, 'gatewayz_ratelimit_headers_malformed_total')).toEqual([]);
    // No response since: the reset counts down between scrapes.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = sample(await scrape(gateway), 'gatewayz_provider_ratelimit_reset_seconds', {
      provider: 'anthropic',
      limit_type: 'requests',
    });
    expect(later).toBeLessThanOrEqual((reset ?? 0) - 1);
    expect(later).toBeGreaterThan((reset ?? 0) - 3);
  });

  it('answers 429 once every provider of the model is out of requests', async () => {
    const answer = await chat(gateway, 'gpt-4o-mini');
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.body).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
  });
});

describe('failover and breaker history equal what the providers did', () => {
  let alpha: SimulatedProvider;
  let beta: SimulatedProvider;
  let gateway: GatewayProcess;
  let directory: string;

  beforeAll(async () => {
    alpha = await startSimulatedProvider({ name: 'alpha', models: ['m'], errorRate: 1, failureMode: 'error' });
    beta = await startSimulatedProvider({ name: 'beta', models: ['m'] });
    directory = mkdtempSync(join(tmpdir(), 'gateway-failover-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([
        { name: 'alpha', baseUrl: alpha.baseUrl, models: ['m'] },
        { name: 'beta', baseUrl: beta.baseUrl, models: ['m'] },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_PROVIDERS_FILE: providersFile,
      HEALTH_TRACKER_INTERVAL_MS: '3600000',
      BREAKER_VOLUME_THRESHOLD: '3',
      BREAKER_ERROR_THRESHOLD_PERCENT: '50',
      BREAKER_RESET_TIMEOUT_MS: '400',
      BREAKER_WINDOW_MS: '60000',
    });
  });
  afterAll(async () => {
    await gateway?.terminate();
    await Promise.all([alpha?.close(), beta?.close()]);
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  const alphaCalls = (): number => alpha.requestCounts.get('/v1/chat/completions') ?? 0;
  const alphaFailed = (): number => alpha.outcomes.get('m')?.failed ?? 0;

  it('counts a failover per failed attempt and per request passed over an open breaker', async () => {
    const startedAt = performance.now();
    for (let index = 0; index < 12; index++) expect((await chat(gateway, 'm')).status).toBe(200);
    const text = await scrape(gateway);
    // The provider side: alpha failed every call it got; beta answered every request.
    expect(alphaFailed()).toBe(alphaCalls());
    expect(alphaCalls()).toBeGreaterThanOrEqual(3);
    expect(alphaCalls()).toBeLessThan(12);
    expect(beta.outcomes.get('m')?.succeeded).toBe(12);
    const failover = (reason: string) =>
      sample(text, 'gatewayz_failovers_total', { provider: 'alpha', next_provider: 'beta', reason }) ?? 0;
    expect(failover('error')).toBe(alphaFailed());
    expect(failover('circuit_open')).toBe(12 - alphaCalls());
    expect(samples(text, 'gatewayz_failovers_total', { provider: 'beta' })).toEqual([]);
    expect(
      sample(text, 'gatewayz_circuit_breaker_transitions_total', {
        provider: 'alpha',
        from_state: 'closed',
        to_state: 'open',
      }),
    ).toBe(1);
    // Open since the breaker tripped, and still open: the scrape includes the interval so far.
    const openSeconds = sample(text, 'gatewayz_circuit_breaker_open_seconds_total', { provider: 'alpha' }) ?? 0;
    expect(openSeconds).toBeGreaterThan(0);
    expect(openSeconds).toBeLessThanOrEqual((performance.now() - startedAt) / 1000);
    expect(sample(text, 'gatewayz_circuit_breaker_open_seconds_total', { provider: 'beta' })).toBe(0);
  });

  it('counts each breaker transition the half-open probes caused', async () => {
    const failedBefore = alphaFailed();
    const callsBefore = alphaCalls();
    // After the reset timeout the breaker is half-open; the probe fails and it opens again.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(alphaCalls() - callsBefore).toBe(1);
    const failedProbes = alphaFailed() - failedBefore;
    expect(failedProbes).toBe(1);
    // alpha recovers; the next probe succeeds and closes the breaker.
    alpha.configure({ errorRate: 0 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(alpha.outcomes.get('m')?.succeeded).toBe(1);

    const text = await scrape(gateway);
    const transitions = (from: string, to: string) =>
      sample(text, 'gatewayz_circuit_breaker_transitions_total', { provider: 'alpha', from_state: from, to_state: to });
    expect(transitions('closed', 'open')).toBe(1);
    expect(transitions('open', 'half_open')).toBe(2);
    expect(transitions('half_open', 'open')).toBe(failedProbes);
    expect(transitions('half_open', 'closed')).toBe(alpha.outcomes.get('m')?.succeeded);
    expect(sample(text, 'gatewayz_circuit_breaker_state', { provider: 'alpha', state: 'closed' })).toBe(1);
    expect(
      sample(text, 'gatewayz_failovers_total', { provider: 'alpha', next_provider: 'beta', reason: 'error' }),
    ).toBe(alphaFailed());
    // Closed now: the open time no longer grows.
    const open = sample(text, 'gatewayz_circuit_breaker_open_seconds_total', { provider: 'alpha' }) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sample(await scrape(gateway), 'gatewayz_circuit_breaker_open_seconds_total', { provider: 'alpha' })).toBe(
      open,
    );
    // Two open intervals of the 400 ms reset timeout (timers may fire a millisecond early).
    expect(open).toBeGreaterThan(0.75);
  });
});

describe('a provider that answered 429 with retry-after is passed over until then', () => {
  let limited: SimulatedProvider;
  let spare: SimulatedProvider;
  let gateway: GatewayProcess;
  let directory: string;

  beforeAll(async () => {
    // Every call answered 429 with `retry-after: 1` and no rate-limit headers.
    limited = await startSimulatedProvider({ name: 'limited', models: ['m'], errorRate: 1, failureMode: 'rate_limit' });
    spare = await startSimulatedProvider({ name: 'spare', models: ['m'] });
    directory = mkdtempSync(join(tmpdir(), 'gateway-retry-after-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([
        { name: 'limited', baseUrl: limited.baseUrl, models: ['m'] },
        { name: 'spare', baseUrl: spare.baseUrl, models: ['m'] },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_PROVIDERS_FILE: providersFile,
      HEALTH_TRACKER_INTERVAL_MS: '3600000',
      BREAKER_VOLUME_THRESHOLD: '1000',
    });
  });
  afterAll(async () => {
    await gateway?.terminate();
    await Promise.all([limited?.close(), spare?.close()]);
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('tries it again only once retry-after has passed; clients never see the 429', async () => {
    const limitedCalls = (): number => limited.requestCounts.get('/v1/chat/completions') ?? 0;
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls()).toBe(1);
    for (let index = 0; index < 3; index++) expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls()).toBe(1);
    let text = await scrape(gateway);
    // Its 429s name no budget: the pause shows as the reset, and no remaining count is made up.
    const labels = { provider: 'limited', limit_type: 'requests' };
    expect(sample(text, 'gatewayz_provider_ratelimit_remaining', labels)).toBeUndefined();
    expect(sample(text, 'gatewayz_provider_ratelimit_reset_seconds', labels)).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls()).toBe(2);
    expect(spare.outcomes.get('m')?.succeeded).toBe(5);
    text = await scrape(gateway);
    expect(sample(text, 'gatewayz_provider_ratelimit_remaining', labels)).toBeUndefined();
    const failovers = (reason: string) =>
      sample(text, 'gatewayz_failovers_total', { provider: 'limited', next_provider: 'spare', reason });
    // Two attempts answered 429, three requests passed it over: five moves to spare, all rate_limited.
    expect(failovers('rate_limited')).toBe(5);
    expect(samples(text, 'gatewayz_failovers_total')).toEqual([5]);
    expect(
      sample(text, 'model_inference_requests_total', { provider: 'limited', model: 'm', status: 'rate_limited' }),
    ).toBe(limitedCalls());
  });
});

describe('retry-after-ms and the retry-after cap (RETRY_AFTER_MAX_MS), over HTTP', () => {
  let limited: Server;
  let limitedCalls = 0;
  // What the limited provider answers its 429s with; changed by the test.
  let retryHeaders: Record<string, string> = { 'retry-after': '86400' };
  let spare: SimulatedProvider;
  let gateway: GatewayProcess;
  let directory: string;

  beforeAll(async () => {
    limited = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        limitedCalls += 1;
        response.writeHead(429, { 'content-type': 'application/json', ...retryHeaders });
        response.end(
          JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit' } }),
        );
      });
    });
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    const { port } = limited.address() as AddressInfo;
    spare = await startSimulatedProvider({ name: 'spare', models: ['m'] });
    directory = mkdtempSync(join(tmpdir(), 'gateway-retry-after-cap-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([
        { name: 'limited', baseUrl: `http://127.0.0.1:${port}/v1`, models: ['m'] },
        { name: 'spare', baseUrl: spare.baseUrl, models: ['m'] },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_PROVIDERS_FILE: providersFile,
      HEALTH_TRACKER_INTERVAL_MS: '3600000',
      BREAKER_VOLUME_THRESHOLD: '1000',
      RETRY_AFTER_MAX_MS: '1000',
    });
  });
  afterAll(async () => {
    await gateway?.terminate();
    await Promise.all([new Promise((resolve) => limited?.close(resolve)), spare?.close()]);
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('pauses a provider answering retry-after: 86400 for the cap only, and reads retry-after-ms first', async () => {
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls).toBe(1);
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls).toBe(1);
    // The reset gauge shows the pause applied (at most the 1 s cap), not a day.
    const reset = sample(await scrape(gateway), 'gatewayz_provider_ratelimit_reset_seconds', {
      provider: 'limited',
      limit_type: 'requests',
    });
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Now in milliseconds as well: 200 ms wins over the day of retry-after.
    retryHeaders = { 'retry-after-ms': '200', 'retry-after': '86400' };
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await chat(gateway, 'm')).status).toBe(200);
    expect(limitedCalls).toBe(3);
    expect(spare.outcomes.get('m')?.succeeded).toBe(4);
  });
});
