import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { sampleSum, SpanRecorder } from './harness.js';
import { startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * A provider that ignores `stream: true` answers one JSON chat completion, and the stream's client
 * leaves while that body is still arriving. The completion was generated and is billed in full: the
 * gateway used to read it whole and then, finding the client gone, end the attempt cancelled
 * without its usage (no tokens, no cost, the key charged the estimate of an attempt without usage).
 * And a body that never ends (whitespace trickling in) held the upstream connection for as long as
 * it trickled, the client long gone. Real HTTP on loopback, the gateway in this process.
 */

const KEY = 'gwz-json-client-gone';
const AUTH = { authorization: `Bearer ${KEY}` };
const MODEL = 'm';
/** USD per token, multiples of 2^-16 so the sums below are exact. */
const INPUT = 2 ** -16;
const OUTPUT = 2 ** -14;
const PRICE = { [MODEL]: { inputPerMillionTokens: INPUT * 1e6, outputPerMillionTokens: OUTPUT * 1e6 } };
const USAGE = { prompt_tokens: 10, completion_tokens: 3000, total_tokens: 3010 };
const COST = 10 * INPUT + 3000 * OUTPUT;
const BODY = JSON.stringify({
  id: 'chatcmpl-late',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'a long answer' }, finish_reason: 'stop' }],
  usage: USAGE,
});

/** The provider, answering its one request with `BODY` in two parts. */
interface SlowJsonUpstream {
  baseUrl: string;
  /** Resolves once the headers and the first part of the body were sent. */
  firstPartSent: Promise<void>;
  /** Send the rest of the body. */
  finish(): void;
  /** Resolves when the connection of the answer closed. */
  closed: Promise<void>;
  requests: number;
  close(): Promise<void>;
}

/** A provider sending the first half of `BODY`, then the rest on `finish()`; with `trickleMs`, a space that often meanwhile. */
async function startSlowJsonUpstream(trickleMs?: number): Promise<SlowJsonUpstream> {
  let sent!: () => void;
  let finish: () => void = () => {};
  let closed!: () => void;
  const upstream = {
    firstPartSent: new Promise<void>((resolve) => (sent = resolve)),
    closed: new Promise<void>((resolve) => (closed = resolve)),
    finish: () => finish(),
    requests: 0,
  };
  const server: Server = createServer((request, response) => {
    upstream.requests++;
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(BODY.slice(0, BODY.length / 2));
      const trickle = trickleMs === undefined ? undefined : setInterval(() => response.write(' '), trickleMs);
      response.on('close', () => {
        clearInterval(trickle);
        closed();
      });
      finish = () => response.end(BODY.slice(BODY.length / 2));
      sent();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(upstream, {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

let gateway: ScriptedGateway | undefined;
let upstream: SlowJsonUpstream | undefined;
const spans = new SpanRecorder();

afterEach(async () => {
  await gateway?.close();
  await upstream?.close();
  gateway = undefined;
  upstream = undefined;
  spans.clear();
});

async function start(
  cancelStopsBilling: boolean,
  trickleMs?: number,
  env: Record<string, string> = {},
): Promise<[ScriptedGateway, SlowJsonUpstream, ApiKeyAccount]> {
  upstream = await startSlowJsonUpstream(trickleMs);
  gateway = await startScriptedGateway({ name: 'scripted', models: ['unused'] }, [spans], {
    apiKeys: { keys: [{ name: 'capped', key: KEY, plan: 'paid', budgetUsd: 1 }], required: true },
    providers: [{ name: 'json', baseUrl: upstream.baseUrl, models: [MODEL], pricing: PRICE, cancelStopsBilling }],
    env,
  });
  return [gateway, upstream, gateway.gateway.apiKeys.account('capped') as ApiKeyAccount];
}

/** Ask for a chat stream, and leave once the provider sent the first part of its JSON answer. */
async function leaveDuringTheBody(running: ScriptedGateway, slow: SlowJsonUpstream): Promise<void> {
  const leaving = new AbortController();
  const answer = fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 4000 }),
    signal: leaving.signal,
  });
  await slow.firstPartSent;
  leaving.abort();
  await expect(answer).rejects.toThrow();
}

const attemptSpan = () => spans.spans.find((span) => span.name === `chat ${MODEL}`);

describe('a JSON completion to a chat stream request whose client leaves while the body arrives', () => {
  it.each([false, true])(
    'records and charges its usage, once, when the rest arrives (cancelStopsBilling: %s)',
    async (cancelStopsBilling) => {
      const [running, slow, account] = await start(cancelStopsBilling);
      await leaveDuringTheBody(running, slow);
      // The gateway has seen its client go (the response closed) before the rest of the body comes.
      await new Promise((resolve) => setTimeout(resolve, 200));
      slow.finish();
      await vi.waitFor(() => expect(account.holdCount).toBe(0), { timeout: 5000, interval: 5 });

      expect(account.spentUsd).toBe(COST);
      const text = await running.scrape();
      const tokens = (type: string): number =>
        sampleSum(text, 'tokens_used_total', { provider: 'json', model: MODEL, token_type: type });
      expect([tokens('input'), tokens('output')]).toEqual([10, 3000]);
      expect(sampleSum(text, 'gatewayz_cost_by_provider_total', { provider: 'json' })).toBe(COST);
      expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'capped' })).toBe(COST);
      expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total')).toBe(0);
      expect(sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total')).toBe(0);
      expect(slow.requests).toBe(1);
      // Still the attempt its client left, now with the usage.
      expect(attemptSpan()?.attributes).toMatchObject({
        'error.type': 'cancelled',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 3000,
        'gatewayz.usage.cost_usd': COST,
      });
    },
  );

  it('lets go of a body still trickling an idle timeout after its client left: cancelled, without usage', async () => {
    const [running, slow, account] = await start(true, 20, { STREAM_IDLE_TIMEOUT_MS: '300' });
    await leaveDuringTheBody(running, slow);
    let released = false;
    void slow.closed.then(() => (released = true));
    // Every 20 ms a space: the body is never idle, and never ends; at most 300 ms once the client left.
    await vi.waitFor(() => expect(released).toBe(true), { timeout: 1500, interval: 10 });
    await vi.waitFor(() => expect(account.holdCount).toBe(0), { timeout: 5000, interval: 5 });

    const text = await running.scrape();
    expect(sampleSum(text, 'tokens_used_total')).toBe(0);
    expect(sampleSum(text, 'gatewayz_cost_by_provider_total')).toBe(0);
    expect(sampleSum(text, 'gatewayz_api_key_attempts_without_usage_total', { api_key_name: 'capped' })).toBe(1);
    // The provider stops billing when the gateway leaves: the estimate is the prompt's bound alone.
    const estimated = sampleSum(text, 'gatewayz_api_key_estimated_spend_usd_total', { api_key_name: 'capped' });
    expect(estimated).toBeGreaterThan(0);
    expect(estimated).toBeLessThan(100 * INPUT);
    expect(account.spentUsd).toBe(estimated);
    expect(attemptSpan()?.attributes['error.type']).toBe('cancelled');
    expect(slow.requests).toBe(1);
  });
});
