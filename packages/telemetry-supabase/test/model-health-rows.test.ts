import { describe, expect, it } from 'vitest';

import { recordFromRow, summaryFromRow } from '../src/model-health-rows.js';
import { SupabaseModelHealthStoreError } from '../src/index.js';

/** A `model_health_tracking` row as PostgREST sends it, with `last_called_at` set to `lastCalledAt`. */
function row(lastCalledAt: unknown): Record<string, unknown> {
  return {
    provider: 'openai',
    model: 'gpt-4o',
    call_count: 1,
    success_count: 1,
    error_count: 0,
    last_response_time_ms: 120,
    avg_response_time_ms: 120,
    last_status: 'success',
    last_error_message: null,
    last_error_at: null,
    last_called_at: lastCalledAt,
    created_at: '2025-01-31T12:00:00+00:00',
    updated_at: '2025-01-31T12:00:00+00:00',
  };
}

function lastCalledAt(text: unknown): string {
  return recordFromRow('get_model_health', row(text)).lastCalledAt.toISOString();
}

describe('timestamptz values in rows', () => {
  it('reads offsets with seconds (local mean time before ~1883 in a non-UTC session time zone) exactly', () => {
    // JSON (XSD) output, as PostgREST sends it, in America/New_York, Asia/Kolkata and Europe/Amsterdam.
    expect(lastCalledAt('1850-01-01T00:00:00-04:56:02')).toBe('1850-01-01T04:56:02.000Z');
    expect(lastCalledAt('1850-01-01T00:00:00.123-04:56:02')).toBe('1850-01-01T04:56:02.123Z');
    expect(lastCalledAt('1850-01-01T10:49:30.123+05:53:28')).toBe('1850-01-01T04:56:02.123Z');
    expect(lastCalledAt('1850-01-01T05:15:34.123+00:19:32')).toBe('1850-01-01T04:56:02.123Z');
    // The ISO text output separates date and time by a space.
    expect(lastCalledAt('1850-01-01 00:00:00-04:56:02')).toBe('1850-01-01T04:56:02.000Z');
    // Offsets with seconds across a day and a year boundary, and in years before 100.
    expect(lastCalledAt('1800-12-31T23:59:59-04:56:02')).toBe('1801-01-01T04:56:01.000Z');
    expect(lastCalledAt('0050-03-01T00:00:00+00:00:30')).toBe('0050-02-28T23:59:30.000Z');
  });

  it('reads every offset form PostgreSQL writes, and the basic ones', () => {
    expect(lastCalledAt('2025-01-31T12:00:00+00:00')).toBe('2025-01-31T12:00:00.000Z');
    expect(lastCalledAt('2025-01-31 12:00:00+00')).toBe('2025-01-31T12:00:00.000Z');
    expect(lastCalledAt('2025-01-31 12:00:00-05')).toBe('2025-01-31T17:00:00.000Z');
    expect(lastCalledAt('2025-01-31T12:00:00.123456+05:30')).toBe('2025-01-31T06:30:00.123Z');
    expect(lastCalledAt('2025-01-31T12:00:00+0545')).toBe('2025-01-31T06:15:00.000Z');
    expect(lastCalledAt('2025-01-31T12:00:00-045602')).toBe('2025-01-31T16:56:02.000Z');
    expect(lastCalledAt('2025-01-31T12:00:00.5Z')).toBe('2025-01-31T12:00:00.500Z');
    // Microseconds are cut to milliseconds, never rounded into the next second.
    expect(lastCalledAt('2025-01-31T23:59:59.999999+00:00')).toBe('2025-01-31T23:59:59.999Z');
  });

  it('reads a nullable timestamp with an offset in seconds', () => {
    const summary = summaryFromRow('get_provider_health_summary', {
      provider: 'openai',
      total_models: 1,
      total_calls: 1,
      success_count: 1,
      error_count: 0,
      success_rate: 1,
      error_rate: 0,
      avg_response_time_ms: 120,
      last_called_at: '1850-01-01T00:00:00-04:56:02',
    });
    expect(summary.lastCalledAt?.toISOString()).toBe('1850-01-01T04:56:02.000Z');
  });

  it.each([
    ['no offset, so no instant', '2025-01-31T12:00:00'],
    ['an offset beyond 15:59:59', '2025-01-31T12:00:00+16:00'],
    ['offset minutes past 59', '2025-01-31T12:00:00+05:60'],
    ['offset seconds past 59', '1850-01-01T00:00:00-04:56:60'],
    ['a day the month lacks', '2025-02-30T12:00:00+00:00'],
    ['hour 24', '2025-01-31T24:00:00+00:00'],
    ['a second past 59', '2025-01-31T12:00:60+00:00'],
    ['a date alone', '2025-01-31'],
    ['a number', 1_738_324_800_000],
    ['trailing text', '2025-01-31T12:00:00+00:00 BC'],
  ])('refuses %s with an INVALID_RESPONSE error naming the field', (_, text) => {
    const failure = (() => {
      try {
        lastCalledAt(text);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(SupabaseModelHealthStoreError.isInstance(failure)).toBe(true);
    expect((failure as SupabaseModelHealthStoreError).code).toBe('INVALID_RESPONSE');
    expect((failure as Error).message).toContain('field "last_called_at"');
  });
});
