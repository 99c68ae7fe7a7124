import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedRateLimit } from '../src/providers/simulated-rate-limit.js';
import { restartCounter } from '../src/server/run-cluster.js';
import { chatBody, startGatewayFor } from './harness.js';

/*
 * The wall clock stepped back an hour (NTP correcting it, a VM resumed) while the gateway waits out
 * a deadline: a rate-limit pause, an open circuit breaker, a simulated provider's window, the
 * crash-loop window. Fake timers move `Date` and `performance` together as time passes;
 * `vi.setSystemTime` then steps `Date` alone, as the system clock steps.
 */

const MODEL = 'step-1';
const HOUR_MS = 3_600_000;

/** What each provider (`/{name}/v1/...`) of the upstream answers: 200, 500, or 429 with these headers. */
type Answer = 'ok' | 'error' | { readonly rateLimited: Record<string, string> };

interface Setup {
  url: string;
  answers: Map<string, Answer>;
  /** Calls each provider received. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

function answer(response: ServerResponse, how: Answer): void {
  const json = { 'content-type': 'application/json' };
  if (how === 'ok')
    response.writeHead(200, json).end(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: MODEL,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    );
  else if (how === 'error')
    response.writeHead(500, json).end(JSON.stringify({ error: { message: 'Internal error', type: 'server_error' } }));
  else
    response
      .writeHead(429, { ...json, ...how.rateLimited })
      .end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }));
}

async function start(providers: readonly string[], env: Record<string, string> = {}): Promise<Setup> {
  const answers = new Map<string, Answer>();
  const calls = new Map<string, number>();
  const upstream = createServer((request, response) => {
    const provider = (request.url ?? '').split('/')[1] ?? '';
    request.resume().on('end', () => {
      calls.set(provider, (calls.get(provider) ?? 0) + 1);
      answer(response, answers.get(provider) ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const running = await startGatewayFor(
    providers.map((name) => ({ name, baseUrl: `${base}/${name}/v1`, models: [MODEL] })),
    { ATTEMPT_TIMEOUT_MS: '5000', ...env },
  );
  return {
    url: running.url,
    answers,
    calls,
    close: async () => {
      await running.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}

const post = (url: string): Promise<Response> =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(MODEL)),
  });

/** Time passes: `Date` and `performance` move together. */
const pass = (ms: number): void => {
  vi.advanceTimersByTime(ms);
};
/** The system clock steps by `ms` (negative: back); `performance` does not move. */
const stepWallClock = (ms: number): void => {
  vi.setSystemTime(Date.now() + ms);
};

describe('a step of the wall clock', () => {
  let setup: Setup | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await setup?.close();
    setup = undefined;
  });
  const fakeClocks = (): void => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
  };

  it('back an hour does not keep a 429 provider paused: it is tried again once its retry-after is over', async () => {
    fakeClocks();
    setup = await start(['limited', 'fallback']);
    setup.answers.set('limited', { rateLimited: { 'retry-after': '2' } });
    expect((await post(setup.url)).status).toBe(200);
    expect([setup.calls.get('limited'), setup.calls.get('fallback')]).toEqual([1, 1]);

    setup.answers.set('limited', 'ok');
    stepWallClock(-HOUR_MS);
    pass(1_000);
    // Still paused (1 s of its 2 s left): passed over for the fallback.
    expect((await post(setup.url)).status).toBe(200);
    expect([setup.calls.get('limited'), setup.calls.get('fallback')]).toEqual([1, 2]);
    pass(1_000);
    expect((await post(setup.url)).status).toBe(200);
    expect([setup.calls.get('limited'), setup.calls.get('fallback')]).toEqual([2, 2]);
  });

  it('back an hour keeps the Retry-After of the 429 within the pause, under RETRY_AFTER_MAX_MS', async () => {
    fakeClocks();
    setup = await start(['only'], { RETRY_AFTER_MAX_MS: '30000' });
    setup.answers.set('only', { rateLimited: { 'retry-after': '2' } });
    const first = await post(setup.url);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');

    stepWallClock(-HOUR_MS);
    // The pause the first 429 set still runs (the provider is tried anyway: no other can answer).
    const second = await post(setup.url);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('2');
    // A day-long retry-after is capped at RETRY_AFTER_MAX_MS, whatever the wall clock did.
    setup.answers.set('only', { rateLimited: { 'retry-after': '86400' } });
    stepWallClock(-HOUR_MS);
    const capped = await post(setup.url);
    expect(capped.status).toBe(429);
    expect(capped.headers.get('retry-after')).toBe('30');
  });

  it('back an hour leaves the Retry-After of a circuit-open 503 at the breaker reset timeout', async () => {
    fakeClocks();
    setup = await start(['broken'], {
      BREAKER_VOLUME_THRESHOLD: '1',
      BREAKER_ERROR_THRESHOLD_PERCENT: '1',
      BREAKER_RESET_TIMEOUT_MS: '10000',
    });
    setup.answers.set('broken', 'error');
    expect((await post(setup.url)).status).toBe(502);

    stepWallClock(-HOUR_MS);
    pass(3_000);
    const refused = await post(setup.url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(setup.calls.get('broken')).toBe(1);
  });

  it("back an hour does not hold a simulated provider's rate-limit window shut", () => {
    fakeClocks();
    const limit = new SimulatedRateLimit('openai');
    const headers = new Map<string, string>();
    const response = {
      setHeader: (name: string, value: string) => void headers.set(name, value),
    } as unknown as ServerResponse;
    expect(limit.admit(response, 1, 10)).toBe(true);
    pass(30_000);
    stepWallClock(-HOUR_MS);
    expect(limit.admit(response, 1, 10)).toBe(false);
    expect(headers.get('retry-after')).toBe('30');
    pass(30_000);
    expect(limit.admit(response, 1, 10)).toBe(true);
  });

  it('does not move the crash-loop window of the cluster primary, back or forward', () => {
    fakeClocks();
    const restarted = restartCounter(60_000);
    for (let restart = 1; restart <= 10; restart++) expect(restarted()).toBe(restart);
    pass(61_000);
    stepWallClock(-HOUR_MS);
    // The ten restarts of over a minute ago are out of the window: not a crash loop.
    expect(restarted()).toBe(1);

    const looping = restartCounter(60_000);
    for (let restart = 1; restart <= 10; restart++) looping();
    stepWallClock(HOUR_MS);
    expect(looping()).toBe(11);
  });
});
