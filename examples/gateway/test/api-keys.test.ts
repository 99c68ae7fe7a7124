import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import fc from 'fast-check';
import {
  ACTIVE_KEY_WINDOW_MS,
  ApiKeyRegistry,
  CompensatedSum,
  presentedKey,
} from '../src/api-keys/api-key-registry.js';
import {
  ApiKeysFileError,
  DEMO_API_KEYS,
  loadApiKeys,
  parseApiKeys,
  type ApiKeysFileErrorCode,
} from '../src/api-keys/api-keys-file.js';
import { checkBudgetsPriced } from '../src/api-keys/priced-budgets.js';
import { GatewayConfigError, type ProviderConfig } from '../src/config.js';
import { DEMO_PROVIDERS, DEMO_PRICES } from '../src/providers/demo-providers.js';
import { demoCallers } from '../src/server/run-gateway.js';
import { sampleSum, startTestGateway, type TestGateway } from './harness.js';

const SECRET = 'sk-Zq8Xw3Jm5Tp9Rk2Vb';

function refusal(text: string): ApiKeysFileError {
  try {
    parseApiKeys(text, 'keys.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ApiKeysFileError);
    expect(error).toBeInstanceOf(GatewayConfigError);
    return error as ApiKeysFileError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('GATEWAY_API_KEYS_FILE', () => {
  it('reads name, key, plan and the optional budget', () => {
    expect(
      parseApiKeys(
        JSON.stringify([
          { name: 'team-a', key: 'k1', plan: 'paid', budget_usd: 12.5 },
          { name: 'trial.b', key: 'k2', plan: 'trial' },
          { name: 'c', key: 'k3', plan: 'trial', budget_usd: 0 },
        ]),
        'keys.json',
      ),
    ).toEqual([
      { name: 'team-a', key: 'k1', plan: 'paid', budgetUsd: 12.5 },
      { name: 'trial.b', key: 'k2', plan: 'trial' },
      { name: 'c', key: 'k3', plan: 'trial', budgetUsd: 0 },
    ]);
  });

  it.each<[string, unknown, ApiKeysFileErrorCode, RegExp]>([
    ['bad JSON', '[{"name": "a",', 'invalid_json', /not valid JSON/],
    ['an object', { name: 'a', key: 'k', plan: 'paid' }, 'not_an_array', /non-empty JSON array/],
    ['an empty array', [], 'not_an_array', /non-empty JSON array/],
    ['a string entry', ['team-a'], 'invalid_entry', /entry 0 must be an object/],
    ['an unknown field', [{ name: 'a', key: 'k', plan: 'paid', budget: 5 }], 'unknown_field', /"budget".*budget_usd/],
    ['an upper-case name', [{ name: 'Team A', key: 'k', plan: 'paid' }], 'invalid_name', /lowercase identifier/],
    ['a missing name', [{ key: 'k', plan: 'paid' }], 'invalid_name', /"name"/],
    ['the name anonymous', [{ name: 'anonymous', key: 'k', plan: 'paid' }], 'reserved_name', /reserved/],
    ['the name other', [{ name: 'other', key: 'k', plan: 'paid' }], 'reserved_name', /reserved/],
    [
      'a duplicate name',
      [
        { name: 'a', key: 'k1', plan: 'paid' },
        { name: 'a', key: 'k2', plan: 'paid' },
      ],
      'duplicate_name',
      /entry 1: the name "a" is already used by entry 0/,
    ],
    ['an empty key', [{ name: 'a', key: '', plan: 'paid' }], 'empty_key', /non-empty string/],
    ['a numeric key', [{ name: 'a', key: 42, plan: 'paid' }], 'empty_key', /non-empty string/],
    ['a key with a space', [{ name: 'a', key: 'two words', plan: 'paid' }], 'invalid_key', /printable ASCII/],
    ['a key with a newline', [{ name: 'a', key: 'k\nx', plan: 'paid' }], 'invalid_key', /printable ASCII/],
    ['an over-long key', [{ name: 'a', key: 'k'.repeat(513), plan: 'paid' }], 'invalid_key', /at most 512/],
    [
      'a duplicate key',
      [
        { name: 'a', key: SECRET, plan: 'paid' },
        { name: 'b', key: SECRET, plan: 'trial' },
      ],
      'duplicate_key',
      /entry 1 \("b"\): has the same key as entry 0/,
    ],
    ['an unknown plan', [{ name: 'a', key: 'k', plan: 'free' }], 'invalid_plan', /"paid" or "trial"/],
    ['a missing plan', [{ name: 'a', key: 'k' }], 'invalid_plan', /"paid" or "trial"/],
    ['a negative budget', [{ name: 'a', key: 'k', plan: 'paid', budget_usd: -1 }], 'invalid_budget', /at least 0/],
    ['a string budget', [{ name: 'a', key: 'k', plan: 'paid', budget_usd: '10' }], 'invalid_budget', /"10"/],
    ['a null budget', [{ name: 'a', key: 'k', plan: 'paid', budget_usd: null }], 'invalid_budget', /null/],
  ])('refuses %s with a typed error that names the fix', (_, content, code, message) => {
    const error = refusal(typeof content === 'string' ? content : JSON.stringify(content));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('keys.json');
    expect(error.message).not.toContain(SECRET);
  });

  it.each([
    [
      'an unquoted key',
      `[{"name":"a",\n"key":${SECRET},"plan":"paid"}]`,
      /unexpected character .* at line 2, column 7$/,
    ],
    [
      'a single-quoted key',
      `[{"name":"a","key":'${SECRET}',"plan":"paid"}]`,
      /unexpected character .* at line 1, column 20$/,
    ],
    [
      'an unquoted plan after a key',
      `[{"name":"a","key":"${SECRET}","plan":paid}]`,
      /unexpected character .* at line 1, column 5\d$/,
    ],
    ['a trailing comma', `[{"name":"a",\n "key":"${SECRET}",\n "plan":"paid",}]`, /at line 3, column 16$/],
    [
      'a trailing comma in the array',
      `[{"name":"a",\n "key":"${SECRET}", "plan":"paid"},\n]`,
      /bracket right after a comma at line 3, column 1$/,
    ],
    [
      'a missing bracket',
      `[{"name":"a","key":"${SECRET}","plan":"paid"}`,
      /ends inside an object or array at line 1, column/,
    ],
    ['an empty file', '', /ends where a value belongs at line 1, column 1$/],
  ])('never quotes the file (and so no key, not even in part) when it is not JSON: %s', (_, text, message) => {
    const error = refusal(text);
    expect(error.code).toBe('invalid_json');
    expect(error.message).toMatch(message);
    for (let start = 0; start + 4 <= SECRET.length; start++) {
      expect(error.message).not.toContain(SECRET.slice(start, start + 4));
    }
  });

  it('reads a file that starts with a byte-order mark, as some editors save UTF-8', () => {
    expect(parseApiKeys(`\ufeff[{"name":"a","key":"${SECRET}","plan":"paid"}]`, 'keys.json')).toEqual([
      { name: 'a', key: SECRET, plan: 'paid' },
    ]);
  });

  it('is read from the file GATEWAY_API_KEYS_FILE names, and makes keys required; without it, the demo keys are optional', () => {
    const directory = mkdtempSync(join(tmpdir(), 'api-keys-file-'));
    try {
      const path = join(directory, 'keys.json');
      writeFileSync(path, JSON.stringify([{ name: 'a', key: SECRET, plan: 'paid' }]));
      expect(loadApiKeys({ GATEWAY_API_KEYS_FILE: path })).toEqual({
        keys: [{ name: 'a', key: SECRET, plan: 'paid' }],
        required: true,
      });
      expect(loadApiKeys({})).toEqual({ keys: DEMO_API_KEYS, required: false });
      // Saved with a UTF-8 byte order mark (Windows editors).
      writeFileSync(path, `\uFEFF${JSON.stringify([{ name: 'a', key: SECRET, plan: 'paid' }])}`);
      expect(loadApiKeys({ GATEWAY_API_KEYS_FILE: path }).keys).toEqual([{ name: 'a', key: SECRET, plan: 'paid' }]);
      expect(() => loadApiKeys({ GATEWAY_API_KEYS_FILE: join(directory, 'missing.json') })).toThrow(
        /GATEWAY_API_KEYS_FILE .*missing\.json cannot be read: ENOENT/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('gives the demo traffic the gateway keys, and no key only when keys are optional', () => {
    expect(demoCallers({ keys: DEMO_API_KEYS, required: false })).toEqual([
      ...DEMO_API_KEYS.map((entry) => entry.key),
      undefined,
    ]);
    expect(demoCallers({ keys: [{ name: 'a', key: 'k', plan: 'paid' }], required: true })).toEqual(['k']);
  });
});

describe('budgets need priced models (checkBudgetsPriced)', () => {
  const budgeted = { keys: [{ name: 'capped', key: 'k1', plan: 'paid' as const, budgetUsd: 5 }], required: true };
  const provider = (pricing: ProviderConfig['pricing']): ProviderConfig => ({
    name: 'p',
    baseUrl: 'http://127.0.0.1:9/v1',
    models: ['chat-model'],
    imageModels: ['image-model'],
    embeddingModels: ['embedding-model'],
    pricing,
  });
  const priced = {
    'chat-model': { inputPerMillionTokens: 1, outputPerMillionTokens: 2 },
    'image-model': { perImage: 0.04 },
    'embedding-model': { inputPerMillionTokens: 0.02 },
  };

  it('passes when every model has a price for each operation it is served for (0 included)', () => {
    expect(() => checkBudgetsPriced([provider(priced)], budgeted, 'GATEWAY_PROVIDERS_FILE')).not.toThrow();
    const free = { 'chat-model': { inputPerMillionTokens: 0, outputPerMillionTokens: 0 } };
    expect(() =>
      checkBudgetsPriced([provider({ ...priced, ...free })], budgeted, 'GATEWAY_PROVIDERS_FILE'),
    ).not.toThrow();
  });

  it('refuses a model a budgeted key could spend on for nothing: no price, or no price for what it is served for', () => {
    // Each would be held for nothing and charged nothing (or 0 for the field left out).
    const cases: Array<[ProviderConfig['pricing'], string]> = [
      [undefined, 'p/chat-model (no price), p/embedding-model (no price), p/image-model (no price)'],
      [{ ...priced, 'chat-model': { inputPerMillionTokens: 1 } }, 'p/chat-model (no outputPerMillionTokens for chat)'],
      [
        { ...priced, 'chat-model': { perRequest: 0.01 } },
        'p/chat-model (no inputPerMillionTokens or outputPerMillionTokens for chat)',
      ],
      [{ ...priced, 'image-model': { perRequest: 0.01 } }, 'p/image-model (no perImage for images)'],
      [
        { ...priced, 'embedding-model': { outputPerMillionTokens: 1 } },
        'p/embedding-model (no inputPerMillionTokens for embeddings)',
      ],
    ];
    for (const [pricing, unpriced] of cases) {
      const check = (): void => checkBudgetsPriced([provider(pricing)], budgeted, 'GATEWAY_PROVIDERS_FILE');
      expect(check).toThrow(GatewayConfigError);
      expect(check).toThrow(
        `these models have no price, so their requests would cost those keys nothing and no budget would stop them: ${unpriced}.`,
      );
    }
  });

  it('leaves keys without a budget, and the optional demo keys, alone', () => {
    const unpriced = [provider({})];
    expect(() =>
      checkBudgetsPriced(
        unpriced,
        { keys: [{ name: 'a', key: 'k', plan: 'paid' }], required: true },
        'UPSTREAM_BASE_URL',
      ),
    ).not.toThrow();
    expect(DEMO_API_KEYS.some((entry) => entry.budgetUsd !== undefined)).toBe(true);
    expect(() =>
      checkBudgetsPriced(unpriced, { keys: DEMO_API_KEYS, required: false }, 'UPSTREAM_BASE_URL'),
    ).not.toThrow();
  });

  it("finds every model of the demo's simulated providers priced", () => {
    const providers = DEMO_PROVIDERS.map((spec) => ({
      ...spec,
      baseUrl: 'http://127.0.0.1:9/v1',
      pricing: Object.fromEntries(
        [...spec.models, ...spec.imageModels, ...spec.embeddingModels].map((model) => [
          model,
          DEMO_PRICES[model as keyof typeof DEMO_PRICES],
        ]),
      ),
    }));
    expect(() =>
      checkBudgetsPriced(providers, { keys: [...budgeted.keys], required: true }, 'GATEWAY_PROVIDERS_FILE'),
    ).not.toThrow();
  });
});

describe('presentedKey', () => {
  it('reads Bearer keys, x-api-key where allowed, and flags other Authorization schemes', () => {
    expect(presentedKey('Bearer abc')).toEqual({ kind: 'key', secret: 'abc' });
    expect(presentedKey('bearer  abc ')).toEqual({ kind: 'key', secret: 'abc' });
    expect(presentedKey(undefined)).toEqual({ kind: 'none' });
    expect(presentedKey('Basic dXNlcjpwYXNz')).toEqual({ kind: 'malformed' });
    expect(presentedKey('Bearer')).toEqual({ kind: 'malformed' });
    expect(presentedKey('Bearer a b')).toEqual({ kind: 'malformed' });
    expect(presentedKey(undefined, 'abc')).toEqual({ kind: 'key', secret: 'abc' });
    expect(presentedKey(undefined, ' ')).toEqual({ kind: 'malformed' });
    // Authorization wins when both are sent.
    expect(presentedKey('Bearer one', 'two')).toEqual({ kind: 'key', secret: 'one' });
  });
});

describe('ApiKeyRegistry', () => {
  const registries: ApiKeyRegistry[] = [];
  afterEach(() => {
    for (const registry of registries.splice(0)) registry.close();
  });

  function registry(required: boolean, now: () => number = Date.now) {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const created = new ApiKeyRegistry({
      config: {
        keys: [
          { name: 'paid-a', key: 'key-a', plan: 'paid' },
          { name: 'paid-b', key: 'key-b-longer', plan: 'paid', budgetUsd: 1 },
          { name: 'trial-c', key: 'c', plan: 'trial', budgetUsd: 0 },
        ],
        required,
      },
      telemetry,
      now,
    });
    registries.push(created);
    return { registry: created, telemetry };
  }

  it('sets subscription_count, trial_active, active_api_keys and the budgets when built', () => {
    const { telemetry } = registry(true);
    expect(telemetry.currentValue('subscriptionCount', {})).toBe(2);
    expect(telemetry.currentValue('trialActive', {})).toBe(1);
    expect(telemetry.currentValue('activeApiKeys', {})).toBe(0);
    expect(telemetry.currentValue('apiKeyBudget', { api_key_name: 'paid-b' })).toBe(1);
    expect(telemetry.currentValue('apiKeyBudgetRemaining', { api_key_name: 'trial-c' })).toBe(0);
    expect(telemetry.currentValue('apiKeyBudget', { api_key_name: 'paid-a' })).toBeUndefined();
  });

  it('identifies keys of any length, and refuses or serves as anonymous the rest', () => {
    const { registry: required } = registry(true);
    const identified = required.identify({ kind: 'key', secret: 'key-b-longer' });
    expect(identified.kind === 'account' && identified.account.name).toBe('paid-b');
    expect(required.identify({ kind: 'key', secret: 'c' })).toMatchObject({ account: { name: 'trial-c' } });
    expect(required.identify({ kind: 'key', secret: 'key-b' })).toEqual({ kind: 'refused', reason: 'unknown' });
    expect(required.identify({ kind: 'key', secret: 'key-b-longer!' })).toEqual({ kind: 'refused', reason: 'unknown' });
    expect(required.identify({ kind: 'none' })).toEqual({ kind: 'refused', reason: 'missing' });
    expect(required.identify({ kind: 'malformed' })).toEqual({ kind: 'refused', reason: 'malformed' });
    const { registry: optional } = registry(false);
    for (const presented of [{ kind: 'none' }, { kind: 'malformed' }, { kind: 'key', secret: 'nope' }] as const)
      expect(optional.identify(presented)).toEqual({ kind: 'account', account: optional.anonymous });
    expect(optional.identify({ kind: 'key', secret: 'key-a' })).toMatchObject({ account: { name: 'paid-a' } });
  });

  it('counts a key in active_api_keys for 24 hours after its last request', () => {
    let now = 1_000_000;
    const { registry: keys, telemetry } = registry(true, () => now);
    const [a, b] = keys.accounts();
    keys.use(a!);
    keys.use(keys.anonymous);
    expect(telemetry.currentValue('activeApiKeys', {})).toBe(1);
    now += 60_000;
    keys.use(b!);
    keys.use(a!);
    expect(telemetry.currentValue('activeApiKeys', {})).toBe(2);
    now += ACTIVE_KEY_WINDOW_MS - 1;
    keys.refreshActiveKeys();
    expect(telemetry.currentValue('activeApiKeys', {})).toBe(2);
    now += 1;
    keys.refreshActiveKeys();
    expect(telemetry.currentValue('activeApiKeys', {})).toBe(0);
    keys.use(b!);
    expect(telemetry.currentValue('activeApiKeys', {})).toBe(1);
  });

  it('keeps spend against the budget: exhausted once spend reaches it, the gauge at what is left', () => {
    const { registry: keys, telemetry } = registry(true);
    const [a, b, c] = keys.accounts();
    expect(c!.exhausted).toBe(true); // a budget of 0 refuses everything
    expect(b!.exhausted).toBe(false);
    b!.charge(0.75);
    expect(telemetry.currentValue('apiKeyBudgetRemaining', { api_key_name: 'paid-b' })).toBe(0.25);
    b!.charge(Number.NaN);
    b!.charge(-5);
    expect(b!.spentUsd).toBe(0.75);
    b!.charge(0.25);
    expect(b!.exhausted).toBe(true);
    expect(telemetry.currentValue('apiKeyBudgetRemaining', { api_key_name: 'paid-b' })).toBe(0);
    a!.charge(1000);
    expect(a!.exhausted).toBe(false); // no budget
  });
});

/** The exact sum of `amounts` (doubles), rounded once to a double: the reference for spend. */
function exactlyRoundedSum(amounts: readonly number[]): number {
  const SCALE = 200n; // every amount here is a multiple of 2^-200
  let total = 0n;
  const view = new DataView(new ArrayBuffer(8));
  for (const amount of amounts) {
    if (amount === 0) continue;
    view.setFloat64(0, amount);
    const bits = view.getBigUint64(0);
    const exponent = Number((bits >> 52n) & 0x7ffn);
    const mantissa = (bits & ((1n << 52n) - 1n)) | (exponent === 0 ? 0n : 1n << 52n);
    const shift = BigInt(exponent === 0 ? 1 : exponent) - 1075n + SCALE;
    expect(shift >= 0n).toBe(true);
    total += mantissa << shift;
  }
  // Number(bigint) rounds to nearest, ties to even; scaling by a power of two is exact.
  return Number(total) * 2 ** -Number(SCALE);
}

describe('API key spend', () => {
  it('adds many small costs without drift: the spend is the exact sum, rounded once', () => {
    const sum = (amounts: readonly number[]): number => {
      const spend = new CompensatedSum();
      for (const amount of amounts) spend.add(amount);
      return spend.value;
    };
    expect(sum(Array(10).fill(0.1))).toBe(1); // naive: 0.9999999999999999
    expect(sum(Array(10).fill(0.04))).toBe(0.4); // naive: 0.39999999999999997
    expect(sum(Array(1_000_000).fill(0.000001))).toBe(1); // naive: 1.000000000007918
    // Token costs as a pricing table makes them: tokens × USD per million / 1e6.
    const cost = fc
      .tuple(fc.integer({ min: 0, max: 200_000 }), fc.constantFrom(0.02, 0.075, 0.15, 0.6, 2.5, 3, 10, 15, 75))
      .map(([tokens, pricePerMillion]) => (tokens * pricePerMillion) / 1e6);
    fc.assert(
      fc.property(fc.array(cost, { minLength: 1, maxLength: 3000 }), (amounts) => {
        expect(sum(amounts)).toBe(exactlyRoundedSum(amounts));
      }),
      { seed: 18, numRuns: 200 },
    );
    const spend = new CompensatedSum();
    for (let call = 0; call < 7; call++) spend.add(0.1);
    expect(spend.plus(0.3)).toBe(1); // other workers' spend joins the sum with one rounding
    expect(spend.value).toBe(exactlyRoundedSum(Array(7).fill(0.1)));
  });

  it('refuses the call after the one that spends a budget exactly, over HTTP (10 images of 0.04 USD spend 0.4 USD)', async () => {
    const key = 'gwz-images-budget';
    const gateway = await startTestGateway({
      apiKeys: { keys: [{ name: 'images', key, plan: 'paid', budgetUsd: 0.4 }], required: true },
    });
    try {
      const image = { model: 'gpt-image-1', prompt: 'a lighthouse' };
      const statuses: number[] = [];
      for (let call = 0; call < 10; call++) {
        statuses.push((await gateway.post('/v1/images/generations', image, { authorization: `Bearer ${key}` })).status);
      }
      expect(statuses).toEqual(Array(10).fill(200));
      const text = await gateway.scrape();
      expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'images' })).toBe(0);
      const refused = await gateway.post('/v1/images/generations', image, { authorization: `Bearer ${key}` });
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({
        error: { type: 'insufficient_quota', code: 'insufficient_quota' },
      });
    } finally {
      await gateway.close();
    }
  });
});

describe('without GATEWAY_API_KEYS_FILE (the demo)', () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('serves requests without a key, or with an unknown one, as anonymous, and demo keys as themselves', async () => {
    gateway = await startTestGateway();
    const atStart = await gateway.scrape();
    expect(sampleSum(atStart, 'subscription_count')).toBe(2);
    expect(sampleSum(atStart, 'trial_active')).toBe(1);
    expect(sampleSum(atStart, 'gatewayz_api_key_budget_usd', { api_key_name: 'demo-trial' })).toBe(2);
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    expect((await gateway.post('/v1/chat/completions', body)).status).toBe(200);
    expect((await gateway.post('/v1/chat/completions', body, { authorization: 'Bearer sk-whatever' })).status).toBe(
      200,
    );
    expect((await gateway.post('/v1/chat/completions', body, { authorization: 'Basic abc' })).status).toBe(200);
    const demoKey = DEMO_API_KEYS[0]!;
    expect((await gateway.post('/v1/chat/completions', body, { authorization: `Bearer ${demoKey.key}` })).status).toBe(
      200,
    );
    const text = await gateway.scrape();
    expect(sampleSum(text, 'gatewayz_requests_by_api_key_total', { api_key_name: 'anonymous' })).toBe(3);
    expect(sampleSum(text, 'gatewayz_requests_by_api_key_total', { api_key_name: demoKey.name })).toBe(1);
    expect(sampleSum(text, 'active_api_keys')).toBe(1);
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total')).toBe(sampleSum(text, 'gatewayz_cost_by_provider_total'));
  });
});
