import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, startGatewayFor } from './harness.js';

/*
 * The 429 the gateway answers when every provider of the chain is rate limited, over HTTP: it
 * carries a `Retry-After` saying when the first of those providers takes requests again (the
 * pauses their own 429s imposed), in both error shapes.
 */

const MODEL = 'limited-1';

interface Setup {
  url: string;
  /** Headers each provider's 429 carries from now on, by provider name. */
  headers: Map<string, Record<string, string>>;
  /** Providers that answer 500 instead, from now on. */
  failing: Set<string>;
  close(): Promise<void>;
}

/**
 * A loopback upstream whose providers (`/{name}/v1/...`) answer every call 429 with their headers,
 * or 500 for those in `failing`.
 */
async function startLimitedUpstream(
  headers: Map<string, Record<string, string>>,
  failing: Set<string>,
): Promise<Server> {
  const server = createServer((request, response) => {
    const provider = (request.url ?? '').split('/')[1] ?? '';
    request.resume().on('end', () =>
      failing.has(provider)
        ? response
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: { message: 'Internal error', type: 'server_error' } }))
        : response.writeHead(429, { 'content-type': 'application/json', ...headers.get(provider) }).end(
            JSON.stringify({
              error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
            }),
          ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function start(providers: readonly string[], settings: Record<string, string> = {}): Promise<Setup> {
  const headers = new Map<string, Record<string, string>>();
  const failing = new Set<string>();
  const upstream = await startLimitedUpstream(headers, failing);
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const running = await startGatewayFor(
    providers.map((name) => ({ name, baseUrl: `${base}/${name}/v1`, models: [MODEL] })),
    { ATTEMPT_TIMEOUT_MS: '5000', ...settings },
  );
  const { url } = running;
  return {
    url,
    headers,
    failing,
    close: async () => {
      await running.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}

const post = (url: string, path: string, body: unknown): Promise<Response> =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('429 when every provider is rate limited: Retry-After', () => {
  let setup: Setup | undefined;
  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  it('says when the first provider pause ends, rounded up, in the OpenAI and the Anthropic shape', async () => {
    setup = await start(['slow', 'soon']);
    // `slow` pauses for 40 s; `soon` for 2.5 s (retry-after-ms wins over its retry-after).
    setup.headers.set('slow', { 'retry-after': '40' });
    setup.headers.set('soon', { 'retry-after-ms': '2500', 'retry-after': '50' });

    const sentAt = Date.now();
    const openAi = await post(setup.url, '/v1/chat/completions', chatBody(MODEL));
    const answeredAt = Date.now();
    expect(openAi.status).toBe(429);
    expect(((await openAi.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    // soon's pause ends 2.5 s after its 429 (between sentAt and answeredAt): 3 s rounded up,
    // 2 if the answer took over half a second.
    const retryAfter = Number(openAi.headers.get('retry-after'));
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((sentAt + 2500 - answeredAt) / 1000));

    // Both paused: a request tries them anyway (no other provider could answer), both answer 429.
    const anthropic = await post(setup.url, '/v1/messages', {
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(anthropic.status).toBe(429);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    const anthropicRetryAfter = Number(anthropic.headers.get('retry-after'));
    expect(anthropicRetryAfter).toBeGreaterThanOrEqual(2);
    expect(anthropicRetryAfter).toBeLessThanOrEqual(3);

    // Streamed requests get the same answer (the stream never opened).
    const streamed = await post(setup.url, '/v1/chat/completions', chatBody(MODEL, { stream: true }));
    expect(streamed.status).toBe(429);
    expect(Number(streamed.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
  });

  it('is the provider pause for one provider, and at least 1 s for a pause shorter than a second', async () => {
    setup = await start(['only']);
    setup.headers.set('only', { 'retry-after': '17' });
    const paused = await post(setup.url, '/v1/chat/completions', chatBody(MODEL));
    expect(paused.status).toBe(429);
    expect(paused.headers.get('retry-after')).toBe('17');

    // A 429 naming a pause of 100 ms keeps the 17 s one already noted (the later wins): the
    // provider is told apart from one answering 429 with no hint at all (1 s by default).
    setup.headers.set('only', { 'retry-after-ms': '100' });
    const again = await post(setup.url, '/v1/chat/completions', chatBody(MODEL));
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(16);

    const fresh = await start(['brief']);
    try {
      fresh.headers.set('brief', { 'retry-after-ms': '100' });
      const brief = await post(fresh.url, '/v1/chat/completions', chatBody(MODEL));
      expect(brief.status).toBe(429);
      expect(brief.headers.get('retry-after')).toBe('1');
    } finally {
      await fresh.close();
    }
  });
  it('is sooner when the breaker of a provider the request could not try lets a call through first', async () => {
    // `broken` fails (its breaker opens after one failure, for 2 s); `limited` pauses for 40 s.
    setup = await start(['broken', 'limited'], {
      BREAKER_VOLUME_THRESHOLD: '1',
      BREAKER_ERROR_THRESHOLD_PERCENT: '1',
      BREAKER_RESET_TIMEOUT_MS: '2000',
    });
    setup.failing.add('broken');
    setup.headers.set('limited', { 'retry-after': '40' });
    const first = await post(setup.url, '/v1/chat/completions', chatBody(MODEL));
    expect(first.status).toBe(502);

    // Now `broken`'s breaker refuses the call and `limited` answers 429: the answer is a 429 whose
    // Retry-After is when the breaker goes half-open (2 s at most), not the 40 s pause.
    const second = await post(setup.url, '/v1/chat/completions', chatBody(MODEL));
    expect(second.status).toBe(429);
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
  });
});
