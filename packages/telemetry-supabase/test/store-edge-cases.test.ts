/**
 * Cases the rest of the suite let through (found by mutation testing), none needing a database:
 * the JSON of an entry with an error time but no error message, a 504 from the gateway in front of
 * PostgREST, and the timing of a request whose client throws instead of answering.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { MeterProvider, MetricReader, type Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';

import { SupabaseModelHealthStore, SupabaseModelHealthStoreError, entryToJson } from '../src/index.js';
import { call, entryOf, testClient } from './helpers.js';

const API_URL = 'http://127.0.0.1:1';
const KEY = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLW5vdC1yZWFs';

class TestMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The error `promise` rejects with, which must be a store error. */
async function storeFailure(promise: Promise<unknown>): Promise<SupabaseModelHealthStoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SupabaseModelHealthStoreError);
  return error as SupabaseModelHealthStoreError;
}

/**
 * A supabase-js client whose every request fails with `failure`, its calls set to throw their
 * failures (postgrest-js `throwOnError()`) rather than answer them, as a wrapped client may.
 */
function throwingClient(failure: (init: RequestInit | undefined) => Promise<Response>): SupabaseClient {
  const client = testClient(API_URL, KEY, { global: { fetch: (_input, init) => failure(init) } });
  const rpc = client.rpc.bind(client);
  Object.assign(client, {
    rpc: (operation: string, args: Record<string, unknown>) => rpc(operation, args).throwOnError(),
  });
  return client;
}

/** `database_query_duration_seconds` counts by operation. */
async function queryCounts(reader: MetricReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === 'database_query_duration_seconds');
  return Object.fromEntries(
    (metric?.dataPoints ?? []).map((point) => [String(point.attributes.operation), (point.value as Histogram).count]),
  );
}

describe('entryToJson', () => {
  it('sends last_error_at null for an entry without an error message, even when lastErrorAt is set', () => {
    const entry = {
      ...entryOf(call({ responseTimeMs: 5 }), call({ responseTimeMs: 5 })),
      lastCalledAt: new Date('2025-01-31T12:00:01.000Z'),
      lastErrorAt: new Date('2025-01-31T12:00:00.000Z'),
    };
    expect(entry.lastErrorMessage).toBeNull();
    const json = entryToJson(entry);
    expect(json.last_error_message).toBeNull();
    expect(json.last_error_at).toBeNull();
    expect(json.last_called_at).toBe('2025-01-31T12:00:01.000Z');
  });
});

describe('SupabaseModelHealthStore without a database', () => {
  it('reports a 504 from the gateway in front of PostgREST as UNAVAILABLE, retryable', async () => {
    const client = testClient(API_URL, KEY, {
      global: { fetch: () => Promise.resolve(new Response('upstream request timeout', { status: 504 })) },
    });
    const store = new SupabaseModelHealthStore({ client, onQuery: () => undefined });
    const error = await storeFailure(store.getStats());
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      status: 504,
      operation: 'get_model_health_stats',
    });
    expect(error.message).toMatch(/unreachable; retry later\.$/);
  });

  it('times a request whose client throws (no answer, or no answer in time) into database_query_duration_seconds', async () => {
    const reader = new TestMetricReader();
    const provider = new MeterProvider({ readers: [reader] });
    const telemetry = new GatewayTelemetry({ meterProvider: provider });
    const refused = new SupabaseModelHealthStore({
      client: throwingClient(() => Promise.reject(new TypeError('fetch failed'))),
      telemetry,
    });
    expect(await storeFailure(refused.getStats())).toMatchObject({ code: 'UNAVAILABLE', status: 0 });
    const hanging = new SupabaseModelHealthStore({
      client: throwingClient(
        (init) =>
          new Promise((_resolve, reject) =>
            init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)),
          ),
      ),
      requestTimeoutMs: 50,
      telemetry,
    });
    expect(await storeFailure(hanging.listProviders())).toMatchObject({ code: 'TIMEOUT', status: 0 });
    expect(await queryCounts(reader)).toEqual({ get_model_health_stats: 1, get_all_provider_health_summaries: 1 });
    await provider.shutdown();
  });
});
