import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { parseRateLimitHeaders } from '@gatewayz/telemetry/rate-limits';
import { DEFAULT_MAX_RETRY_AFTER_MS, ProviderRateLimits } from '../src/providers/provider-rate-limits.js';
import { startSimulatedProvider, type SimulatedProvider } from '../src/providers/simulated-provider.js';
import { goDuration } from '../src/providers/simulated-rate-limit.js';

function clock(start = Date.parse('2026-12-03T16:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function remaining(telemetry: GatewayTelemetry, provider: string, limitType: 'requests' | 'tokens') {
  return telemetry.currentValue('providerRateLimitRemaining', { provider, limit_type: limitType });
}

describe('ProviderRateLimits', () => {
  it('marks a provider exhausted until the reset its headers announce, and records the gauges', () => {
    const time = clock();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const limits = new ProviderRateLimits(telemetry, time.now);
    limits.observe('openai', 200, { 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '5s' });
    expect(limits.isExhausted('openai')).toBe(false);
    limits.observe('openai', 200, { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '5s' });
    expect(limits.isExhausted('openai')).toBe(true);
    expect(remaining(telemetry, 'openai', 'requests')).toBe(0);
    expect(
      telemetry.currentValue('providerRateLimitResetSeconds', { provider: 'openai', limit_type: 'requests' }),
    ).toBe(5);
    time.advance(4_999);
    expect(limits.isExhausted('openai')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('openai')).toBe(false);
  });

  it('reads an exhausted token budget and Anthropic reset times the same way', () => {
    const time = clock();
    const limits = new ProviderRateLimits(new GatewayTelemetry({ exportVia: 'producer' }), time.now);
    limits.observe('anthropic', 200, {
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': '2026-12-03T16:00:03Z',
    });
    time.advance(2_000);
    expect(limits.isExhausted('anthropic')).toBe(true);
    time.advance(1_000);
    expect(limits.isExhausted('anthropic')).toBe(false);
  });

  it('with several budgets spent, waits for the latest reset (requests back in 1 s, tokens in 6 min)', () => {
    const time = clock();
    const limits = new ProviderRateLimits(new GatewayTelemetry({ exportVia: 'producer' }), time.now);
    limits.observe('openai', 200, {
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    time.advance(1_001);
    expect(limits.isExhausted('openai')).toBe(true);
    time.advance(360_000 - 1_001 - 1);
    expect(limits.isExhausted('openai')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('openai')).toBe(false);
    // Anthropic: input tokens back in 2 s, output tokens in 50 s.
    limits.observe('anthropic', 200, {
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-input-tokens-reset': new Date(time.now() + 2_000).toISOString(),
      'anthropic-ratelimit-output-tokens-remaining': '0',
      'anthropic-ratelimit-output-tokens-reset': new Date(time.now() + 50_000).toISOString(),
    });
    time.advance(49_999);
    expect(limits.isExhausted('anthropic')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('anthropic')).toBe(false);
  });

  it('after a 429 waits for retry-after and shows the pause as the reset, making up no remaining count', () => {
    const time = clock();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const limits = new ProviderRateLimits(telemetry, time.now);
    const reset = () =>
      telemetry.currentValue('providerRateLimitResetSeconds', { provider: 'deepseek', limit_type: 'requests' });
    // Only retry-after, as DeepSeek and Gemini send: nothing would ever correct a made-up 0.
    limits.observe('deepseek', 429, { 'retry-after': '2' });
    expect(limits.isExhausted('deepseek')).toBe(true);
    expect(reset()).toBe(2);
    expect(remaining(telemetry, 'deepseek', 'requests')).toBeUndefined();
    time.advance(2_000);
    expect(limits.isExhausted('deepseek')).toBe(false);
    limits.observe('deepseek', 200, {});
    expect(remaining(telemetry, 'deepseek', 'requests')).toBeUndefined();
    // A count the 429's headers did give is shown as given, with the pause as its reset.
    limits.observe('deepseek', 429, { 'retry-after': '3', 'x-ratelimit-remaining-requests': '7' });
    expect(remaining(telemetry, 'deepseek', 'requests')).toBe(7);
    expect(reset()).toBe(3);
  });

  it('caps a 429 retry-after at 60 s by default: retry-after: 86400 does not pause a provider for a day', () => {
    expect(DEFAULT_MAX_RETRY_AFTER_MS).toBe(60_000);
    const time = clock();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const limits = new ProviderRateLimits(telemetry, time.now);
    limits.observe('openrouter', 429, { 'retry-after': '86400' });
    // The reset gauge shows the pause applied, not the header's day.
    expect(
      telemetry.currentValue('providerRateLimitResetSeconds', { provider: 'openrouter', limit_type: 'requests' }),
    ).toBe(60);
    time.advance(59_999);
    expect(limits.isExhausted('openrouter')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('openrouter')).toBe(false);
    // An HTTP date a day ahead and retry-after-ms alike.
    limits.observe('openrouter', 429, { 'retry-after': new Date(time.now() + 86_400_000).toUTCString() });
    time.advance(60_000);
    expect(limits.isExhausted('openrouter')).toBe(false);
    limits.observe('openrouter', 429, { 'retry-after-ms': '86400000' });
    time.advance(60_000);
    expect(limits.isExhausted('openrouter')).toBe(false);
  });

  it('takes the cap from maxRetryAfterMs, leaves shorter retry-after values and announced resets alone', () => {
    const time = clock();
    const limits = new ProviderRateLimits(new GatewayTelemetry({ exportVia: 'producer' }), time.now, {
      maxRetryAfterMs: 5_000,
    });
    limits.observe('a', 429, { 'retry-after': '3600' });
    time.advance(4_999);
    expect(limits.isExhausted('a')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('a')).toBe(false);
    limits.observe('a', 429, { 'retry-after': '2' });
    time.advance(1_999);
    expect(limits.isExhausted('a')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('a')).toBe(false);
    // A budget the provider announced as spent until its reset (6 min) is its window: not capped.
    limits.observe('a', 200, { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' });
    time.advance(359_999);
    expect(limits.isExhausted('a')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('a')).toBe(false);
  });

  it('prefers retry-after-ms to retry-after after a 429', () => {
    const time = clock();
    const limits = new ProviderRateLimits(new GatewayTelemetry({ exportVia: 'producer' }), time.now);
    limits.observe('openai', 429, { 'retry-after-ms': '250', 'retry-after': '30' });
    time.advance(249);
    expect(limits.isExhausted('openai')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('openai')).toBe(false);
  });

  it('a 429 without retry-after or reset pauses the provider for one second', () => {
    const time = clock();
    const limits = new ProviderRateLimits(new GatewayTelemetry({ exportVia: 'producer' }), time.now);
    limits.observe('openrouter', 429, {});
    expect(limits.isExhausted('openrouter')).toBe(true);
    time.advance(1_000);
    expect(limits.isExhausted('openrouter')).toBe(false);
  });

  it('a success with requests left ends an announced pause early; providers are independent', () => {
    const time = clock();
    const limits = new ProviderRateLimits(new GatewayTelemetry({ exportVia: 'producer' }), time.now);
    limits.observe('openai', 429, { 'retry-after': '30' });
    limits.observe('anthropic', 429, { 'retry-after': '30' });
    limits.observe('openai', 200, { 'x-ratelimit-remaining-requests': '10' });
    expect(limits.isExhausted('openai')).toBe(false);
    expect(limits.isExhausted('anthropic')).toBe(true);
  });

  it('reads a count of -1 (Azure OpenAI: no limit) as no limit, neither malformed nor a gauge', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const limits = new ProviderRateLimits(telemetry, clock().now);
    const azure = {
      'x-ratelimit-limit-tokens': '-1',
      'x-ratelimit-remaining-tokens': '-1',
      'x-ratelimit-reset-tokens': '0',
    };
    for (let index = 0; index < 3; index++) limits.observe('azure', 200, azure);
    for (const header of ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens'])
      expect(telemetry.currentValue('rateLimitHeadersMalformed', { provider: 'azure', header })).toBeUndefined();
    expect(remaining(telemetry, 'azure', 'tokens')).toBeUndefined();
    expect(limits.isExhausted('azure')).toBe(false);
    // Any other negative count is still refused and counted.
    limits.observe('azure', 200, { 'x-ratelimit-remaining-tokens': '-2' });
    expect(
      telemetry.currentValue('rateLimitHeadersMalformed', {
        provider: 'azure',
        header: 'x-ratelimit-remaining-tokens',
      }),
    ).toBe(1);
  });

  it('counts malformed headers and ignores them for routing', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const limits = new ProviderRateLimits(telemetry, clock().now);
    limits.observe('openai', 200, { 'x-ratelimit-remaining-requests': 'none', 'x-ratelimit-reset-requests': '1y' });
    expect(limits.isExhausted('openai')).toBe(false);
    expect(
      telemetry.currentValue('rateLimitHeadersMalformed', {
        provider: 'openai',
        header: 'x-ratelimit-remaining-requests',
      }),
    ).toBe(1);
  });
});

describe('goDuration', () => {
  it.each([
    [0, '0ms'],
    [20, '20ms'],
    [1000, '1s'],
    [7500, '7.5s'],
    [60_000, '1m0s'],
    [83_250, '1m23.25s'],
  ])('writes %d ms as %s, which the parser reads back', (ms, text) => {
    expect(goDuration(ms)).toBe(text);
    expect(parseRateLimitHeaders({ 'x-ratelimit-reset-requests': text }).requests?.resetSeconds).toBeCloseTo(
      ms / 1000,
      9,
    );
  });
});

describe('simulated provider rate limit (real HTTP)', () => {
  async function post(provider: SimulatedProvider): Promise<{ status: number; headers: IncomingHttpHeaders }> {
    const response = await fetch(`${provider.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }),
    });
    await response.text();
    const headers: IncomingHttpHeaders = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers };
  }

  it.each(['openai', 'anthropic'] as const)(
    'accepts rateLimitRpm requests a minute with %s-style headers, then answers 429 with retry-after',
    async (style) => {
      const provider = await startSimulatedProvider({
        name: 'p',
        models: ['m'],
        rateLimitRpm: 3,
        rateLimitHeaders: style,
      });
      try {
        const answers = [];
        for (let index = 0; index < 5; index++) answers.push(await post(provider));
        expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
        const parsed = answers.map((answer) => parseRateLimitHeaders(answer.headers));
        expect(parsed.map((snapshot) => snapshot.malformed)).toEqual([[], [], [], [], []]);
        expect(parsed.map((snapshot) => snapshot.requests?.remaining)).toEqual([2, 1, 0, 0, 0]);
        expect(parsed.map((snapshot) => snapshot.requests?.limit)).toEqual([3, 3, 3, 3, 3]);
        for (const snapshot of parsed) {
          expect(snapshot.requests?.resetSeconds).toBeGreaterThan(55);
          expect(snapshot.requests?.resetSeconds).toBeLessThanOrEqual(61);
        }
        expect(parsed[0]?.tokens?.remaining).toBeLessThan(12_000);
        expect(parsed[3]?.retryAfterSeconds).toBeGreaterThan(55);
        expect(parsed[0]?.retryAfterSeconds).toBeUndefined();
        expect(provider.rateLimitedCount()).toBe(2);
        const header = style === 'openai' ? 'x-ratelimit-remaining-requests' : 'anthropic-ratelimit-requests-remaining';
        expect(answers[0]?.headers[header]).toBe('2');
      } finally {
        await provider.close();
      }
    },
  );

  it('sends no rate-limit headers without a limit', async () => {
    const provider = await startSimulatedProvider({ name: 'p', models: ['m'] });
    try {
      const answer = await post(provider);
      expect(answer.status).toBe(200);
      expect(parseRateLimitHeaders(answer.headers)).toEqual({ malformed: [] });
    } finally {
      await provider.close();
    }
  });
});
