/**
 * Shared setup of the integration tests: a real PostgreSQL + PostgREST + `/rest/v1` proxy with the
 * package's migration applied (see test-support/postgres.ts), and supabase-js clients for it.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { createClient, type SupabaseClient, type SupabaseClientOptions } from '@supabase/supabase-js';
import {
  foldModelCall,
  type ModelCall,
  type ModelCallAggregate,
  type ModelCallBatch,
} from '@gatewayz/telemetry/model-health';

import { startSupabaseStack, type SupabaseTestStack } from '../../../test-support/postgres.js';
import { MIGRATIONS, migrationPath } from '../src/index.js';
import { UnusedRealtimeTransport } from '../src/unused-realtime-transport.js';

export { supabaseStackAvailable } from '../../../test-support/postgres.js';

/** Every migration of the package, in order. */
export const ALL_MIGRATIONS: readonly string[] = MIGRATIONS.map((name) => migrationPath(name));

/**
 * Starts the stack with a linguistic (ICU en-US) default collation, unlike JavaScript's string
 * order, so the tests show the SQL functions order by byte order themselves. `migrations` default
 * every migration of the package.
 */
export function startStoreStack(migrations: readonly string[] = ALL_MIGRATIONS): Promise<SupabaseTestStack> {
  return startSupabaseStack({ migrations, icuLocale: 'en-US' });
}

/** Empty both tables (as the superuser, bypassing RLS). */
export async function truncateTables(stack: SupabaseTestStack): Promise<void> {
  await stack.postgres.psql('truncate public.model_health_tracking, public.model_health_applied_batches');
}

/**
 * A supabase-js client for `url`, authorised by `key`, made as the store makes its own: no session,
 * and no realtime, for which Node.js 20 has no WebSocket (supabase-js 2.105.2 and later would throw).
 */
export function testClient(url: string, key: string, options: SupabaseClientOptions<'public'> = {}): SupabaseClient {
  return createClient(url, key, {
    ...options,
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: UnusedRealtimeTransport },
  });
}

/** A supabase-js client for the stack, authorised by `key`. */
export function clientFor(stack: SupabaseTestStack, key: string): SupabaseClient {
  return testClient(stack.url, key);
}

export function call(overrides: Partial<ModelCall> = {}): ModelCall {
  return { provider: 'openai', model: 'gpt-4o', responseTimeMs: 100, status: 'success', ...overrides };
}

export function entryOf(...calls: ModelCall[]): ModelCallAggregate {
  let entry: ModelCallAggregate | undefined;
  for (const item of calls) entry = foldModelCall(entry, item);
  if (entry === undefined) throw new Error('entryOf needs at least one call');
  return entry;
}

export function batchOf(...entries: ModelCallAggregate[]): ModelCallBatch {
  return { id: randomUUID(), entries };
}

/** The built package, which the child-process tests import. */
export const BUILT_ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

export function requireBuiltPackage(): void {
  if (!existsSync(BUILT_ENTRY)) {
    throw new Error(
      `${BUILT_ENTRY} is missing: build the package first (npx turbo run build --filter=@gatewayz/telemetry-supabase...)`,
    );
  }
}
