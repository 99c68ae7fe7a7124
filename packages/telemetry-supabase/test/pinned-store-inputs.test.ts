/**
 * Cases the rest of the suite let through (found by mutation testing), none needing a database: a
 * lone surrogate in a looked-up provider, a batch id with text after its UUID, a service-role key of
 * spaces, numeric strings in a result row, and a connect timeout without an HTTP answer.
 */
import { TelemetryConfigurationError, TelemetryInputError } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';

import { SupabaseModelHealthStore, SupabaseModelHealthStoreError, validateModelCallBatch } from '../src/index.js';
import { call, entryOf, testClient } from './helpers.js';

const API_URL = 'http://127.0.0.1:1';
const KEY = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLW5vdC1yZWFs';

/** A store whose every request goes to `answer`, and the requests it sent. */
function storeAnswering(answer: () => Promise<Response>): { store: SupabaseModelHealthStore; requests: string[] } {
  const requests: string[] = [];
  const client = testClient(API_URL, KEY, {
    global: {
      fetch: (input) => {
        requests.push(String(input instanceof Request ? input.url : input));
        return answer();
      },
    },
  });
  return { store: new SupabaseModelHealthStore({ client, onQuery: () => undefined }), requests };
}

/** The error `promise` rejects with. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (caught: unknown) => caught,
  );
}

const json = (body: unknown): Promise<Response> =>
  Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }));

describe('SupabaseModelHealthStore input checks', () => {
  it('refuses a provider with a lone UTF-16 surrogate in getModelHealth before any request', async () => {
    const { store, requests } = storeAnswering(() => json([]));
    const error = await rejectionOf(store.getModelHealth('open\ud800ai', 'gpt-4o'));
    expect(error).toBeInstanceOf(TelemetryInputError);
    expect((error as TelemetryInputError).message).toContain('provider must not contain lone UTF-16 surrogates');
    expect(requests).toEqual([]);
    // A well-formed pair of surrogates is text like any other.
    await store.getModelHealth('open\ud83d\ude00ai', 'gpt-4o');
    expect(requests).toHaveLength(1);
  });

  it('refuses a batch id with text after its UUID, before any request', async () => {
    const { store, requests } = storeAnswering(() => json(1));
    const batch = { id: '123e4567-e89b-12d3-a456-426614174000-extra', entries: [entryOf(call())] };
    expect(() => validateModelCallBatch(batch)).toThrow(TelemetryInputError);
    expect(await rejectionOf(store.applyBatch(batch))).toBeInstanceOf(TelemetryInputError);
    expect(requests).toEqual([]);
  });

  it.each(['   ', '\t\n'])('refuses a service-role key of white space (%j)', (serviceRoleKey) => {
    const make = () => new SupabaseModelHealthStore({ url: 'https://project.supabase.co', serviceRoleKey });
    expect(make).toThrow(TelemetryConfigurationError);
    expect(make).toThrow(/serviceRoleKey/);
  });
});

describe('SupabaseModelHealthStore answers', () => {
  it('reads numbers sent as numeric strings in a result row', async () => {
    const { store } = storeAnswering(() =>
      json([
        {
          total_models: '3',
          total_providers: '1',
          total_calls: '10',
          total_successes: '9',
          total_errors: '1',
          success_rate: '0.9',
          avg_response_time_ms: '412.5',
        },
      ]),
    );
    expect(await store.getStats()).toEqual({
      totalModels: 3,
      totalProviders: 1,
      totalCalls: 10,
      totalSuccesses: 9,
      totalErrors: 1,
      successRate: 0.9,
      avgResponseTimeMs: 412.5,
    });
  });

  it('reports a connect timeout (no HTTP answer) as TIMEOUT, retryable', async () => {
    // What a fetch built on undici's own requests throws when the TCP connection does not open in time.
    const connectTimeout = Object.assign(new Error('Connect Timeout Error'), { name: 'ConnectTimeoutError' });
    const { store } = storeAnswering(() => Promise.reject(connectTimeout));
    const error = await rejectionOf(store.getStats());
    expect(error).toBeInstanceOf(SupabaseModelHealthStoreError);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, status: 0, operation: 'get_model_health_stats' });
  });
});
