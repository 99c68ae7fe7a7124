import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, sampleSum, type TestGateway } from './harness.js';

/*
 * The circuit breaker hears how a stream ended, not only that it opened: a provider whose streams
 * all fail midway (cut after their first words) opens its breaker, as one whose JSON answers fail
 * does, and a half-open breaker's trial is a stream that worked to its end. Before, the breaker's
 * call ended when the stream opened, so it counted every such stream as a success while model
 * health counted an error, and the breaker of a provider breaking every stream stayed closed.
 */

const RESET_MS = 400;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ env: { BREAKER_RESET_TIMEOUT_MS: String(RESET_MS) } });
});
afterAll(async () => {
  await gw.close();
});

const stream = async (model: string): Promise<string> => {
  const response = await gw.post('/v1/chat/completions', {
    model,
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  expect(response.status).toBe(200);
  return response.text();
};

const state = (provider: string): string | undefined => gw.gateway.router.breakerStates()[provider];

describe('circuit breakers and streams that fail after they opened', () => {
  it('opens the breaker of a provider whose streams are cut midway, and agrees with its health figures', async () => {
    // claude-3-5-haiku: anthropic first (configuration order), openrouter behind it.
    const anthropic = gw.provider('anthropic');
    anthropic.configure({ errorRate: 1, failureMode: 'cut' });
    let cut = 0;
    while (state('anthropic') === 'closed' && cut < 50) {
      const text = await stream('claude-3-5-haiku');
      // The client got the first words, then the error event: the stream had opened.
      expect(text).toContain('"error"');
      cut++;
    }
    expect(state('anthropic')).toBe('open');
    // BREAKER_VOLUME_THRESHOLD is 3 in the test gateway: the third failure opens it.
    expect(cut).toBe(3);
    const scraped = await gw.scrape();
    expect(
      sampleSum(scraped, 'model_inference_requests_total', {
        provider: 'anthropic',
        model: 'claude-3-5-haiku',
        status: 'network_error',
      }),
    ).toBe(cut);
    expect(sampleSum(scraped, 'gatewayz_circuit_breaker_state', { provider: 'anthropic', state: 'open' })).toBe(1);
    // With the breaker open, streams go to openrouter and end well.
    const served = await stream('claude-3-5-haiku');
    expect(served).toContain('data: [DONE]');
    expect(served).not.toContain('"error"');
  });

  it("keeps a half-open breaker's trial in flight until its stream ends, and opens the breaker again when it fails midway", async () => {
    expect(state('anthropic')).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, RESET_MS + 100));
    expect(state('anthropic')).toBe('half_open');
    // The trial goes to anthropic (a half-open breaker comes first) and is cut midway.
    const trial = await stream('claude-3-5-haiku');
    expect(trial).toContain('"error"');
    expect(state('anthropic')).toBe('open');

    // Next trial: anthropic recovered, and a slow stream. While it is in flight the breaker stays
    // half-open, refusing other calls (they go to openrouter); it closes once the stream ends well.
    await new Promise((resolve) => setTimeout(resolve, RESET_MS + 100));
    const anthropic = gw.provider('anthropic');
    anthropic.configure({ errorRate: 0, latencyMs: 0, chunkDelayMs: 150 });
    const calls = (): number => anthropic.requestCounts.get('/v1/chat/completions') ?? 0;
    const before = calls();
    const trialStream = stream('claude-3-5-haiku');
    await expect.poll(calls).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state('anthropic')).toBe('half_open');
    const meanwhile = await stream('claude-3-5-haiku');
    expect(meanwhile).toContain('data: [DONE]');
    expect(calls()).toBe(before + 1);
    expect(await trialStream).toContain('data: [DONE]');
    expect(state('anthropic')).toBe('closed');
  });
});
