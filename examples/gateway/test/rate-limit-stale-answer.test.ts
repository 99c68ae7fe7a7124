/**
 * An answer to a request sent before a provider was paused arrives after the pause (a slow
 * non-streamed success: its headers come when its generation ends). It was let through before the
 * pause, so it says nothing of the provider taking requests now: it must neither end the pause nor
 * replace the newer headroom the pause was recorded with.
 */
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { ProviderRateLimits } from '../src/providers/provider-rate-limits.js';
import { sampleSum, startGatewayFor } from './harness.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const slowSuccess = {
  'x-ratelimit-limit-requests': '60',
  'x-ratelimit-remaining-requests': '5',
  'x-ratelimit-reset-requests': '5s',
};
const refusal = {
  'retry-after': '30',
  'x-ratelimit-limit-requests': '60',
  'x-ratelimit-remaining-requests': '0',
  'x-ratelimit-reset-requests': '30s',
};

describe('ProviderRateLimits: an answer to a request sent before the latest pause', () => {
  function setUp() {
    const time = clock();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const limits = new ProviderRateLimits(telemetry, time.now);
    const gauge = (key: 'providerRateLimitRemaining' | 'providerRateLimitResetSeconds') =>
      telemetry.currentValue(key, { provider: 'alpha', limit_type: 'requests' });
    return { time, telemetry, limits, gauge };
  }

  it('neither ends the pause nor replaces the headroom the 429 recorded', () => {
    const { time, limits, gauge } = setUp();
    const slowSentAt = time.now();
    time.advance(300);
    limits.observe('alpha', 429, refusal, time.now());
    time.advance(1_700);
    limits.observe('alpha', 200, slowSuccess, slowSentAt);
    expect(limits.isExhausted('alpha')).toBe(true);
    expect(gauge('providerRateLimitRemaining')).toBe(0);
    expect(gauge('providerRateLimitResetSeconds')).toBe(30);
    // Nor does one without rate-limit headers at all.
    limits.observe('alpha', 200, {}, slowSentAt);
    expect(limits.isExhausted('alpha')).toBe(true);
    time.advance(28_299);
    expect(limits.isExhausted('alpha')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('alpha')).toBe(false);
  });

  it('does not replace the headroom of a pause its own budget announced, even once the pause is over', () => {
    const { time, limits, gauge } = setUp();
    const slowSentAt = time.now();
    time.advance(100);
    limits.observe('alpha', 200, { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' }, 100);
    time.advance(5_000);
    limits.observe('alpha', 200, slowSuccess, slowSentAt);
    expect(gauge('providerRateLimitRemaining')).toBe(0);
    expect(gauge('providerRateLimitResetSeconds')).toBe(1);
  });

  it('a success sent after the pause was recorded ends it and is recorded', () => {
    const { time, limits, gauge } = setUp();
    limits.observe('alpha', 429, refusal, time.now());
    time.advance(10);
    // Sent anyway (every other provider had failed), and answered.
    limits.observe('alpha', 200, slowSuccess, time.now());
    expect(limits.isExhausted('alpha')).toBe(false);
    expect(gauge('providerRateLimitRemaining')).toBe(5);
  });

  it('a refusal sent earlier can still lengthen the pause, and its malformed headers are counted', () => {
    const { time, telemetry, limits, gauge } = setUp();
    const earlierSentAt = time.now();
    time.advance(100);
    limits.observe('alpha', 429, { 'retry-after': '1' }, time.now());
    time.advance(100);
    limits.observe('alpha', 429, { 'retry-after': '20', 'x-ratelimit-remaining-requests': 'none' }, earlierSentAt);
    expect(gauge('providerRateLimitResetSeconds')).toBe(1);
    expect(
      telemetry.currentValue('rateLimitHeadersMalformed', {
        provider: 'alpha',
        header: 'x-ratelimit-remaining-requests',
      }),
    ).toBe(1);
    time.advance(19_999);
    expect(limits.isExhausted('alpha')).toBe(true);
    time.advance(1);
    expect(limits.isExhausted('alpha')).toBe(false);
  });
});

describe('gateway: a slow success sent before a 429 does not end the pause (real HTTP)', () => {
  /** Per provider, the answers of its next requests in order (the last one repeats). */
  const answers: Record<string, Array<{ status: number; headers: OutgoingHttpHeaders; delayMs?: number }>> = {
    alpha: [
      { status: 200, headers: slowSuccess, delayMs: 600 },
      { status: 429, headers: refusal },
    ],
    beta: [{ status: 200, headers: {} }],
  };
  const hits: Record<string, number> = { alpha: 0, beta: 0 };
  let firstAlphaRequest!: () => void;
  const firstAlphaReceived = new Promise<void>((resolve) => (firstAlphaRequest = resolve));
  let upstream: Server;
  let gateway: Awaited<ReturnType<typeof startGatewayFor>>;

  const chat = async (): Promise<string> => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }),
    });
    const body = (await response.json()) as { choices?: Array<{ message: { content: string } }> };
    return `${response.status} ${body.choices?.[0]?.message.content ?? ''}`;
  };

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const provider = (request.url ?? '').split('/')[1] as string;
        hits[provider] = (hits[provider] ?? 0) + 1;
        if (provider === 'alpha' && hits[provider] === 1) firstAlphaRequest();
        const queue = answers[provider] ?? [];
        const answer = (queue.length > 1 ? queue.shift() : queue[0]) ?? { status: 404, headers: {} };
        const body =
          answer.status === 200
            ? {
                id: 'c1',
                object: 'chat.completion',
                created: 1,
                model: 'm',
                choices: [{ index: 0, message: { role: 'assistant', content: provider }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
              }
            : { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } };
        setTimeout(() => {
          response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          response.end(JSON.stringify(body));
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gateway = await startGatewayFor([
      { name: 'alpha', baseUrl: `${base}/alpha/v1`, models: ['m'] },
      { name: 'beta', baseUrl: `${base}/beta/v1`, models: ['m'] },
    ]);
  });
  afterAll(async () => {
    await gateway?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('passes alpha over for its retry-after, with the 429 headroom on /metrics', async () => {
    const slow = chat();
    await firstAlphaReceived;
    // Alpha answers this one 429 (retry-after: 30) while the first is still generating.
    expect(await chat()).toBe('200 beta');
    expect(await slow).toBe('200 alpha');
    expect(await chat()).toBe('200 beta');
    expect(hits).toEqual({ alpha: 2, beta: 2 });
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const labels = { provider: 'alpha', limit_type: 'requests' };
    expect(sampleSum(text, 'gatewayz_provider_ratelimit_remaining', labels)).toBe(0);
    expect(sampleSum(text, 'gatewayz_provider_ratelimit_reset_seconds', labels)).toBeGreaterThan(25);
  });
});
