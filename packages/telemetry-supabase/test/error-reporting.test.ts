/**
 * How failures reach the caller: each kind of failure becomes a SupabaseModelHealthStoreError with
 * a code, a retryable flag and a message that names the SQL function and never shows the key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { TelemetryError } from '@gatewayz/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../../../test-support/ports.js';
import { SupabaseModelHealthStore, SupabaseModelHealthStoreError } from '../src/index.js';
import { batchOf, call, entryOf, testClient } from './helpers.js';

const KEY = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLW5vdC1yZWFs';

async function failure(promise: Promise<unknown>): Promise<SupabaseModelHealthStoreError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SupabaseModelHealthStoreError);
  expect(error).toBeInstanceOf(TelemetryError);
  expect(SupabaseModelHealthStoreError.isInstance(error) && TelemetryError.isInstance(error)).toBe(true);
  const storeError = error as SupabaseModelHealthStoreError;
  expect(storeError.message).not.toContain(KEY);
  return storeError;
}

describe('SupabaseModelHealthStore error reporting', () => {
  let server: Server;
  let url: string;
  /** What the fake API answers, by path. */
  const answers = new Map<string, { status: number; body: string } | 'hang'>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const answer = answers.get(request.url ?? '');
      if (answer === 'hang') return;
      response.writeHead(answer?.status ?? 404, { 'content-type': 'application/json' }).end(answer?.body ?? '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports an unreachable API as UNAVAILABLE with the network cause', async () => {
    const store = new SupabaseModelHealthStore({
      url: `http://127.0.0.1:${await freePort()}`,
      serviceRoleKey: KEY,
      onQuery: () => undefined,
    });
    const error = await failure(store.getStats());
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      status: 0,
      operation: 'get_model_health_stats',
    });
    expect(error.message).toMatch(
      /get_model_health_stats failed \(no HTTP answer\): TypeError: fetch failed \(Caused by: .*ECONNREFUSED.*\)\. Supabase\/PostgREST or PostgreSQL is unreachable; retry later\.$/,
    );
  });

  it('aborts a request after requestTimeoutMs and reports TIMEOUT', async () => {
    answers.set('/rest/v1/rpc/record_model_calls', 'hang');
    const store = new SupabaseModelHealthStore({
      url,
      serviceRoleKey: KEY,
      requestTimeoutMs: 200,
      onQuery: () => undefined,
    });
    const started = Date.now();
    const error = await failure(store.applyBatch(batchOf(entryOf(call()))));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, operation: 'record_model_calls' });
    expect(error.message).toMatch(/retrying the same batch is safe/);
  });

  it('reports an answer of the wrong shape as INVALID_RESPONSE', async () => {
    answers.set('/rest/v1/rpc/get_model_health', {
      status: 200,
      body: JSON.stringify([{ provider: 'openai', model: 'gpt-4o', call_count: 'many' }]),
    });
    answers.set('/rest/v1/rpc/get_all_model_health', { status: 200, body: JSON.stringify([]) });
    const store = new SupabaseModelHealthStore({ url, serviceRoleKey: KEY, onQuery: () => undefined });
    const record = await failure(store.getModelHealth('openai', 'gpt-4o'));
    expect(record).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, operation: 'get_model_health' });
    expect(record.message).toMatch(/field "call_count" should be a finite number, got "many"/);
    expect(await failure(store.listAllModelHealth())).toMatchObject({ code: 'INVALID_RESPONSE' });
  });

  it('reports the empty 400 that PostgREST answers when its database connection drops mid-call as UNAVAILABLE', async () => {
    // The exact answer PostgREST 12.0.2 gave to 2 of ~1,600 calls while PostgreSQL restarted
    // under them (headers and body as captured).
    answers.set('/rest/v1/rpc/record_model_calls', {
      status: 400,
      body: '{"code":"","details":null,"hint":null,"message":""}',
    });
    const store = new SupabaseModelHealthStore({ url, serviceRoleKey: KEY, onQuery: () => undefined });
    const error = await failure(store.applyBatch(batchOf(entryOf(call()))));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 400, retryable: true, operation: 'record_model_calls' });
    expect(error.databaseCode).toBeUndefined();
    expect(error.message).toBe(
      'Supabase model-health store: record_model_calls failed (HTTP 400): no error message. PostgREST answered without an error code or message, as it does when its connection to PostgreSQL drops mid-call; retrying the same batch is safe (batches apply at most once).',
    );
  });

  it.each([
    ['a PostgREST code', { code: 'PGRST100', message: '', details: null, hint: null }],
    ['a message', { code: '', message: 'invalid input syntax for type uuid', details: null, hint: null }],
    ['details', { code: '', message: '', details: 'Token "x" is invalid.', hint: null }],
  ])('keeps a 400 that carries %s as REJECTED, not retried', async (_what, body) => {
    answers.set('/rest/v1/rpc/record_model_calls', { status: 400, body: JSON.stringify(body) });
    const store = new SupabaseModelHealthStore({ url, serviceRoleKey: KEY, onQuery: () => undefined });
    const error = await failure(store.applyBatch(batchOf(entryOf(call()))));
    expect(error).toMatchObject({ code: 'REJECTED', status: 400, retryable: false });
  });

  it('reports a PostgREST error body with its code and message, keys redacted', async () => {
    answers.set('/rest/v1/rpc/get_all_provider_health_summaries', {
      status: 500,
      body: JSON.stringify({ code: 'XX000', message: `internal error near ${KEY}`, details: null, hint: null }),
    });
    const client = testClient(url, KEY);
    const store = new SupabaseModelHealthStore({ client, onQuery: () => undefined });
    const error = await failure(store.listProviders());
    expect(error).toMatchObject({ code: 'REJECTED', status: 500, databaseCode: 'XX000', retryable: true });
    expect(error.message).toContain('internal error near [redacted]');
    expect(JSON.stringify(error.cause)).not.toContain(KEY);
  });

  it('reports a 2xx whose body is not JSON (a proxy answering) as INVALID_RESPONSE, not as the database refusing', async () => {
    answers.set('/rest/v1/rpc/record_model_calls', { status: 200, body: '<html><body>ok</body></html>' });
    const store = new SupabaseModelHealthStore({ url, serviceRoleKey: KEY, onQuery: () => undefined });
    const error = await failure(store.applyBatch(batchOf(entryOf(call()))));
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', status: 200, retryable: false });
    expect(error.message).toBe(
      'Supabase model-health store: record_model_calls failed (HTTP 200): <html><body>ok</body></html>. The answer was not the JSON the SQL function returns: something other than PostgREST (a proxy, a load balancer) may be answering.',
    );
  });

  it.each([200, 502])(
    'cuts a large body that is not JSON (HTTP %i) to 500 characters in the message and the cause, after redacting it',
    async (status) => {
      // A key right at the cut: redacted whole before the text is cut, never shown in part.
      const body = `${'x'.repeat(480)}${KEY}${'y'.repeat(5_000_000)}`;
      answers.set('/rest/v1/rpc/get_all_model_health', { status, body });
      const store = new SupabaseModelHealthStore({ url, serviceRoleKey: KEY, onQuery: () => undefined });
      const error = await failure(store.listAllModelHealth());
      const shown = `${'x'.repeat(480)}[redacted]${'y'.repeat(10)}… (${5_000_490} characters in all)`;
      expect(error.message).toContain(`get_all_model_health failed (HTTP ${status}): ${shown}. `);
      expect(error.message.length).toBeLessThan(1000);
      expect((error.cause as { message: string }).message).toBe(shown);
      expect(error.message).not.toContain(KEY.slice(0, 20));
    },
  );
});
