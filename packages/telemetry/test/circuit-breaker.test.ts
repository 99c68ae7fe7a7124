import CircuitBreaker from 'opossum';
import { describe, expect, it } from 'vitest';
import {
  bindCircuitBreakerMetrics,
  getTelemetry,
  setTelemetry,
  type CircuitBreakerLike,
  type CircuitBreakerState,
} from '../src/index.js';
import { circuitBreakerStateOf } from '../src/provider-health/index.js';
import { FakeBreaker, telemetryPerTest, type CollectedMetrics } from './helpers.js';

const STATE_METRIC = 'gatewayz_circuit_breaker_state';

const setup = telemetryPerTest();

/** The exported state gauge of one provider, as `{ closed, open, half_open }`. */
function statesOf(collected: CollectedMetrics, provider: string): Record<string, number> {
  const states: Record<string, number> = {};
  for (const point of collected.points(STATE_METRIC)) {
    if (point.attributes.provider === provider) states[String(point.attributes.state)] = point.value as number;
  }
  return states;
}

function expectState(collected: CollectedMetrics, provider: string, state: CircuitBreakerState): void {
  expect(statesOf(collected, provider)).toEqual({
    closed: state === 'closed' ? 1 : 0,
    open: state === 'open' ? 1 : 0,
    half_open: state === 'half_open' ? 1 : 0,
  });
}

describe('setCircuitBreakerState', () => {
  it('exports exactly three series per provider: 1 for the current state, 0 for the others', async () => {
    const { telemetry, collect } = setup();
    telemetry.setCircuitBreakerState('openai', 'open');

    const collected = await collect();
    const points = collected.points(STATE_METRIC);
    expect(points).toHaveLength(3);
    expect(collected.value(STATE_METRIC, { provider: 'openai', state: 'open' })).toBe(1);
    expect(collected.value(STATE_METRIC, { provider: 'openai', state: 'closed' })).toBe(0);
    expect(collected.value(STATE_METRIC, { provider: 'openai', state: 'half_open' })).toBe(0);
  });

  it('follows transitions closed → open → half_open → open → half_open → closed', async () => {
    const { telemetry, collect } = setup();
    const sequence: CircuitBreakerState[] = ['closed', 'open', 'half_open', 'open', 'half_open', 'closed'];
    for (const state of sequence) {
      telemetry.setCircuitBreakerState('openai', state);
      const collected = await collect();
      expectState(collected, 'openai', state);
      expect(collected.points(STATE_METRIC)).toHaveLength(3);
    }
  });

  it('keeps providers independent', async () => {
    const { telemetry, collect } = setup();
    telemetry.setCircuitBreakerState('openai', 'open');
    telemetry.setCircuitBreakerState('anthropic', 'half_open');
    telemetry.setCircuitBreakerState('groq', 'closed');

    const collected = await collect();
    expect(collected.points(STATE_METRIC)).toHaveLength(9);
    expectState(collected, 'openai', 'open');
    expectState(collected, 'anthropic', 'half_open');
    expectState(collected, 'groq', 'closed');
    // Summing the "open" series counts the open breakers.
    const open = collected.points(STATE_METRIC).filter((point) => point.attributes.state === 'open');
    expect(open.reduce((sum, point) => sum + (point.value as number), 0)).toBe(1);
  });

  it('drops an unknown state without throwing, counts it and leaves the gauge as it was', async () => {
    const { telemetry, collect } = setup();
    telemetry.setCircuitBreakerState('openai', 'open');
    for (const state of ['opened', 'OPEN', 'half-open', '', undefined]) {
      expect(() => telemetry.setCircuitBreakerState('openai', state as CircuitBreakerState)).not.toThrow();
    }
    expect(() => telemetry.setCircuitBreakerState('groq', 'opened' as CircuitBreakerState)).not.toThrow();

    const collected = await collect();
    expectState(collected, 'openai', 'open');
    expect(statesOf(collected, 'groq')).toEqual({});
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'unknown_label_value', metric: STATE_METRIC })).toBe(
      6,
    );
  });

  it('drops an invalid provider label without touching other providers', async () => {
    const { telemetry, collect } = setup();
    telemetry.setCircuitBreakerState('openai', 'half_open');
    telemetry.setCircuitBreakerState('   ', 'open');

    const collected = await collect();
    expect(collected.points(STATE_METRIC)).toHaveLength(3);
    expectState(collected, 'openai', 'half_open');
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'empty_label', metric: STATE_METRIC })).toBe(1);
  });

  it('never splits one provider between its own series and the overflow series', async () => {
    // With room for four series, the first provider takes three. The second provider must end up
    // with a complete set of three series (its own or the folded "other" ones), so that exactly
    // one of its series reads 1.
    const { telemetry, collect } = setup({ maxSeriesPerMetric: 4 });
    telemetry.setCircuitBreakerState('openai', 'closed');
    telemetry.setCircuitBreakerState('anthropic', 'half_open');

    const collected = await collect();
    expectState(collected, 'openai', 'closed');
    const anthropic = statesOf(collected, 'anthropic');
    if (Object.keys(anthropic).length > 0) {
      expectState(collected, 'anthropic', 'half_open');
    } else {
      expectState(collected, 'other', 'half_open');
    }
  });
});

describe('circuitBreakerStateOf', () => {
  it('derives the state from the breaker flags', () => {
    expect(circuitBreakerStateOf({ opened: false, halfOpen: false } as CircuitBreakerLike)).toBe('closed');
    expect(circuitBreakerStateOf({ opened: true, halfOpen: false } as CircuitBreakerLike)).toBe('open');
    expect(circuitBreakerStateOf({ opened: false, halfOpen: true } as CircuitBreakerLike)).toBe('half_open');
    // Half-open wins if a breaker reports both.
    expect(circuitBreakerStateOf({ opened: true, halfOpen: true } as CircuitBreakerLike)).toBe('half_open');
  });
});

describe('bindCircuitBreakerMetrics with a CircuitBreakerLike', () => {
  it('sets the current state at once and follows open, halfOpen and close events', async () => {
    const { telemetry, collect } = setup();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
    expectState(await collect(), 'openai', 'closed');

    breaker.trip();
    expectState(await collect(), 'openai', 'open');
    breaker.probe();
    expectState(await collect(), 'openai', 'half_open');
    breaker.trip();
    expectState(await collect(), 'openai', 'open');
    breaker.probe();
    breaker.reset();
    expectState(await collect(), 'openai', 'closed');
  });

  it('starts from the state a breaker is already in', async () => {
    const { telemetry, collect } = setup();
    const breaker = new FakeBreaker();
    breaker.opened = true;
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
    expectState(await collect(), 'openai', 'open');
  });

  it('derives the gauge from the breaker state, not from the event name', async () => {
    const { telemetry, collect } = setup();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
    breaker.opened = true;
    breaker.emit('close'); // a late or out-of-order event
    expectState(await collect(), 'openai', 'open');
  });

  it('unbinding removes its listeners and stops updating the gauge', async () => {
    const { telemetry } = setup();
    const breaker = new FakeBreaker();
    const unrelated = (): void => {};
    breaker.on('open', unrelated);
    const unbind = bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
    expect(breaker.listenerCount('open')).toBe(2);
    expect(breaker.listenerCount('halfOpen')).toBe(1);
    expect(breaker.listenerCount('close')).toBe(1);

    unbind();
    expect(breaker.listenerCount('open')).toBe(1);
    expect(breaker.listeners('open')).toEqual([unrelated]);
    expect(breaker.listenerCount('halfOpen')).toBe(0);
    expect(breaker.listenerCount('close')).toBe(0);

    breaker.trip();
    // The state series went with the binding, and the trip did not bring them back.
    for (const state of ['closed', 'open', 'half_open'] as const)
      expect(telemetry.currentValue('circuitBreakerState', { provider: 'openai', state })).toBeUndefined();
  });

  it('binds several breakers to different providers', async () => {
    const { telemetry, collect } = setup();
    const openai = new FakeBreaker();
    const anthropic = new FakeBreaker();
    bindCircuitBreakerMetrics(openai, 'openai', telemetry);
    bindCircuitBreakerMetrics(anthropic, 'anthropic', telemetry);
    anthropic.trip();

    const collected = await collect();
    expectState(collected, 'openai', 'closed');
    expectState(collected, 'anthropic', 'open');
  });

  it('uses the shared telemetry instance when none is given', async () => {
    const { telemetry, collect } = setup();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      const breaker = new FakeBreaker();
      bindCircuitBreakerMetrics(breaker, 'openai');
      breaker.trip();
      expectState(await collect(), 'openai', 'open');
    } finally {
      setTelemetry(previous);
    }
  });
});

describe('bindCircuitBreakerMetrics with a real opossum CircuitBreaker', () => {
  it('shows open after failures, half_open after resetTimeout and closed after a success', async () => {
    const { telemetry, collect } = setup();
    const breaker = new CircuitBreaker(
      async (fail: boolean) => {
        if (fail) throw new Error('upstream failed');
        return 'ok';
      },
      { errorThresholdPercentage: 1, volumeThreshold: 1, resetTimeout: 50, timeout: false },
    );
    const baseline = {
      open: breaker.listenerCount('open'),
      halfOpen: breaker.listenerCount('halfOpen'),
      close: breaker.listenerCount('close'),
    };
    try {
      const unbind = bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
      expectState(await collect(), 'openai', 'closed');

      const halfOpen = new Promise<void>((resolve) => breaker.once('halfOpen', () => resolve()));
      await expect(breaker.fire(true)).rejects.toThrow('upstream failed');
      expect(breaker.opened).toBe(true);
      expectState(await collect(), 'openai', 'open');

      // While open, calls are rejected without reaching the action; the gauge stays open.
      await expect(breaker.fire(false)).rejects.toThrow();
      expectState(await collect(), 'openai', 'open');

      await halfOpen; // opossum's own resetTimeout timer (50 ms)
      expect(breaker.halfOpen).toBe(true);
      expectState(await collect(), 'openai', 'half_open');

      await expect(breaker.fire(false)).resolves.toBe('ok');
      expect(breaker.closed).toBe(true);
      expectState(await collect(), 'openai', 'closed');

      unbind();
      expect(breaker.listenerCount('open')).toBe(baseline.open);
      expect(breaker.listenerCount('halfOpen')).toBe(baseline.halfOpen);
      expect(breaker.listenerCount('close')).toBe(baseline.close);
      breaker.open();
      expect(telemetry.currentValue('circuitBreakerState', { provider: 'openai', state: 'open' })).toBeUndefined();
    } finally {
      breaker.shutdown();
    }
  });

  it('goes back to open when the half-open probe fails', async () => {
    const { telemetry, collect } = setup();
    const breaker = new CircuitBreaker(
      async () => {
        throw new Error('still down');
      },
      { errorThresholdPercentage: 1, volumeThreshold: 1, resetTimeout: 20, timeout: false },
    );
    try {
      bindCircuitBreakerMetrics(breaker, 'anthropic', telemetry);
      const halfOpen = new Promise<void>((resolve) => breaker.once('halfOpen', () => resolve()));
      await expect(breaker.fire()).rejects.toThrow('still down');
      await halfOpen;
      expectState(await collect(), 'anthropic', 'half_open');
      await expect(breaker.fire()).rejects.toThrow('still down');
      expect(breaker.opened).toBe(true);
      expectState(await collect(), 'anthropic', 'open');
    } finally {
      breaker.shutdown();
    }
  });
});
