import { afterAll, beforeAll, describe } from 'vitest';

import { describeModelHealthStoreContract } from '../../../test-support/model-health-store-contract.js';
import type { SupabaseTestStack } from '../../../test-support/postgres.js';
import { SupabaseModelHealthStore } from '../src/index.js';
import { startStoreStack, supabaseStackAvailable, truncateTables } from './helpers.js';

describe.skipIf(!supabaseStackAvailable())('SupabaseModelHealthStore against PostgreSQL + PostgREST', () => {
  let stack: SupabaseTestStack | undefined;

  beforeAll(async () => {
    stack = await startStoreStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describeModelHealthStoreContract('SupabaseModelHealthStore', {
    create: async () => {
      if (stack === undefined) throw new Error('the test stack did not start');
      await truncateTables(stack);
      return new SupabaseModelHealthStore({
        url: stack.url,
        serviceRoleKey: stack.serviceRoleKey,
        onQuery: () => undefined,
      });
    },
  });
});
