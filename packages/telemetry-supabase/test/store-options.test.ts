import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';
import { SupabaseModelHealthStore, type SupabaseModelHealthStoreOptions } from '../src/index.js';

// Construction sends no request: these need no database.
const wrong = <T>(value: unknown): T => value as T;

describe('SupabaseModelHealthStore: options of the wrong type', () => {
  it.each<[string, SupabaseModelHealthStoreOptions, string]>([
    ['a client of null', wrong({ client: null }), 'client'],
    ['a URL with no host', { url: 'http://', serviceRoleKey: 'key' }, 'url'],
    ['a URL with a space in the host', { url: 'https://my project.supabase.co', serviceRoleKey: 'key' }, 'url'],
    [
      'an onQuery that is not a function',
      { url: 'http://127.0.0.1:1', serviceRoleKey: 'key', onQuery: wrong(5) },
      'onQuery',
    ],
    [
      'a telemetry that is not an instance',
      { url: 'http://127.0.0.1:1', serviceRoleKey: 'key', telemetry: wrong({}) },
      'telemetry',
    ],
  ])('rejects %s with a TelemetryConfigurationError naming it', (_title, options, option) => {
    let thrown: unknown;
    try {
      new SupabaseModelHealthStore(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
    expect((thrown as TelemetryConfigurationError).option).toBe(option);
  });

  it('accepts a well-formed URL and key', () => {
    expect(() => new SupabaseModelHealthStore({ url: 'http://127.0.0.1:1', serviceRoleKey: 'key' })).not.toThrow();
  });
});
