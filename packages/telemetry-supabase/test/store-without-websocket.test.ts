/**
 * The supabase-js client the store creates from `url` and `serviceRoleKey` needs no WebSocket.
 * realtime-js 2.105.2 and later look for one while a client is being created and throw when there
 * is none, as on Node.js 20: the store could not be built there. The tests remove `WebSocket`, so
 * Node.js 22 and later, which have one, run the same case.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import type { SupabaseTestStack } from '../../../test-support/postgres.js';
import { SupabaseModelHealthStore } from '../src/index.js';
import { batchOf, call, entryOf, startStoreStack, supabaseStackAvailable } from './helpers.js';

describe('SupabaseModelHealthStore without a WebSocket', () => {
  beforeEach(() => {
    vi.stubGlobal('WebSocket', undefined);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('refuses to open a realtime connection through its own client, naming the store', async () => {
    const store = new SupabaseModelHealthStore({ url: 'http://127.0.0.1:1', serviceRoleKey: 'key' });
    // The store never subscribes to a channel: only code reaching into it could try.
    const client = (store as unknown as { client: SupabaseClient }).client;
    const channel = client.channel('model-health');
    expect(() => channel.subscribe()).toThrow(
      /SupabaseModelHealthStore: the model-health store does not use Supabase realtime/,
    );
    await client.removeAllChannels();
  });

  describe.skipIf(!supabaseStackAvailable())('against PostgreSQL + PostgREST', () => {
    let stack: SupabaseTestStack;

    beforeAll(async () => {
      stack = await startStoreStack();
    });

    afterAll(async () => {
      await stack?.stop();
    });

    it('creates its client from url and serviceRoleKey, and writes and reads through it', async () => {
      const store = new SupabaseModelHealthStore({
        url: stack.url,
        serviceRoleKey: stack.serviceRoleKey,
        onQuery: () => undefined,
      });
      await store.applyBatch(batchOf(entryOf(call(), call({ status: 'error', errorMessage: 'upstream 500' }))));
      expect(await store.getModelHealth('openai', 'gpt-4o')).toMatchObject({
        callCount: 2,
        errorCount: 1,
        lastErrorMessage: 'upstream 500',
      });
    });
  });
});
