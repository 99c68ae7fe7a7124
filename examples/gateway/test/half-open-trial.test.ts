import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, sampleSum, startTestGateway, type TestGateway } from './harness.js';

/**
 * Half-open circuit breakers through the real gateway (simulated providers on loopback): the trial
 * call must reach a half-open provider even when healthier providers serve the same model, and a
 * request refused by a breaker must be told whether the breaker was open or busy with its trial.
 */
describe('half-open circuit breakers', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  const start = async (): Promise<TestGateway> => {
    // Two calls in the breaker's window are enough to open it; half-open 1 s after opening.
    gw = await startTestGateway({ env: { BREAKER_RESET_TIMEOUT_MS: '1000', BREAKER_VOLUME_THRESHOLD: '2' } });
    return gw;
  };
  const waitFor = async (predicate: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('sends the next request to a half-open provider ranked below a healthy one, and closes its breaker', async () => {
    const gateway = await start();
    const openai = gateway.provider('openai');
    const openrouter = gateway.provider('openrouter');
    const model = 'gpt-4o-mini'; // served by openai and openrouter
    const state = (): string | undefined => gateway.gateway.router.breakerStates()['openai'];
    const chain = (): string[] => gateway.gateway.router.candidates(model, 'chat').map((provider) => provider.name);
    const openaiCalls = (): number => openai.requestCounts.get('/v1/chat/completions') ?? 0;
    const answered = (provider: typeof openai): number => provider.outcomes.get(model)?.succeeded ?? 0;
    const scoreTick = async (): Promise<void> => {
      await gateway.gateway.recorder.flush();
      await gateway.gateway.tracker.tick();
    };
    const transitions = async (from: string, to: string): Promise<number> =>
      sampleSum(await gateway.scrape(), 'gatewayz_circuit_breaker_transitions_total', {
        provider: 'openai',
        from_state: from,
        to_state: to,
      });
    const trip = async (): Promise<void> => {
      openai.configure({ errorRate: 1, failureMode: 'error', latencyMs: 0 });
      for (let sent = 0; state() !== 'open'; sent++) {
        if (sent > 50) throw new Error('the breaker did not open');
        // openai fails, openrouter answers: the client never sees the failure.
        expect((await gateway.post('/v1/chat/completions', chatBody(model))).status).toBe(200);
      }
    };

    await trip();
    // The tracker reads openai's failures: its score falls below openrouter's, which now ranks first.
    await scoreTick();
    const score = (provider: string): number | undefined => gateway.gateway.tracker.healthScore(provider);
    expect(score('openai')).toBeLessThan(score('openrouter') as number);
    expect(chain()).toEqual(['openrouter', 'openai']);

    // Half-open: openai waits for its trial call, and comes first for it despite its score.
    await waitFor(() => state() === 'half_open', 'half-open');
    expect(chain()).toEqual(['openai', 'openrouter']);

    // openai has recovered (slowly: 1 s, so the requests below arrive during the trial). The next
    // request is its trial; requests arriving while the trial is in flight go to openrouter (200,
    // not 503), and the trial closes the breaker.
    openai.configure({ errorRate: 0, latencyMs: 1000 });
    const callsBefore = openaiCalls();
    const openaiAnswered = answered(openai);
    const openrouterAnswered = answered(openrouter);
    const trial = gateway.post('/v1/chat/completions', chatBody(model));
    await waitFor(() => openaiCalls() > callsBefore, 'the trial call to reach openai');
    expect(state()).toBe('half_open');
    expect(chain()).toEqual(['openrouter', 'openai']);
    const during = await Promise.all(
      Array.from({ length: 4 }, () => gateway.post('/v1/chat/completions', chatBody(model))),
    );
    expect(during.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(answered(openrouter) - openrouterAnswered).toBe(4);
    expect((await trial).status).toBe(200);
    expect(openaiCalls() - callsBefore).toBe(1);
    expect(answered(openai) - openaiAnswered).toBe(1);
    expect(state()).toBe('closed');
    expect(await transitions('half_open', 'closed')).toBe(1);
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
      circuit_breakers: Record<string, string>;
    };
    expect(health.circuit_breakers['openai']).toBe('closed');
    // The trial is the only call of openai's next interval: its score recovers with it.
    await scoreTick();
    expect(score('openai')).toBe(1);
    expect(chain()).toEqual(['openai', 'openrouter']);

    // Again, but openai still fails when the trial comes: the request that carried the trial fails
    // over to openrouter (the client gets its answer), and the breaker opens again.
    await trip();
    await waitFor(() => state() === 'half_open', 'half-open again');
    const failoversBefore = sampleSum(await gateway.scrape(), 'gatewayz_failovers_total', {
      provider: 'openai',
      next_provider: 'openrouter',
      reason: 'error',
    });
    const callsBeforeFailedTrial = openaiCalls();
    const openrouterBeforeFailedTrial = answered(openrouter);
    expect((await gateway.post('/v1/chat/completions', chatBody(model))).status).toBe(200);
    expect(openaiCalls() - callsBeforeFailedTrial).toBe(1);
    expect(answered(openrouter) - openrouterBeforeFailedTrial).toBe(1);
    expect(state()).toBe('open');
    expect(await transitions('half_open', 'open')).toBe(1);
    expect(
      sampleSum(await gateway.scrape(), 'gatewayz_failovers_total', {
        provider: 'openai',
        next_provider: 'openrouter',
        reason: 'error',
      }) - failoversBefore,
    ).toBe(1);
  });

  it('answers 503 saying whether the breaker is open or half-open with its trial call in progress', async () => {
    const gateway = await start();
    const openai = gateway.provider('openai');
    const model = 'gpt-4o'; // served by openai alone
    const state = (): string | undefined => gateway.gateway.router.breakerStates()['openai'];
    const refusal = async (): Promise<{
      status: number;
      retryAfter: string | null;
      error: Record<string, unknown>;
    }> => {
      const response = await gateway.post('/v1/chat/completions', chatBody(model));
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        error: ((await response.json()) as { error: Record<string, unknown> }).error,
      };
    };
    openai.configure({ errorRate: 1, failureMode: 'error', latencyMs: 0 });
    for (let sent = 0; state() !== 'open'; sent++) {
      if (sent > 50) throw new Error('the breaker did not open');
      expect((await gateway.post('/v1/chat/completions', chatBody(model))).status).toBe(502);
    }

    const whileOpen = await refusal();
    expect(whileOpen.status).toBe(503);
    // Half-open within the 1 s reset timeout: retry in 1 s.
    expect(whileOpen.retryAfter).toBe('1');
    expect(whileOpen.error).toEqual({
      message: 'No provider is available for `gpt-4o`: the circuit breaker of openai is open. Retry shortly.',
      type: 'server_error',
      param: null,
      code: 'providers_unavailable',
    });

    await waitFor(() => state() === 'half_open', 'half-open');
    openai.configure({ errorRate: 0, latencyMs: 1000 });
    const calls = (): number => openai.requestCounts.get('/v1/chat/completions') ?? 0;
    const callsBefore = calls();
    const trial = gateway.post('/v1/chat/completions', chatBody(model));
    await waitFor(() => calls() > callsBefore, 'the trial call to reach openai');
    const duringTrial = await refusal();
    expect(duringTrial.status).toBe(503);
    // The trial may end at any moment: the least Retry-After, 1 s.
    expect(duringTrial.retryAfter).toBe('1');
    expect(duringTrial.error).toMatchObject({ type: 'server_error', code: 'providers_unavailable' });
    expect(duringTrial.error['message']).toBe(
      'No provider is available for `gpt-4o`: the circuit breaker of openai is half-open with a trial call ' +
        'in progress (the provider is being retested). Retry shortly.',
    );
    expect((await trial).status).toBe(200);
    expect(state()).toBe('closed');
    expect(calls() - callsBefore).toBe(1);
  });

  /** A chat request whose client hangs up once `provider` has received it; resolves when it has. */
  const cancelOnceReceived = async (
    gateway: TestGateway,
    provider: ReturnType<TestGateway['provider']>,
    model: string,
  ): Promise<void> => {
    const calls = (): number => provider.requestCounts.get('/v1/chat/completions') ?? 0;
    const before = calls();
    const controller = new AbortController();
    const pending = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody(model)),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await waitFor(() => calls() > before, `the call to reach ${provider.name}`);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
  };

  it('a trial call the client cancels leaves the breaker open, and the next trial is a new call', async () => {
    const gateway = await start();
    const openai = gateway.provider('openai');
    const model = 'gpt-4o'; // served by openai alone
    const state = (): string | undefined => gateway.gateway.router.breakerStates()['openai'];
    const calls = (): number => openai.requestCounts.get('/v1/chat/completions') ?? 0;
    const transitions = async (from: string, to: string): Promise<number> =>
      sampleSum(await gateway.scrape(), 'gatewayz_circuit_breaker_transitions_total', {
        provider: 'openai',
        from_state: from,
        to_state: to,
      });
    openai.configure({ errorRate: 1, failureMode: 'error', latencyMs: 0 });
    for (let sent = 0; state() !== 'open'; sent++) {
      if (sent > 50) throw new Error('the breaker did not open');
      expect((await gateway.post('/v1/chat/completions', chatBody(model))).status).toBe(502);
    }
    await waitFor(() => state() === 'half_open', 'half-open');

    // openai has recovered, slowly; the client of the trial call hangs up before it answers.
    openai.configure({ errorRate: 0, latencyMs: 1000 });
    const callsBefore = calls();
    await cancelOnceReceived(gateway, openai, model);
    await waitFor(() => state() !== 'half_open', 'the cancelled trial to end');
    // openai never answered: the breaker must not close on it. It is open again (opossum has no
    // way back to "waiting for a trial" but its reset timer)...
    expect(state()).toBe('open');
    expect(await transitions('half_open', 'closed')).toBe(0);
    expect(await transitions('half_open', 'open')).toBe(1);
    const refused = await gateway.post('/v1/chat/completions', chatBody(model));
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('providers_unavailable');
    expect(calls() - callsBefore).toBe(1);

    // ...and once half-open again, the next request is the trial: it reaches openai and closes it.
    await waitFor(() => state() === 'half_open', 'half-open again');
    expect(gateway.gateway.router.candidates('gpt-4o-mini', 'chat').map((provider) => provider.name)).toEqual([
      'openai',
      'openrouter',
    ]);
    openai.configure({ latencyMs: 0 });
    expect((await gateway.post('/v1/chat/completions', chatBody(model))).status).toBe(200);
    expect(calls() - callsBefore).toBe(2);
    expect(state()).toBe('closed');
    expect(await transitions('half_open', 'closed')).toBe(1);
  });

  it('does not hold client cancellations against a provider whose breaker is closed', async () => {
    const gateway = await start();
    const openai = gateway.provider('openai');
    const state = (): string | undefined => gateway.gateway.router.breakerStates()['openai'];
    openai.configure({ errorRate: 0, latencyMs: 1000 });
    // Two calls in the window open the breaker when they fail; four cancelled ones must not.
    for (let cancelled = 0; cancelled < 4; cancelled++) {
      expect(state()).toBe('closed');
      await cancelOnceReceived(gateway, openai, 'gpt-4o');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state()).toBe('closed');
    openai.configure({ latencyMs: 0 });
    expect((await gateway.post('/v1/chat/completions', chatBody('gpt-4o'))).status).toBe(200);
  });

  it('answers the 503 with a Retry-After until the first refusing breaker goes half-open, in both error shapes', async () => {
    // A 30 s reset timeout, so the Retry-After counts down whole seconds well above its floor of 1.
    gw = await startTestGateway({ env: { BREAKER_RESET_TIMEOUT_MS: '30000', BREAKER_VOLUME_THRESHOLD: '2' } });
    const gateway = gw;
    const state = (provider: string): string | undefined => gateway.gateway.router.breakerStates()[provider];
    /** Fail `provider` until its breaker opens (requests for `model`); returns when it opened, within bounds. */
    const trip = async (provider: string, model: string): Promise<{ after: number; before: number }> => {
      gateway.provider(provider).configure({ errorRate: 1, failureMode: 'error', latencyMs: 0 });
      let sentAt = Date.now();
      for (let sent = 0; state(provider) !== 'open'; sent++) {
        if (sent > 50) throw new Error(`the breaker of ${provider} did not open`);
        sentAt = Date.now();
        await gateway.post('/v1/chat/completions', chatBody(model));
      }
      return { after: sentAt, before: Date.now() };
    };
    /** The Retry-After a 503 answered between `sentAt` and `answeredAt` may carry for a breaker opened within `opened`. */
    const expected = (opened: { after: number; before: number }, sentAt: number, answeredAt: number): number[] => {
      const low = Math.ceil((opened.after + 30_000 - answeredAt) / 1000);
      const high = Math.ceil((opened.before + 30_000 - sentAt) / 1000);
      return Array.from({ length: high - low + 1 }, (_, index) => low + index);
    };

    const openaiOpened = await trip('openai', 'gpt-4o'); // gpt-4o: openai alone
    let sentAt = Date.now();
    const openAi = await gateway.post('/v1/chat/completions', chatBody('gpt-4o'));
    let answeredAt = Date.now();
    expect(openAi.status).toBe(503);
    expect(((await openAi.json()) as { error: { code: string } }).error.code).toBe('providers_unavailable');
    const openAiRetryAfter = Number(openAi.headers.get('retry-after'));
    expect(expected(openaiOpened, sentAt, answeredAt)).toContain(openAiRetryAfter);
    expect(openAiRetryAfter).toBeGreaterThan(25);

    // The same refusal in Anthropic's shape (/v1/messages) carries the same header.
    sentAt = Date.now();
    const anthropic = await gateway.post('/v1/messages', {
      model: 'gpt-4o',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    answeredAt = Date.now();
    expect(anthropic.status).toBe(503);
    expect(((await anthropic.json()) as { type: string; error: { type: string } }).error.type).toBe('overloaded_error');
    expect(expected(openaiOpened, sentAt, answeredAt)).toContain(Number(anthropic.headers.get('retry-after')));

    // Two providers refusing: the one that goes half-open first decides (openai opened over 1 s
    // before openrouter).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const openrouterOpened = await trip('openrouter', 'llama-3.1-8b-instruct'); // openrouter alone
    sentAt = Date.now();
    const both = await gateway.post('/v1/chat/completions', chatBody('gpt-4o-mini')); // openai and openrouter
    answeredAt = Date.now();
    expect(both.status).toBe(503);
    const bothRetryAfter = Number(both.headers.get('retry-after'));
    expect(expected(openaiOpened, sentAt, answeredAt)).toContain(bothRetryAfter);
    expect(bothRetryAfter).toBeLessThan(Math.ceil((openrouterOpened.after + 30_000 - answeredAt) / 1000));
  });
});
