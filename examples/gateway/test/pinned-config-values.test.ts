import { describe, expect, it } from 'vitest';
import { GatewayConfigError, loadGatewaySettings } from '../src/config.js';

/*
 * The bounds of the gateway's decimal settings: what `loadGatewaySettings` takes and what it
 * refuses with a `GatewayConfigError` naming the setting, its range and the value it got.
 */

describe('CREDITS_PER_USD', () => {
  it.each([
    ['0.25', 0.25],
    ['0', 0],
  ])('takes %s (credits are any rate from 0 up)', (raw, credits) => {
    expect(loadGatewaySettings({ CREDITS_PER_USD: raw }).creditsPerUsd).toBe(credits);
  });

  it('refuses a value that is not a number, rather than pricing every request at NaN credits', () => {
    expect(() => loadGatewaySettings({ CREDITS_PER_USD: 'abc' })).toThrow(GatewayConfigError);
    expect(() => loadGatewaySettings({ CREDITS_PER_USD: 'abc' })).toThrow(
      'CREDITS_PER_USD must be a number between 0 and 1000000, got "abc"',
    );
  });
});

describe('BREAKER_ERROR_THRESHOLD_PERCENT', () => {
  it('takes a percentage from 1 to 100', () => {
    expect(loadGatewaySettings({ BREAKER_ERROR_THRESHOLD_PERCENT: '1' }).breaker.errorThresholdPercentage).toBe(1);
    expect(loadGatewaySettings({ BREAKER_ERROR_THRESHOLD_PERCENT: '100' }).breaker.errorThresholdPercentage).toBe(100);
  });

  // At 0 % any failed call past the volume threshold opens the breaker; "fifty" would be NaN, and no
  // error rate is above NaN: the breaker would never open.
  it.each(['0', 'fifty'])('refuses %s with a GatewayConfigError', (raw) => {
    expect(() => loadGatewaySettings({ BREAKER_ERROR_THRESHOLD_PERCENT: raw })).toThrow(GatewayConfigError);
    expect(() => loadGatewaySettings({ BREAKER_ERROR_THRESHOLD_PERCENT: raw })).toThrow(
      `BREAKER_ERROR_THRESHOLD_PERCENT must be a number between 1 and 100, got "${raw}"`,
    );
  });
});
