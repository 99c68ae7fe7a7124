import { GatewayTelemetry } from '@gatewayz/telemetry';
import { PricingTable } from '@gatewayz/telemetry/genai';
import type { Context } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyRegistry, type ApiKeyAccount, type HoldAdmission } from '../src/api-keys/api-key-registry.js';
import { holdBudget } from '../src/api-keys/authenticate.js';
import { CostEstimator, MEDIA_PART_TOKENS, promptTokens } from '../src/api-keys/cost-estimate.js';
import { RequestBudget } from '../src/api-keys/request-budget.js';
import type { ApiError } from '../src/protocol/openai-errors.js';
import type { GatewayEnv } from '../src/server/gateway-env.js';
import { chatBody, startTestGateway, type TestGateway } from './harness.js';

/*
 * What a request of a key with a budget is held for (CostEstimator.chatBound): its legacy
 * `functions` and every media content part count, over HTTP as in the bound. And what the hold
 * does when a cluster primary (`HoldAdmission`) refuses it: the worker's own hold goes back at
 * once, and an attempt the primary will not extend the hold for is not covered.
 */

const KEY = 'gwz-pinned-estimate';
const AUTH = { authorization: `Bearer ${KEY}` };
/** A prompt of one short user message: 4 (array) + 4 (message) + role 4 + user 4 + content 7 + hi 2. */
const MESSAGES = [{ role: 'user', content: 'hi' }];
const MESSAGES_TOKENS = 25;

/** One provider whose chat model costs 1 USD per million output tokens, and nothing for input. */
const PROVIDER = { name: 'solo', baseUrl: 'http://127.0.0.1:9/v1', models: ['chat-model'] };
const costs = new CostEstimator(
  [PROVIDER],
  new PricingTable({ solo: { 'chat-model': { outputPerMillionTokens: 1 } } }),
  1000,
);
/** A chat request's bound that costs `usd` at `solo` (its output only). */
const boundOf = (usd: number) => costs.chatBound('chat-model', { messages: MESSAGES, max_tokens: usd * 1_000_000 });

describe('the prompt tokens a chat request is held for', () => {
  it('counts the legacy functions definitions with the messages', () => {
    const functions = [{ name: 'lookup', description: 'x'.repeat(1000), parameters: { type: 'object' } }];
    const bound = costs.chatBound('chat-model', { messages: MESSAGES, functions, max_tokens: 1 });
    expect(bound.inputTokens).toBe(MESSAGES_TOKENS + promptTokens(functions));
    expect(bound.inputTokens).toBeGreaterThan(MESSAGES_TOKENS + 1000);
  });

  // 4 (array) + 4 (message) + role 4 + user 4 + content 7 + 4 (content array) + the part.
  const oneMediaPart = 27 + MEDIA_PART_TOKENS;
  it.each(['image_url', 'input_image', 'input_audio', 'input_file', 'file', 'image', 'document'])(
    'counts a content part of type %s as MEDIA_PART_TOKENS (2,000), whatever its payload',
    (type) => {
      const part = { type, file_id: 'file-abc' };
      expect(MEDIA_PART_TOKENS).toBe(2000);
      expect(promptTokens([{ role: 'user', content: [part] }])).toBe(oneMediaPart);
    },
  );

  it.each([
    ['image_url', { type: 'custom', image_url: { url: 'https://example.test/a.png' } }],
    ['input_audio', { type: 'custom', input_audio: { data: 'AAAA', format: 'wav' } }],
  ])('counts a content part carrying %s as MEDIA_PART_TOKENS, whatever its type', (_, part) => {
    expect(promptTokens([{ role: 'user', content: [part] }])).toBe(oneMediaPart);
  });
});

describe('holds over HTTP (gpt-4o at 2.5 USD per million input tokens, a 0.05 USD budget)', () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  async function start(): Promise<TestGateway> {
    gateway = await startTestGateway({
      apiKeys: { keys: [{ name: 'capped', key: KEY, plan: 'paid', budgetUsd: 0.05 }], required: true },
    });
    return gateway;
  }

  async function answer(response: Promise<Response>): Promise<{ status: number; code: string | undefined }> {
    const answered = await response;
    const body = (await answered.json()) as { error?: { code?: string } };
    return { status: answered.status, code: body.error?.code };
  }

  it('refuses a chat request whose functions alone may cost more than the budget (40,000 bytes)', async () => {
    const running = await start();
    const fn = { name: 'lookup', description: 'x'.repeat(40_000), parameters: { type: 'object', properties: {} } };
    expect(await answer(running.post('/v1/chat/completions', chatBody('gpt-4o', { max_tokens: 16 }), AUTH))).toEqual({
      status: 200,
      code: undefined,
    });
    expect(
      await answer(running.post('/v1/chat/completions', chatBody('gpt-4o', { max_tokens: 16, functions: [fn] }), AUTH)),
    ).toEqual({ status: 429, code: 'insufficient_quota' });
  });

  it('refuses a Responses request with 25 file parts (25 × 2,000 tokens may cost 0.125 USD)', async () => {
    const running = await start();
    const parts = Array.from({ length: 25 }, () => ({ type: 'input_file', file_id: 'file-abc' }));
    const body = { model: 'gpt-4o', max_output_tokens: 16, input: [{ role: 'user', content: parts }] };
    expect(await answer(running.post('/v1/responses', body, AUTH))).toEqual({
      status: 429,
      code: 'insufficient_quota',
    });
    expect(running.gateway.apiKeys.account('capped')?.heldUsd).toBe(0);
  });
});

describe('a cluster primary that refuses a hold', () => {
  const registries: ApiKeyRegistry[] = [];
  afterEach(() => {
    for (const registry of registries.splice(0)) registry.close();
  });

  /** A registry with one key of a 10 USD budget, whose holds `admission` admits (as a cluster primary). */
  function keyOf(admission: HoldAdmission): { registry: ApiKeyRegistry; account: ApiKeyAccount } {
    const registry = new ApiKeyRegistry({
      config: { keys: [{ name: 'k', key: KEY, plan: 'paid', budgetUsd: 10 }], required: true },
      telemetry: new GatewayTelemetry({ exportVia: 'producer' }),
    });
    registries.push(registry);
    registry.admission = admission;
    return { registry, account: registry.account('k') as ApiKeyAccount };
  }

  /** The little of a Hono context `holdBudget` uses: its variables. */
  function honoContext(): Context<GatewayEnv> {
    const variables = new Map<string, unknown>();
    return {
      set: (name: string, value: unknown) => void variables.set(name, value),
      get: (name: string) => variables.get(name),
    } as unknown as Context<GatewayEnv>;
  }

  it('gives the worker its own hold back: refused requests leave the whole budget to the next one', async () => {
    let admitted = false;
    const asked: number[] = [];
    const { registry, account } = keyOf({
      admit: async (_, usd) => {
        asked.push(usd);
        return { admitted, release: () => {} };
      },
    });
    const services = { apiKeys: registry, costs };
    // Four requests of 3 USD each: together more than the 10 USD budget, had their holds stayed.
    for (let request = 0; request < 4; request++) {
      const refusal = await holdBudget(honoContext(), services, account, boundOf(3)).catch((error: ApiError) => error);
      expect(refusal).toMatchObject({ status: 429, code: 'insufficient_quota' });
      expect(account.heldUsd).toBe(0);
      expect(account.holdCount).toBe(0);
    }
    expect(asked).toEqual([3, 3, 3, 3]);
    admitted = true;
    const c = honoContext();
    await holdBudget(c, services, account, boundOf(3));
    expect(c.get('budgetHold')?.heldUsd).toBe(3);
    expect(account.heldUsd).toBe(3);
  });

  it('does not cover an attempt whose extended hold the primary refuses', async () => {
    let admitted = false;
    const asked: number[] = [];
    const { registry, account } = keyOf({
      admit: async (_, usd) => {
        asked.push(usd);
        return { admitted, release: () => {} };
      },
    });
    // Held 1 USD; the attempt at solo may cost 2 USD: the hold must grow by 1 USD.
    const budget = () => new RequestBudget(account.hold(1)!, boundOf(2), costs, registry);
    expect(await budget().cover('solo')).toBe(false);
    // The worker could hold it (10 USD budget): the primary was asked for the 2 USD now held.
    expect(asked).toEqual([2]);
    admitted = true;
    expect(await budget().cover('solo')).toBe(true);
  });
});
