import { createServer, get, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GatewayTelemetry } from '../src/index.js';
import {
  parseGoDurationSeconds,
  parseRateLimitCount,
  parseRateLimitHeaders,
  parseRetryAfterSeconds,
  parseRfc3339Millis,
  RATE_LIMIT_HEADERS,
} from '../src/rate-limits/index.js';

const NOW = Date.parse('2026-12-03T16:00:00Z');

describe('parseGoDurationSeconds', () => {
  it.each([
    ['1s', 1],
    ['6m0s', 360],
    ['20ms', 0.02],
    ['1h2m3.5s', 3723.5],
    ['0', 0],
    ['0s', 0],
    ['1.5h', 5400],
    ['.5s', 0.5],
    ['7.66s', 7.66],
    ['250us', 0.00025],
    ['250µs', 0.00025],
    ['250μs', 0.00025],
    ['3ns', 3e-9],
    ['2m30s500ms', 150.5],
  ])('reads %s as %d s', (text, seconds) => {
    expect(parseGoDurationSeconds(text)).toBeCloseTo(seconds, 12);
  });

  it('reads sub-second units as the double nearest the decimal value, like a client that divides', () => {
    // Whole and fractional counts of ms, µs and ns: exactly n / 1000 (resp. 1e6, 1e9), never a
    // unit in the last place off (`9ms` is 0.009, not 0.009000000000000001).
    const wrong: string[] = [];
    for (let count = 0; count < 100_000; count++) {
      if (parseGoDurationSeconds(`${count}ms`) !== count / 1e3) wrong.push(`${count}ms`);
      if (parseGoDurationSeconds(`${count}µs`) !== count / 1e6) wrong.push(`${count}µs`);
      if (parseGoDurationSeconds(`${count}ns`) !== count / 1e9) wrong.push(`${count}ns`);
    }
    expect(wrong).toEqual([]);
    fc.assert(
      fc.property(fc.nat({ max: 999_999 }), fc.nat({ max: 999 }), (whole, fraction) => {
        const text = `${whole}.${String(fraction).padStart(3, '0')}`;
        expect(parseGoDurationSeconds(`${text}ms`)).toBe(Number(text) / 1e3);
        expect(parseGoDurationSeconds(`${text}s`)).toBe(Number(text));
      }),
      { seed: 18 },
    );
    expect(parseGoDurationSeconds('9ms')).toBe(0.009);
    expect(parseGoDurationSeconds('1m59.011s')).toBe(119.011);
  });

  it.each([
    '',
    '1',
    '12',
    '-1s',
    '+1s',
    '1 s',
    ' 1s',
    '1S',
    '1d',
    '1sec',
    's',
    '1s2',
    'ms',
    '1..5s',
    '1e3s',
    'NaN',
    'Infinity',
    '1m-2s',
    `${'9'.repeat(70)}s`,
  ])('refuses %j', (text) => {
    expect(parseGoDurationSeconds(text)).toBeUndefined();
  });
});

describe('parseRateLimitCount', () => {
  it.each([
    ['0', 0],
    ['59', 59],
    ['149984', 149984],
    ['9007199254740991', 9007199254740991],
  ])('reads %s', (text, value) => {
    expect(parseRateLimitCount(text)).toBe(value);
  });

  it.each(['', '-1', '+1', '1.5', '1e3', '0x10', '12abc', 'ten', ' 1', '99999999999999999'])('refuses %j', (text) => {
    expect(parseRateLimitCount(text)).toBeUndefined();
  });
});

describe('parseRfc3339Millis', () => {
  it.each([
    ['2026-12-03T16:00:30Z', NOW + 30_000],
    ['2026-12-03t16:00:30z', NOW + 30_000],
    ['2026-12-03T16:00:30.250Z', NOW + 30_250],
    ['2026-12-03T18:00:30+02:00', NOW + 30_000],
    ['2026-12-03T15:30:30-00:30', NOW + 30_000],
    ['2024-02-29T00:00:00Z', Date.parse('2024-02-29T00:00:00Z')],
  ])('reads %s', (text, millis) => {
    expect(parseRfc3339Millis(text)).toBe(millis);
  });

  it.each([
    '',
    '2026-12-03',
    '2026-12-03T16:00:30',
    '2026-12-03T16:00Z',
    '2025-02-29T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-12-03T24:00:00Z',
    '2026-12-03T16:60:00Z',
    '2026-12-03T16:00:61Z',
    '2026-12-03T16:00:00+24:00',
    'Thu, 03 Dec 2026 16:00:30 GMT',
    '1796313630',
  ])('refuses %j', (text) => {
    expect(parseRfc3339Millis(text)).toBeUndefined();
  });
});

describe('parseRetryAfterSeconds', () => {
  it.each([
    ['0', 0],
    ['30', 30],
    ['1.5', 1.5],
    ['Thu, 03 Dec 2026 16:01:00 GMT', 60],
    ['Thu, 03 Dec 2026 15:59:00 GMT', 0],
    // The obsolete formats RFC 9110 (5.6.7) says a recipient must accept.
    ['Thursday, 03-Dec-26 16:01:00 GMT', 60],
    ['Thu Dec  3 16:01:00 2026', 60],
    ['Thu Dec 13 16:00:00 2026', 10 * 86_400],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 0], // 1994: a 2094 reading would be more than 50 years ahead
  ])('reads %j', (text, seconds) => {
    expect(parseRetryAfterSeconds(text, NOW)).toBe(seconds);
  });

  it.each([
    '',
    '-5',
    'soon',
    '1e3',
    'Thu, 31 Feb 2026 16:01:00 GMT',
    'Thu, 03 Dec 2026 16:01:00 PST',
    '2026-12-03T16:01:00Z',
    'Thu, 03 Foo 2026 16:01:00 GMT',
    'Thursday, 31-Feb-26 16:01:00 GMT',
    'Thu, 03-Dec-26 16:01:00 GMT',
    'Thu Dec 3 16:01:00 2026',
    'Thu Dec  3 16:01:00 26',
  ])('refuses %j', (text) => {
    expect(parseRetryAfterSeconds(text, NOW)).toBeUndefined();
  });
});

describe('parseRateLimitHeaders', () => {
  it('reads OpenAI-style headers (Node header record)', () => {
    const snapshot = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-limit-tokens': '150000',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-remaining-tokens': '149984',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-reset-tokens': '6m0s',
        'content-type': 'application/json',
      },
      NOW,
    );
    expect(snapshot).toEqual({
      requests: { limit: 60, remaining: 59, resetSeconds: 1 },
      tokens: { limit: 150000, remaining: 149984, resetSeconds: 360 },
      malformed: [],
    });
  });

  it('reads Anthropic-style headers from a fetch Headers object, resets relative to now', () => {
    const headers = new Headers({
      'Anthropic-RateLimit-Requests-Limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-12-03T16:00:12Z',
      'anthropic-ratelimit-tokens-limit': '40000',
      'anthropic-ratelimit-tokens-remaining': '39000',
      'anthropic-ratelimit-tokens-reset': '2026-12-03T16:00:01.5Z',
      'anthropic-ratelimit-input-tokens-limit': '30000',
      'anthropic-ratelimit-input-tokens-remaining': '29500',
      'anthropic-ratelimit-input-tokens-reset': '2026-12-03T16:00:02Z',
      'anthropic-ratelimit-output-tokens-limit': '10000',
      'anthropic-ratelimit-output-tokens-remaining': '9500',
      'anthropic-ratelimit-output-tokens-reset': '2026-12-03T15:59:00Z',
      'retry-after': '12',
    });
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({
      requests: { limit: 50, remaining: 0, resetSeconds: 12 },
      tokens: { limit: 40000, remaining: 39000, resetSeconds: 1.5 },
      inputTokens: { limit: 30000, remaining: 29500, resetSeconds: 2 },
      // A reset in the past reads as 0 s.
      outputTokens: { limit: 10000, remaining: 9500, resetSeconds: 0 },
      retryAfterSeconds: 12,
      malformed: [],
    });
  });

  it('without anthropic-ratelimit-tokens-*, tokens is the input or output budget with fewer tokens left', () => {
    const snapshot = parseRateLimitHeaders(
      {
        'anthropic-ratelimit-input-tokens-remaining': '800',
        'anthropic-ratelimit-input-tokens-reset': '2026-12-03T16:00:05Z',
        'anthropic-ratelimit-output-tokens-remaining': '120',
        'anthropic-ratelimit-output-tokens-reset': '2026-12-03T16:00:09Z',
      },
      NOW,
    );
    expect(snapshot.tokens).toEqual({ remaining: 120, resetSeconds: 9 });
  });

  it('reads nothing from a response without rate-limit headers', () => {
    expect(parseRateLimitHeaders({ 'content-type': 'application/json' }, NOW)).toEqual({ malformed: [] });
    expect(parseRateLimitHeaders(new Headers(), NOW)).toEqual({ malformed: [] });
  });

  it('drops malformed values, keeps the readable ones, and lists every dropped header', () => {
    const snapshot = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '-3',
        'x-ratelimit-limit-tokens': '-1', // no limit (Azure OpenAI): left out, not malformed
        'x-ratelimit-reset-requests': '1 minute',
        'x-ratelimit-remaining-tokens': '12.5',
        'x-ratelimit-reset-tokens': '20ms',
        'anthropic-ratelimit-requests-reset': 'tomorrow',
        'anthropic-ratelimit-output-tokens-remaining': '',
        'retry-after': 'later',
      },
      NOW,
    );
    expect(snapshot.requests).toEqual({ limit: 60 });
    expect(snapshot.tokens).toEqual({ resetSeconds: 0.02 });
    expect(snapshot.retryAfterSeconds).toBeUndefined();
    expect(snapshot.malformed.map((entry) => entry.header).sort()).toEqual(
      [
        'x-ratelimit-remaining-requests',
        'x-ratelimit-reset-requests',
        'x-ratelimit-remaining-tokens',
        'anthropic-ratelimit-requests-reset',
        'anthropic-ratelimit-output-tokens-remaining',
        'retry-after',
      ].sort(),
    );
    expect(snapshot.malformed.find((entry) => entry.header === 'retry-after')?.value).toBe('later');
  });

  it('cuts a long malformed value to 64 characters', () => {
    const snapshot = parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': 'x'.repeat(500) }, NOW);
    expect(snapshot.malformed).toEqual([{ header: 'x-ratelimit-remaining-requests', value: 'x'.repeat(64) }]);
  });

  it('accepts a header repeated with one value and refuses one repeated with two', () => {
    const same = parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': ['7', '7'] }, NOW);
    expect(same.requests).toEqual({ remaining: 7 });
    const conflicting = parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': ['7', '9'] }, NOW);
    expect(conflicting.requests).toBeUndefined();
    expect(conflicting.malformed).toEqual([{ header: 'x-ratelimit-remaining-requests', value: '7, 9' }]);
  });

  it('reads a header a provider sent twice with one value, as Node and fetch hand it over (joined by ", ")', async () => {
    const date = 'Thu, 03 Dec 2026 16:00:30 GMT';
    const sent: OutgoingHttpHeaders = {
      'x-ratelimit-remaining-requests': ['0', '0'],
      'x-ratelimit-reset-requests': ['1s', '1s'],
      'anthropic-ratelimit-tokens-remaining': ['12000', '12000', '12000'],
      'x-ratelimit-remaining-tokens': ['7', '9'],
    };
    // A real HTTP response with each header line repeated, read by node:http.
    const server = createServer((_request, response) => {
      for (const [name, value] of Object.entries(sent)) response.setHeader(name, value as string[]);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const received = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }, (response) => {
        response.resume();
        resolve(response.headers);
      }).on('error', reject);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(received['x-ratelimit-remaining-requests']).toBe('0, 0');
    const fromNode = parseRateLimitHeaders(received, NOW);
    expect(fromNode.requests).toEqual({ remaining: 0, resetSeconds: 1 });
    expect(fromNode.tokens).toEqual({ remaining: 12000 });
    expect(fromNode.malformed).toEqual([{ header: 'x-ratelimit-remaining-tokens', value: '7, 9' }]);
    // fetch's Headers joins repeats the same way, retry-after (an HTTP date holds a comma) included.
    const headers = new Headers();
    for (const value of [date, date]) headers.append('retry-after', value);
    for (const value of ['5', '5']) headers.append('x-ratelimit-remaining-requests', value);
    const fromFetch = parseRateLimitHeaders(headers, NOW);
    expect(fromFetch.retryAfterSeconds).toBe(30);
    expect(fromFetch.requests).toEqual({ remaining: 5 });
    expect(fromFetch.malformed).toEqual([]);
    const twoDates = new Headers([
      ['retry-after', date],
      ['retry-after', 'Thu, 03 Dec 2026 16:00:31 GMT'],
    ]);
    expect(parseRateLimitHeaders(twoDates, NOW).malformed).toHaveLength(1);
  });

  it('trims surrounding whitespace', () => {
    expect(parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': ' 5 ' }, NOW).requests).toEqual({ remaining: 5 });
  });

  it('records a header value that is neither a string nor a list as malformed, without throwing', () => {
    const snapshot = parseRateLimitHeaders(
      { 'retry-after': null, 'x-ratelimit-remaining-requests': 59, 'x-ratelimit-limit-requests': '60' } as never,
      NOW,
    );
    expect(snapshot.requests).toEqual({ limit: 60 });
    expect(snapshot.retryAfterSeconds).toBeUndefined();
    expect(snapshot.malformed).toEqual(
      expect.arrayContaining([
        { header: 'retry-after', value: 'null' },
        { header: 'x-ratelimit-remaining-requests', value: '59' },
      ]),
    );
  });

  it('never throws, whatever the header values', () => {
    const junk = ['', ' ', '\u0000', '∞', '1'.repeat(10_000), '[object Object]', 'null', '-0', '-1', '0x1p3'];
    for (const value of junk) {
      const headers = Object.fromEntries(RATE_LIMIT_HEADERS.map((name) => [name, value]));
      const snapshot = parseRateLimitHeaders(headers, NOW);
      for (const window of [snapshot.requests, snapshot.tokens, snapshot.inputTokens, snapshot.outputTokens]) {
        for (const field of Object.values(window ?? {})) expect(Number.isFinite(field) && field >= 0).toBe(true);
      }
    }
  });
});

describe('retry-after-ms', () => {
  it('is read in milliseconds and preferred over retry-after, as the OpenAI and Anthropic SDKs do', () => {
    expect(parseRateLimitHeaders({ 'retry-after-ms': '1500' }, NOW)).toEqual({ retryAfterSeconds: 1.5, malformed: [] });
    expect(parseRateLimitHeaders({ 'retry-after-ms': '250', 'retry-after': '9' }, NOW)).toEqual({
      retryAfterSeconds: 0.25,
      malformed: [],
    });
    expect(parseRateLimitHeaders({ 'retry-after-ms': '0' }, NOW).retryAfterSeconds).toBe(0);
    expect(parseRateLimitHeaders({ 'retry-after-ms': ' 250.5 ' }, NOW).retryAfterSeconds).toBe(0.2505);
    // From fetch's Headers (any case), and sent twice with the same value (joined with ", ").
    expect(parseRateLimitHeaders(new Headers({ 'Retry-After-Ms': '20' }), NOW).retryAfterSeconds).toBe(0.02);
    expect(parseRateLimitHeaders({ 'retry-after-ms': '750, 750' }, NOW).retryAfterSeconds).toBe(0.75);
  });

  it('gives every whole millisecond count as the double nearest the decimal value in seconds', () => {
    for (let count = 0; count < 100_000; count++) {
      const snapshot = parseRateLimitHeaders({ 'retry-after-ms': String(count) }, NOW);
      if (snapshot.retryAfterSeconds !== count / 1000) expect(snapshot.retryAfterSeconds).toBe(count / 1000);
    }
  });

  it.each(['soon', '-5', '+5', '1e3', '1.5s', '1.', '.5', '0x10', '', '1 500', 'Infinity', '12345678901234', '7, 9'])(
    'drops and lists %j, falling back to retry-after',
    (value) => {
      const snapshot = parseRateLimitHeaders({ 'retry-after-ms': value, 'retry-after': '9' }, NOW);
      expect(snapshot.retryAfterSeconds).toBe(9);
      expect(snapshot.malformed).toEqual([{ header: 'retry-after-ms', value: value.trim() }]);
      const alone = parseRateLimitHeaders({ 'retry-after-ms': value }, NOW);
      expect(alone.retryAfterSeconds).toBeUndefined();
      expect(alone.malformed.map((entry) => entry.header)).toEqual(['retry-after-ms']);
    },
  );

  it('lists a malformed retry-after even when retry-after-ms is used', () => {
    const snapshot = parseRateLimitHeaders({ 'retry-after-ms': '300', 'retry-after': 'later' }, NOW);
    expect(snapshot.retryAfterSeconds).toBe(0.3);
    expect(snapshot.malformed).toEqual([{ header: 'retry-after', value: 'later' }]);
  });

  it('counts an unreadable one in gatewayz_ratelimit_headers_malformed_total{header="retry-after-ms"}', () => {
    expect(RATE_LIMIT_HEADERS).toContain('retry-after-ms');
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.recordRateLimits('openai', parseRateLimitHeaders({ 'retry-after-ms': 'soon' }, NOW));
    telemetry.recordRateLimits('openai', parseRateLimitHeaders({ 'retry-after-ms': '-1' }, NOW));
    expect(telemetry.currentValue('rateLimitHeadersMalformed', { provider: 'openai', header: 'retry-after-ms' })).toBe(
      2,
    );
  });
});

describe('parseRateLimitHeaders (property-based)', () => {
  const anyValue = fc.oneof(
    fc.string(),
    fc.stringMatching(/^[0-9hmsuµn.:+\-TZ ]{0,24}$/),
    fc.integer({ min: -1e12, max: 1e12 }).map(String),
    fc.double().map(String),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    fc.date({ noInvalidDate: true }).map((date) => date.toUTCString()),
  );
  const anyHeaders = fc.dictionary(fc.constantFrom(...RATE_LIMIT_HEADERS), anyValue);

  it('never throws, reads only finite non-negative numbers, and reports every value it did not read', () => {
    fc.assert(
      fc.property(anyHeaders, fc.integer({ min: 0, max: 4e12 }), (headers, now) => {
        const snapshot = parseRateLimitHeaders(headers, now);
        const fields = [snapshot.requests, snapshot.tokens, snapshot.inputTokens, snapshot.outputTokens].flatMap(
          (window) => Object.values(window ?? {}),
        );
        if (snapshot.retryAfterSeconds !== undefined) fields.push(snapshot.retryAfterSeconds);
        for (const value of fields) expect(Number.isFinite(value) && value >= 0).toBe(true);
        for (const { header } of snapshot.malformed) expect(headers[header]).toBeDefined();
        // Each header alone was read, or reported as malformed, or (a count of -1: no limit) neither.
        for (const [header, value] of Object.entries(headers)) {
          const alone = parseRateLimitHeaders({ [header]: value }, now);
          const read = Object.keys(alone).some((key) => key !== 'malformed');
          const noLimit = /-(limit|remaining)(-|$)/.test(header) && value.trim() === '-1';
          expect(noLimit ? !read && alone.malformed.length === 0 : read !== (alone.malformed.length === 1)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads back every count and Go duration it is given', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.nat({ max: 5 }),
        fc.nat({ max: 59 }),
        fc.nat({ max: 59_999 }),
        (remaining, hours, minutes, millis) => {
          const text = `${hours}h${minutes}m${millis / 1000}s`;
          const snapshot = parseRateLimitHeaders(
            { 'x-ratelimit-remaining-requests': String(remaining), 'x-ratelimit-reset-requests': text },
            0,
          );
          expect(snapshot.requests?.remaining).toBe(remaining);
          expect(snapshot.requests?.resetSeconds).toBeCloseTo(hours * 3600 + minutes * 60 + millis / 1000, 6);
        },
      ),
    );
  });
});
