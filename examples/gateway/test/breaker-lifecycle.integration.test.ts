import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentAvailable, startPrometheus, type PrometheusInstance } from '../../../test-support/prometheus.js';
import { SpanRecorder, chatBody, sampleSum, startTestGateway, type TestGateway } from './harness.js';

const available = componentAvailable('prometheus');

/**
 * One provider's breaker driven through closed → open → half-open → closed → open → half-open →
 * open by real traffic through the gateway, with concurrent requests during the half-open trial;
 * routing, /health, the exposition, a real Prometheus and the attempt spans must agree at each step.
 * `gpt-4o` is served by openai alone, so every request for it goes through openai's breaker.
 */
describe.skipIf(!available)('circuit breaker lifecycle through the gateway', () => {
  const spans = new SpanRecorder();
  let gw: TestGateway;
  let prometheus: PrometheusInstance;

  beforeAll(async () => {
    gw = await startTestGateway({
      env: { BREAKER_RESET_TIMEOUT_MS: '1500', BREAKER_VOLUME_THRESHOLD: '2' },
      spanProcessors: [spans],
    });
    prometheus = await startPrometheus({
      targets: [{ job: 'gateway', url: `${gw.url}/metrics` }],
      scrapeIntervalSeconds: 1,
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await gw?.close();
  });

  const state = (): string | undefined => gw.gateway.router.breakerStates()['openai'];
  const healthState = async (): Promise<string> =>
    ((await (await fetch(`${gw.url}/health`)).json()) as { circuit_breakers: Record<string, string> }).circuit_breakers[
      'openai'
    ] as string;
  const exported = async (): Promise<Record<string, number>> => {
    const text = await gw.scrape('/metrics');
    const result: Record<string, number> = {};
    for (const name of ['closed', 'open', 'half_open'])
      result[name] = sampleSum(text, 'gatewayz_circuit_breaker_state', { provider: 'openai', state: name });
    return result;
  };
  const oneHot = (current: string): Record<string, number> => ({
    closed: current === 'closed' ? 1 : 0,
    open: current === 'open' ? 1 : 0,
    half_open: current === 'half_open' ? 1 : 0,
  });
  const transitions = async (): Promise<Record<string, number>> => {
    const text = await gw.scrape('/metrics');
    const result: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const match =
        /^gatewayz_circuit_breaker_transitions_total\{provider="openai",from_state="(\w+)",to_state="(\w+)"\} (\S+)$/.exec(
          line,
        );
      if (match) result[`${match[1]}->${match[2]}`] = Number(match[3]);
    }
    return result;
  };
  const openaiClientSpans = (): number =>
    spans.spans.filter((span) => span.kind === SpanKind.CLIENT && span.attributes['gen_ai.provider.name'] === 'openai')
      .length;
  const waitFor = async (predicate: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const trip = async (): Promise<void> => {
    gw.provider('openai').configure({ errorRate: 1, failureMode: 'error', latencyMs: 0 });
    for (let sent = 0; state() !== 'open'; sent++) {
      if (sent > 50) throw new Error('the breaker did not open');
      expect((await gw.post('/v1/chat/completions', chatBody('gpt-4o'))).status).toBe(502);
    }
  };

  it('agrees with opossum at every step, and a call refused in half-open leaves no attempt span', async () => {
    expect(await exported()).toEqual(oneHot('closed'));

    await trip();
    expect(await healthState()).toBe('open');
    expect(await exported()).toEqual(oneHot('open'));
    // Open: refused without an attempt (no span), 503.
    spans.clear();
    const refusedOpen = await gw.post('/v1/chat/completions', chatBody('gpt-4o'));
    expect(refusedOpen.status).toBe(503);
    expect(((await refusedOpen.json()) as { error: { message: string } }).error.message).toBe(
      'No provider is available for `gpt-4o`: the circuit breaker of openai is open. Retry shortly.',
    );
    expect(openaiClientSpans()).toBe(0);

    await waitFor(() => state() === 'half_open', 'half-open');
    expect(await healthState()).toBe('half_open');
    expect(await exported()).toEqual(oneHot('half_open'));

    // Half-open: five concurrent requests, the provider healthy again but slow (1 s). opossum lets one
    // trial call through and refuses the others while it is in flight.
    gw.provider('openai').configure({ errorRate: 0, latencyMs: 1000 });
    spans.clear();
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => gw.post('/v1/chat/completions', chatBody('gpt-4o'))),
    );
    expect(burst.map((response) => response.status).sort()).toEqual([200, 503, 503, 503, 503]);
    // The refused ones are told the breaker is half-open with its trial in progress, not "open".
    for (const response of burst.filter((refused) => refused.status === 503)) {
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        'the circuit breaker of openai is half-open with a trial call in progress',
      );
    }
    // Exactly one attempt reached openai, and exactly one CLIENT span says so.
    expect(openaiClientSpans()).toBe(1);
    expect(state()).toBe('closed');
    expect(await healthState()).toBe('closed');
    expect(await exported()).toEqual(oneHot('closed'));
    expect(await transitions()).toEqual({ 'closed->open': 1, 'open->half_open': 1, 'half_open->closed': 1 });

    // Open again; this time the half-open trial fails and the breaker goes back to open.
    await trip();
    await waitFor(() => state() === 'half_open', 'half-open');
    gw.provider('openai').configure({ errorRate: 1, failureMode: 'error', latencyMs: 0 });
    spans.clear();
    expect((await gw.post('/v1/chat/completions', chatBody('gpt-4o'))).status).toBe(502);
    expect(openaiClientSpans()).toBe(1);
    expect(state()).toBe('open');
    expect(await exported()).toEqual(oneHot('open'));
    expect(await transitions()).toEqual({
      'closed->open': 2,
      'open->half_open': 2,
      'half_open->closed': 1,
      'half_open->open': 1,
    });

    // A real Prometheus reads the same changes (the ones that cannot move again before the next
    // half-open), and only openai's breaker was ever open.
    for (const [from, to, count] of [
      ['closed', 'open', 2],
      ['half_open', 'closed', 1],
      ['half_open', 'open', 1],
    ] as const) {
      await prometheus.waitForQuery(
        `gatewayz_circuit_breaker_transitions_total{provider="openai",from_state="${from}",to_state="${to}"}`,
        (result) => result.length === 1 && Number(result[0]?.value[1]) === count,
      );
    }
    // Two whole open intervals of 1.5 s so far (the state gauge, scraped every second, may or may
    // not have caught them: the open time always does).
    const everOpen = await prometheus.waitForQuery(
      'gatewayz_circuit_breaker_open_seconds_total >= 3',
      (result) => result.length === 1,
    );
    expect(everOpen.map((sample) => sample.metric['provider'])).toEqual(['openai']);
  });
});
