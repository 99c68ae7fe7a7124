import { afterEach, describe, expect, it } from 'vitest';
import { upstreamStatusFailure } from '../src/providers/upstream.js';
import type { Gateway } from '../src/index.js';
import { chatBody, sampleSum, startGatewayFor } from './harness.js';
import { startUpstream } from './misbehaving-upstream.js';

/*
 * What the client gets when a provider answers badly, over HTTP with the gateway in this process
 * in front of loopback providers (`/{name}/v1/...`): a client error passed back as the provider
 * said it, the 429 of a rate-limited chain with its `Retry-After` and its provider on the GenAI
 * server metrics, the failovers counted around a provider with no requests left, and the message a
 * provider refusing the gateway's credentials leaves in model health.
 */

const MODEL = 'pinned-1';

/** How one provider answers every call. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** A completion announcing that its provider has no requests left for a minute. */
const SPENT: Answer = {
  status: 200,
  headers: {
    'x-ratelimit-limit-requests': '10',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': '60s',
  },
  body: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
};
const BROKEN: Answer = { status: 500, body: { error: { message: 'Internal error', type: 'server_error' } } };

interface Setup {
  url: string;
  gateway: Gateway;
  /** Calls each provider received, by name. */
  calls: Map<string, number>;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

let setup: Setup | undefined;
afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

/** The gateway in front of `answers`' providers, in that order, each serving `MODEL`. */
async function start(answers: Record<string, Answer>, env: Record<string, string> = {}): Promise<Setup> {
  const calls = new Map<string, number>();
  const upstream = await startUpstream((_model, _stream, response, _origin, path) => {
    const name = path.split('/')[1] ?? '';
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const answer = answers[name] as Answer;
    response
      .writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      .end(JSON.stringify(answer.body));
  });
  const origin = upstream.baseUrl.replace(/\/v1$/, '');
  const running = await startGatewayFor(
    Object.keys(answers).map((name) => ({ name, baseUrl: `${origin}/${name}/v1`, models: [MODEL] })),
    { ATTEMPT_TIMEOUT_MS: '5000', ...env },
  );
  setup = {
    url: running.url,
    gateway: running.gateway,
    calls,
    scrape: async () => (await fetch(`${running.url}/metrics`)).text(),
    close: async () => {
      await running.close();
      await upstream.close();
    },
  };
  return setup;
}

async function post(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const messagesBody = { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

describe('a client error from the provider', () => {
  const invalid = {
    message: 'messages[0].content is invalid',
    type: 'invalid_request_error',
    code: 'invalid_value',
    param: 'messages',
  };

  it('reaches an OpenAI client with its status and every error field, param included', async () => {
    const { url } = await start({ p: { status: 422, body: { error: invalid } } });
    const answer = await post(url, '/v1/chat/completions', chatBody(MODEL));
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ error: invalid });
  });

  it('reaches an Anthropic client with its status, in the Anthropic error shape', async () => {
    const { url } = await start({ p: { status: 422, body: { error: invalid } } });
    const answer = await post(url, '/v1/messages', messagesBody);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages[0].content is invalid' },
    });
  });
});

describe('the 429 of a chain whose every provider is rate limited', () => {
  const limited = (headers: Record<string, string>): Answer => ({
    status: 429,
    headers,
    body: { error: { message: 'slow down', type: 'rate_limit_error' } },
  });

  it('says Retry-After as the 429 did, though its headers announce an exhausted window that resets sooner', async () => {
    const { url } = await start({
      p: limited({
        'retry-after': '30',
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '2s',
      }),
    });
    const answer = await post(url, '/v1/chat/completions', chatBody(MODEL));
    expect(answer.status).toBe(429);
    expect(answer.body).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(answer.headers.get('retry-after')).toBe('30');
  });

  it('is recorded on gen_ai_server_request_duration as answered by the provider that said 429', async () => {
    const running = await start({ p: limited({ 'retry-after': '2' }) });
    expect((await post(running.url, '/v1/chat/completions', chatBody(MODEL))).status).toBe(429);
    const text = await running.scrape();
    const requests = (provider: string): number =>
      sampleSum(text, 'gen_ai_server_request_duration_count', {
        gen_ai_request_model: MODEL,
        gen_ai_provider_name: provider,
      });
    expect(requests('p')).toBe(1);
    expect(requests('gatewayz')).toBe(0);
  });
});

describe('failovers around a provider with no requests left', () => {
  const chat = async (url: string): Promise<number> =>
    (await post(url, '/v1/chat/completions', chatBody(MODEL))).status;
  const failovers = (text: string, labels: Record<string, string> = {}): number =>
    sampleSum(text, 'gatewayz_failovers_total', labels);

  it('counts none when it is the only provider: no later one could answer, so it is tried in turn', async () => {
    const running = await start({ spent: SPENT }, { BREAKER_VOLUME_THRESHOLD: '1000' });
    expect(await chat(running.url)).toBe(200);
    expect(await chat(running.url)).toBe(200);
    expect(running.calls).toEqual(new Map([['spent', 2]]));
    expect(failovers(await running.scrape())).toBe(0);
  });

  it('counts no move past it when the provider after it has its breaker open', async () => {
    const running = await start(
      { spent: SPENT, broken: BROKEN },
      { BREAKER_VOLUME_THRESHOLD: '1', BREAKER_RESET_TIMEOUT_MS: '600000' },
    );
    // spent answers and announces no requests left.
    expect(await chat(running.url)).toBe(200);
    // spent passed over for broken, which fails (its breaker opens), then spent as the last resort.
    expect(await chat(running.url)).toBe(200);
    // broken refuses calls: nothing after spent can answer, so spent is tried first, with no move.
    expect(await chat(running.url)).toBe(200);
    expect(running.calls).toEqual(
      new Map([
        ['spent', 3],
        ['broken', 1],
      ]),
    );
    const text = await running.scrape();
    expect(failovers(text, { provider: 'spent', next_provider: 'broken', reason: 'rate_limited' })).toBe(1);
    expect(failovers(text, { provider: 'broken', next_provider: 'spent', reason: 'error' })).toBe(1);
    expect(failovers(text)).toBe(2);
  });
});

describe("a provider refusing the gateway's credentials", () => {
  it.each([401, 403])('is failed over with a message naming the credentials (HTTP %i)', (status) => {
    const failure = upstreamStatusFailure(status, undefined);
    expect(failure.failover).toBe(true);
    expect(failure.errorType).toBe(String(status));
    expect(failure.message).toBe(`Upstream rejected the gateway's credentials (HTTP ${status})`);
  });

  it("leaves that message as the model's last error in model health (HTTP 403)", async () => {
    const running = await start({ p: { status: 403, body: { error: { message: 'Forbidden' } } } });
    expect((await post(running.url, '/v1/chat/completions', chatBody(MODEL))).status).toBe(502);
    await running.gateway.recorder.flush();
    const health = await running.gateway.store.getModelHealth('p', MODEL);
    expect(health?.lastErrorMessage).toBe("Upstream rejected the gateway's credentials (HTTP 403)");
  });
});
