import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, sampleSum, startGatewayFor } from './harness.js';

/*
 * A provider that announced no requests left is passed over while a provider after it in the
 * chain can answer. When those fail, it is tried after all, as the last resort: its announcement
 * is a forecast, and a 502 for a request it may still answer is worse than one more call.
 */

const MODEL = 'spent-1';

interface Setup {
  url: string;
  /** Calls each provider received, by name. */
  calls: Map<string, number>;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A loopback upstream of providers `/{name}/v1/...`: `broken*` answer 500; the others answer a chat
 * completion with headers announcing no requests left for a minute.
 */
async function startUpstream(calls: Map<string, number>): Promise<Server> {
  const server = createServer((request, response) => {
    const provider = (request.url ?? '').split('/')[1] ?? '';
    request.resume().on('end', () => {
      calls.set(provider, (calls.get(provider) ?? 0) + 1);
      if (provider.startsWith('broken')) {
        response
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'Internal error', type: 'server_error' } }));
        return;
      }
      response
        .writeHead(200, {
          'content-type': 'application/json',
          'x-ratelimit-limit-requests': '10',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '60s',
        })
        .end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1_700_000_000,
            model: MODEL,
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
          }),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function start(providers: readonly string[]): Promise<Setup> {
  const calls = new Map<string, number>();
  const upstream = await startUpstream(calls);
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const running = await startGatewayFor(
    providers.map((name) => ({ name, baseUrl: `${base}/${name}/v1`, models: [MODEL] })),
    { ATTEMPT_TIMEOUT_MS: '5000', BREAKER_VOLUME_THRESHOLD: '1000' },
  );
  return {
    url: running.url,
    calls,
    scrape: async () => (await fetch(`${running.url}/metrics`)).text(),
    close: async () => {
      await running.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}

const chat = (url: string): Promise<Response> =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(MODEL)),
  });

describe('a provider with no requests left is the last resort, not left out', () => {
  let setup: Setup | undefined;
  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  it('after the providers before it failed, it is tried (it was passed over only while one after it could answer)', async () => {
    setup = await start(['broken', 'spent']);
    // First request: broken fails, spent answers and announces no requests left.
    expect((await chat(setup.url)).status).toBe(200);
    // Second: broken fails again; spent is the only provider left that could answer.
    const second = await chat(setup.url);
    expect(second.status).toBe(200);
    expect(setup.calls).toEqual(
      new Map([
        ['broken', 2],
        ['spent', 2],
      ]),
    );
  });

  it('passed over for a provider after it, it is tried once that one failed, and each move is counted', async () => {
    setup = await start(['spent', 'broken']);
    expect((await chat(setup.url)).status).toBe(200);
    expect(setup.calls.get('spent')).toBe(1);
    // spent is exhausted and broken could answer: broken first, then spent as the last resort.
    const response = await chat(setup.url);
    expect(response.status).toBe(200);
    expect(setup.calls).toEqual(
      new Map([
        ['spent', 2],
        ['broken', 1],
      ]),
    );
    const text = await setup.scrape();
    const failovers = (provider: string, next: string, reason: string): number =>
      sampleSum(text, 'gatewayz_failovers_total', { provider, next_provider: next, reason });
    expect(failovers('spent', 'broken', 'rate_limited')).toBe(1);
    expect(failovers('broken', 'spent', 'error')).toBe(1);
    expect(sampleSum(text, 'gatewayz_failovers_total')).toBe(2);
  });

  it('stays passed over while a provider after it answers', async () => {
    setup = await start(['spent', 'fresh']);
    expect((await chat(setup.url)).status).toBe(200);
    // Both announce no requests left after answering; the first request went to spent only.
    expect(setup.calls).toEqual(new Map([['spent', 1]]));
    // spent exhausted, fresh not yet: fresh answers, spent is not called.
    expect((await chat(setup.url)).status).toBe(200);
    expect(setup.calls).toEqual(
      new Map([
        ['spent', 1],
        ['fresh', 1],
      ]),
    );
    // Both exhausted now: tried anyway, in chain order.
    expect((await chat(setup.url)).status).toBe(200);
    expect(setup.calls.get('spent')).toBe(2);
  });
});
