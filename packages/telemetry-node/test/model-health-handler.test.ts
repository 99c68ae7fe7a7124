import { MemoryModelHealthStore, type ModelCall, type ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { beforeEach, describe, expect, it } from 'vitest';
import { createModelHealthHandler, type ModelHealthHandler } from '../src/index.js';

const TOKEN = 'model-health-token-0123456789';
let store: MemoryModelHealthStore;
let api: ModelHealthHandler;

const record = (calls: Array<Partial<ModelCall>>): void => {
  for (const overrides of calls) {
    store.recordCall({ provider: 'openai', model: 'gpt-4o', responseTimeMs: 100, status: 'success', ...overrides });
  }
};

const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
  const response = await api(new Request(`http://gateway.test${path}`, { headers }));
  return { status: response.status, body: await response.json() };
};

beforeEach(() => {
  store = new MemoryModelHealthStore();
  api = createModelHealthHandler({ store });
  record([
    {},
    { responseTimeMs: 300 },
    { status: 'error', errorMessage: 'HTTP 500' },
    { provider: 'anthropic', model: 'claude-3-5-haiku', responseTimeMs: 200 },
    { provider: 'openrouter', model: 'meta-llama/llama-3.1-8b', status: 'timeout' },
    { provider: 'openrouter', model: 'meta-llama/llama-3.1-8b', status: 'rate_limited' },
  ]);
});

describe('model-health REST API', () => {
  it('lists records with filters and pagination', async () => {
    const all = await get('/v1/model-health');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((item: { provider: string }) => item.provider)).toEqual([
      'anthropic',
      'openai',
      'openrouter',
    ]);
    expect(all.body.items[1]).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o',
      call_count: 3,
      success_count: 2,
      error_count: 1,
      last_status: 'error',
      last_error_message: 'HTTP 500',
    });
    expect(all.body.items[1].error_rate).toBeCloseTo(1 / 3, 10);
    expect(all.body.items[1].last_error_at).toBe(
      (await store.getModelHealth('openai', 'gpt-4o'))?.lastErrorAt?.toISOString(),
    );
    expect(all.body.items[1].last_error_at).toEqual(expect.any(String));
    expect(all.body.items[0]).toMatchObject({ last_error_message: null, last_error_at: null });
    const page = await get('/v1/model-health?limit=1&offset=1');
    expect(page.body).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.body.items.map((item: { provider: string }) => item.provider)).toEqual(['openai']);
    expect((await get('/v1/model-health?provider=openrouter')).body.total).toBe(1);
    expect((await get('/v1/model-health?status=rate_limited')).body.items[0].model).toBe('meta-llama/llama-3.1-8b');
  });

  it('pages with next_cursor without repeating or skipping a record while others are written', async () => {
    const first = await get('/v1/model-health?limit=2');
    expect(first.body.items.map((item: { provider: string }) => item.provider)).toEqual(['anthropic', 'openai']);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    // Before the cursor: offset paging would now show openai/gpt-4o again on the second page.
    record([{ provider: 'aaa', model: 'new' }]);
    const offsetPage = await get('/v1/model-health?limit=2&offset=2');
    expect(offsetPage.body.items.map((item: { provider: string }) => item.provider)).toEqual(['openai', 'openrouter']);
    const second = await get(`/v1/model-health?limit=2&cursor=${first.body.next_cursor as string}`);
    expect(second.body).toMatchObject({ total: 4, limit: 2, offset: 0, next_cursor: null });
    expect(second.body.items.map((item: { provider: string }) => item.provider)).toEqual(['openrouter']);
    const filtered = await get(`/v1/model-health?provider=openrouter&cursor=${first.body.next_cursor as string}`);
    expect(filtered.body.items).toHaveLength(1);
    for (const cursor of [
      '',
      'not+base64',
      'bm90IGpzb24',
      Buffer.from('["only one"]').toString('base64url'),
      Buffer.from('["openai","half \\ud83d"]').toString('base64url'),
    ]) {
      const bad = await get(`/v1/model-health?cursor=${encodeURIComponent(cursor)}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'invalid_parameter', param: 'cursor' });
    }
  });

  it('returns one model, including model names with a slash, and 404 for unknown ones', async () => {
    const one = await get('/v1/model-health/openrouter/meta-llama/llama-3.1-8b');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      provider: 'openrouter',
      model: 'meta-llama/llama-3.1-8b',
      call_count: 2,
      error_count: 2,
    });
    const encoded = await get('/v1/model-health/openrouter/meta-llama%2Fllama-3.1-8b');
    expect(encoded.body.call_count).toBe(2);
    const missing = await get('/v1/model-health/openai/gpt-5');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('finds unhealthy models by error threshold', async () => {
    const unhealthy = await get('/v1/model-health/unhealthy?error_threshold=0.3');
    expect(unhealthy.body.items.map((item: { model: string }) => item.model)).toEqual([
      'meta-llama/llama-3.1-8b',
      'gpt-4o',
    ]);
    expect(unhealthy.body).toMatchObject({ total: 2, error_threshold: 0.3, min_calls: 1 });
    expect((await get('/v1/model-health/unhealthy?error_threshold=0.5&min_calls=3')).body.total).toBe(0);
    expect((await get('/v1/model-health/unhealthy')).body.error_threshold).toBe(0.2);
  });

  it('serves stats, provider summaries and the provider list', async () => {
    const stats = await get('/v1/model-health/stats');
    expect(stats.body).toMatchObject({
      total_models: 3,
      total_providers: 3,
      total_calls: 6,
      total_successes: 3,
      total_errors: 3,
    });
    expect(stats.body.success_rate).toBeCloseTo(0.5, 10);
    const summary = await get('/v1/model-health/provider/openai/summary');
    expect(summary.body).toMatchObject({
      provider: 'openai',
      total_models: 1,
      total_calls: 3,
      success_count: 2,
      error_count: 1,
    });
    expect(summary.body.avg_response_time_ms).toBeCloseTo(500 / 3, 6);
    expect((await get('/v1/model-health/provider/nobody/summary')).status).toBe(404);
    const providers = await get('/v1/model-health/providers');
    expect(providers.body.total).toBe(3);
    expect(providers.body.items.map((item: { provider: string }) => item.provider)).toEqual([
      'anthropic',
      'openai',
      'openrouter',
    ]);
  });

  it.each([
    ['/v1/model-health?limit=0', 'limit'],
    ['/v1/model-health?limit=1001', 'limit'],
    ['/v1/model-health?limit=ten', 'limit'],
    ['/v1/model-health?offset=-5', 'offset'],
    ['/v1/model-health?status=melted', 'status'],
    ['/v1/model-health?provider=', 'provider'],
    ['/v1/model-health?sort=desc', 'sort'],
    ['/v1/model-health/unhealthy?error_threshold=2', 'error_threshold'],
    ['/v1/model-health/unhealthy?error_threshold=abc', 'error_threshold'],
    ['/v1/model-health/unhealthy?error_threshold=', 'error_threshold'],
    ['/v1/model-health/unhealthy?min_calls=0', 'min_calls'],
    ['/v1/model-health/openai/%E0%A4%A', 'model'],
    // NUL, which a PostgreSQL-backed store cannot even look up (it answered 503 store_unavailable).
    ['/v1/model-health?provider=open%00ai', 'provider'],
    ['/v1/model-health/open%00ai/gpt-4o', 'provider'],
    ['/v1/model-health/openai/gpt%004o', 'model'],
    ['/v1/model-health/provider/open%00ai/summary', 'provider'],
  ])('%s is a 400 naming %s', async (path, param) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_parameter', param });
  });

  it('answers 405 to writes and 401 without the token when one is configured', async () => {
    const post = await api(new Request('http://gateway.test/v1/model-health', { method: 'POST', body: '{}' }));
    expect(post.status).toBe(405);
    api = createModelHealthHandler({ store, token: TOKEN });
    expect((await get('/v1/model-health/stats')).status).toBe(401);
    expect((await get('/v1/model-health/stats', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('answers 503 with a JSON error when the store fails', async () => {
    const broken = new Proxy(store, {
      get: (target, property) =>
        property === 'getStats'
          ? async () => Promise.reject(new Error('connection refused'))
          : Reflect.get(target, property),
    }) as ModelHealthStore;
    api = createModelHealthHandler({ store: broken });
    const response = await get('/v1/model-health/stats');
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('store_unavailable');
    expect(JSON.stringify(response.body)).not.toContain('connection refused');
  });
});
