import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayTelemetry, getTelemetry, recordFailover, setTelemetry, type FailoverReason } from '../src/index.js';
import { parseRateLimitHeaders, recordRateLimits } from '../src/rate-limits/index.js';
import { retainedHeapBytes, telemetryPerTest } from './helpers.js';

const REMAINING = 'gatewayz_provider_ratelimit_remaining';
const RESET = 'gatewayz_provider_ratelimit_reset_seconds';
const MALFORMED = 'gatewayz_ratelimit_headers_malformed';
const NOW = Date.parse('2026-12-03T16:00:00Z');

const setup = telemetryPerTest();

/** Move the fake clocks, wall and monotonic alike, to `ms` after NOW. */
const moveTo = (ms: number): void => void vi.advanceTimersByTime(NOW + ms - Date.now());

describe('recordRateLimits', () => {
  // Resets count down on the monotonic clock (performance), headers are read against Date: both
  // stand still unless a test moves them.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sets remaining and reset per provider and limit type from parsed headers', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders(
        {
          'x-ratelimit-remaining-requests': '4',
          'x-ratelimit-reset-requests': '12s',
          'x-ratelimit-remaining-tokens': '9000',
          'x-ratelimit-reset-tokens': '20ms',
        },
        NOW,
      ),
    );
    telemetry.recordRateLimits(
      'anthropic',
      parseRateLimitHeaders(
        {
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': '2026-12-03T16:00:30Z',
        },
        NOW,
      ),
    );
    const collected = await collect();
    expect(collected.value(REMAINING, { provider: 'openai', limit_type: 'requests' })).toBe(4);
    expect(collected.value(REMAINING, { provider: 'openai', limit_type: 'tokens' })).toBe(9000);
    expect(collected.value(RESET, { provider: 'openai', limit_type: 'requests' })).toBe(12);
    expect(collected.value(RESET, { provider: 'openai', limit_type: 'tokens' })).toBe(0.02);
    expect(collected.value(REMAINING, { provider: 'anthropic', limit_type: 'requests' })).toBe(0);
    expect(collected.value(RESET, { provider: 'anthropic', limit_type: 'requests' })).toBe(30);
    expect(collected.value(REMAINING, { provider: 'anthropic', limit_type: 'tokens' })).toBeUndefined();
  });

  it('counts the reset down between responses, and reads the full limit once it has passed', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders(
        {
          'x-ratelimit-limit-requests': '60',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '20s',
          'x-ratelimit-remaining-tokens': '100',
          'x-ratelimit-reset-tokens': '5s',
        },
        NOW,
      ),
    );
    const requests = { provider: 'openai', limit_type: 'requests' };
    const tokens = { provider: 'openai', limit_type: 'tokens' };
    moveTo(7_500);
    let collected = await collect();
    expect(collected.value(RESET, requests)).toBe(12.5);
    expect(collected.value(REMAINING, requests)).toBe(0);
    expect(collected.value(RESET, tokens)).toBe(0);
    // No token limit was announced: the last remaining value stays.
    expect(collected.value(REMAINING, tokens)).toBe(100);
    moveTo(20_000);
    collected = await collect();
    expect(collected.value(RESET, requests)).toBe(0);
    expect(collected.value(REMAINING, requests)).toBe(60);
    // A new response starts a new window.
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders(
        { 'x-ratelimit-remaining-requests': '59', 'x-ratelimit-reset-requests': '1s' },
        NOW + 20_000,
      ),
    );
    collected = await collect();
    expect(collected.value(REMAINING, requests)).toBe(59);
    expect(collected.value(RESET, requests)).toBe(1);
  });

  it('counts down in producer mode too (the metric producer path)', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    telemetry.recordRateLimits('anthropic', {
      requests: { limit: 50, remaining: 0, resetSeconds: 30 },
      malformed: [],
    });
    moveTo(10_000);
    const values = Object.fromEntries(
      telemetry.exportableMetrics().flatMap((metric) => metric.cells.map((cell) => [metric.name, cell.value])),
    );
    expect(values[RESET]).toBe(20);
    expect(values[REMAINING]).toBe(0);
  });

  it('never lets an earlier reset overwrite a remaining count that came later without one', async () => {
    const { telemetry, collect } = setup();
    const requests = { provider: 'openai', limit_type: 'requests' };
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders(
        {
          'x-ratelimit-limit-requests': '60',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1s',
        },
        NOW,
      ),
    );
    moveTo(30_000);
    // A later response says 12 are left and nothing about the reset: 12 is what is known now.
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': '12' }, NOW + 30_000),
    );
    moveTo(31_000);
    let collected = await collect();
    expect(collected.value(REMAINING, requests)).toBe(12);
    expect(collected.value(RESET, requests)).toBe(0);
    // A count read before an announced reset is still refilled by it.
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders(
        { 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '10s' },
        NOW + 31_000,
      ),
    );
    telemetry.recordRateLimits(
      'openai',
      parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': '2' }, NOW + 31_000),
    );
    moveTo(41_000);
    collected = await collect();
    expect(collected.value(REMAINING, requests)).toBe(60);
  });

  it('keeps values the next response does not mention, and moves the ones it does', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordRateLimits('openai', parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': '10' }, NOW));
    telemetry.recordRateLimits('openai', parseRateLimitHeaders({ 'x-ratelimit-remaining-tokens': '5' }, NOW));
    telemetry.recordRateLimits('openai', parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': '9' }, NOW));
    const collected = await collect();
    expect(collected.value(REMAINING, { provider: 'openai', limit_type: 'requests' })).toBe(9);
    expect(collected.value(REMAINING, { provider: 'openai', limit_type: 'tokens' })).toBe(5);
  });

  it('counts malformed headers per provider and header, and leaves the gauges alone', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordRateLimits('openai', parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': '3' }, NOW));
    const bad = parseRateLimitHeaders(
      { 'x-ratelimit-remaining-requests': 'lots', 'x-ratelimit-reset-requests': '5 minutes' },
      NOW,
    );
    telemetry.recordRateLimits('openai', bad);
    telemetry.recordRateLimits('openai', bad);
    const collected = await collect();
    expect(collected.value(REMAINING, { provider: 'openai', limit_type: 'requests' })).toBe(3);
    expect(collected.value(MALFORMED, { provider: 'openai', header: 'x-ratelimit-remaining-requests' })).toBe(2);
    expect(collected.value(MALFORMED, { provider: 'openai', header: 'x-ratelimit-reset-requests' })).toBe(2);
    expect(collected.points(RESET)).toEqual([]);
  });

  it('gives providers folded into "other" one window, the newest response\'s', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 2 });
    const other = { provider: 'other', limit_type: 'requests' };
    telemetry.recordRateLimits('openai', { requests: { limit: 500, remaining: 499, resetSeconds: 60 }, malformed: [] });
    telemetry.recordRateLimits('anthropic', {
      requests: { limit: 50, remaining: 49, resetSeconds: 60 },
      malformed: [],
    });
    // The series limit is reached: acme and then zeta write provider="other".
    telemetry.recordRateLimits('acme', { requests: { limit: 1000, remaining: 0, resetSeconds: 1 }, malformed: [] });
    moveTo(2_000);
    telemetry.recordRateLimits('zeta', { requests: { remaining: 3, resetSeconds: 300 }, malformed: [] });
    let collected = await collect();
    // acme's reset has passed, but "other" holds zeta's count now: acme's limit must not refill it.
    expect(collected.value(REMAINING, other)).toBe(3);
    expect(collected.value(RESET, other)).toBe(300);
    moveTo(302_000);
    collected = await collect();
    expect(collected.value(RESET, other)).toBe(0);
    expect(collected.value(REMAINING, other)).toBe(3); // zeta gave no limit
    expect(collected.value(REMAINING, { provider: 'openai', limit_type: 'requests' })).toBe(500);
    // A later response of zeta without a count still moves the refill of the count it wrote.
    telemetry.recordRateLimits('zeta', { requests: { limit: 10, resetSeconds: 5 }, malformed: [] });
    moveTo(307_000);
    expect((await collect()).value(REMAINING, other)).toBe(10);
  });

  it('keeps no memory per provider name folded into "other"', async () => {
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 10 });
    const snapshot = { requests: { remaining: 1, resetSeconds: 10 }, malformed: [] };
    for (let index = 0; index < 10; index++) telemetry.recordRateLimits(`provider-${index}`, snapshot);
    await collect();
    const retained = await retainedHeapBytes(async () => {
      for (let index = 0; index < 50_000; index++) telemetry.recordRateLimits(`folded-provider-${index}`, snapshot);
      await collect();
    });
    // A window per name held about 10 MB here.
    expect(retained).toBeLessThan(2_000_000);
    expect((await collect()).points(REMAINING)).toHaveLength(11);
  });

  it('has a module-level shortcut on the shared instance', async () => {
    const { telemetry, collect } = setup();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      recordRateLimits('groq', parseRateLimitHeaders({ 'x-ratelimit-remaining-requests': '1' }, NOW));
    } finally {
      setTelemetry(previous);
    }
    expect((await collect()).value(REMAINING, { provider: 'groq', limit_type: 'requests' })).toBe(1);
  });
});

describe('recordFailover', () => {
  it('counts moves by provider, next provider and reason', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordFailover('openai', 'openrouter', 'error');
    telemetry.recordFailover('openai', 'openrouter', 'error');
    telemetry.recordFailover('openai', 'openrouter', 'circuit_open');
    telemetry.recordFailover('anthropic', 'openrouter', 'rate_limited');
    const collected = await collect();
    expect(
      collected.value('gatewayz_failovers', { provider: 'openai', next_provider: 'openrouter', reason: 'error' }),
    ).toBe(2);
    expect(
      collected.value('gatewayz_failovers', {
        provider: 'openai',
        next_provider: 'openrouter',
        reason: 'circuit_open',
      }),
    ).toBe(1);
    expect(collected.total('gatewayz_failovers')).toBe(4);
  });

  it('drops and counts an unknown reason', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordFailover('openai', 'openrouter', 'overloaded' as FailoverReason);
    const collected = await collect();
    expect(collected.total('gatewayz_failovers')).toBe(0);
    expect(
      collected.value('gatewayz_telemetry_dropped', { reason: 'unknown_label_value', metric: 'gatewayz_failovers' }),
    ).toBe(1);
  });

  it('has a module-level shortcut on the shared instance', async () => {
    const { telemetry, collect } = setup();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      recordFailover('openai', 'anthropic', 'timeout');
    } finally {
      setTelemetry(previous);
    }
    expect(
      (await collect()).value('gatewayz_failovers', {
        provider: 'openai',
        next_provider: 'anthropic',
        reason: 'timeout',
      }),
    ).toBe(1);
  });
});
