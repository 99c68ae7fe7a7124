/*
 * Rate-limit header readings a user sees that no other test pinned: the value formats at their
 * edges (long durations, retry-after fractions, leap seconds, two-digit years) and which budget
 * wins when two describe the same thing.
 */
import { describe, expect, it } from 'vitest';
import {
  parseGoDurationSeconds,
  parseRateLimitHeaders,
  parseRetryAfterSeconds,
  parseRfc3339Millis,
} from '../src/rate-limits/index.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const NEW_YEAR_2027 = Date.UTC(2027, 0, 1);

describe('header values at their edges', () => {
  it('reads a Go duration longer than 16 characters (1h2m3.4567890123s)', () => {
    expect(parseGoDurationSeconds('1h2m3.4567890123s')).toBeCloseTo(3723.4567890123, 9);
    expect(parseRateLimitHeaders({ 'x-ratelimit-reset-requests': '1h2m3.4567890123s' }, NOW)).toEqual({
      requests: { resetSeconds: expect.closeTo(3723.4567890123, 9) as number },
      malformed: [],
    });
  });

  it('reads retry-after delay-seconds with four decimals (1.2345)', () => {
    expect(parseRetryAfterSeconds('1.2345', NOW)).toBe(1.2345);
    expect(parseRateLimitHeaders({ 'retry-after': '1.2345' }, NOW)).toEqual({
      retryAfterSeconds: 1.2345,
      malformed: [],
    });
  });

  it('accepts an RFC 3339 leap second and reads it as the first instant of the next minute', () => {
    expect(parseRfc3339Millis('2026-12-31T23:59:60Z')).toBe(NEW_YEAR_2027);
    expect(parseRfc3339Millis('2026-06-01T00:00:60Z')).toBe(NOW + 60_000);
    expect(parseRateLimitHeaders({ 'anthropic-ratelimit-requests-reset': '2026-06-01T00:00:60Z' }, NOW)).toEqual({
      requests: { resetSeconds: 60 },
      malformed: [],
    });
  });

  it.each([
    ['IMF-fixdate', 'Thu, 31 Dec 2026 23:59:60 GMT'],
    ['RFC 850', 'Thursday, 31-Dec-26 23:59:60 GMT'],
    ['asctime', 'Thu Dec 31 23:59:60 2026'],
  ])('reads a leap second in a %s retry-after as the same instant as in RFC 3339', (_format, date) => {
    const seconds = (NEW_YEAR_2027 - NOW) / 1000;
    expect(parseRetryAfterSeconds(date, NOW)).toBe(seconds);
    const snapshot = parseRateLimitHeaders(
      { 'retry-after': date, 'anthropic-ratelimit-requests-reset': '2026-12-31T23:59:60Z' },
      NOW,
    );
    expect(snapshot.retryAfterSeconds).toBe(seconds);
    expect(snapshot.requests?.resetSeconds).toBe(seconds);
  });

  it('reads an RFC 850 year less than 50 years ahead in this century, one more than 50 in the last (RFC 9110)', () => {
    // 2076-01-01 is 49.6 years after NOW: not "more than 50 years in the future", so it stays 2076.
    expect(parseRetryAfterSeconds('Wednesday, 01-Jan-76 00:00:00 GMT', NOW)).toBe((Date.UTC(2076, 0, 1) - NOW) / 1000);
    // 2077 would be; it is 1977, a date in the past, so no wait.
    expect(parseRetryAfterSeconds('Saturday, 01-Jan-77 00:00:00 GMT', NOW)).toBe(0);
    // The rule compares instants, not years: 2076-12-31 is 50.6 years ahead, so it is 1976.
    expect(parseRetryAfterSeconds('Thursday, 31-Dec-76 00:00:00 GMT', NOW)).toBe(0);
  });
});

describe('which budget a snapshot keeps', () => {
  it('takes the output-token budget as tokens when the input-token budget gives only a reset', () => {
    // The input budget's remainder is unknown, so it loses to the one whose remainder is known.
    const snapshot = parseRateLimitHeaders(
      {
        'anthropic-ratelimit-input-tokens-reset': '2026-06-01T00:00:30Z',
        'anthropic-ratelimit-output-tokens-remaining': '5',
      },
      NOW,
    );
    expect(snapshot.tokens).toEqual({ remaining: 5 });
  });

  it('keeps the input-token budget as tokens when both budgets have as many tokens left', () => {
    // The output budget replaces the input budget only with fewer tokens left ("the one with fewer
    // tokens left"); equal counts are not fewer, so tokens stays the input budget, its limit with it.
    const snapshot = parseRateLimitHeaders(
      {
        'anthropic-ratelimit-input-tokens-limit': '40000',
        'anthropic-ratelimit-input-tokens-remaining': '100',
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '100',
      },
      NOW,
    );
    expect(snapshot.tokens).toEqual({ limit: 40000, remaining: 100 });
  });

  it('keeps the OpenAI-style reset when both styles give a requests reset', () => {
    // The x-ratelimit-* window comes first in the merge, whose fields are filled from the
    // anthropic-ratelimit-* window only where the first lacks them: 10 s, not 30 s.
    const snapshot = parseRateLimitHeaders(
      { 'x-ratelimit-reset-requests': '10s', 'anthropic-ratelimit-requests-reset': '2026-06-01T00:00:30Z' },
      NOW,
    );
    expect(snapshot.requests).toEqual({ resetSeconds: 10 });
  });
});
