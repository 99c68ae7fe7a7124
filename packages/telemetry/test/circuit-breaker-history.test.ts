import CircuitBreaker from 'opossum';
import { describe, expect, it } from 'vitest';
import { bindCircuitBreakerMetrics, GatewayTelemetry } from '../src/index.js';
import { FakeBreaker, telemetryPerTest, type CollectedMetrics } from './helpers.js';

const TRANSITIONS = 'gatewayz_circuit_breaker_transitions';
const OPEN_SECONDS = 'gatewayz_circuit_breaker_open_seconds';

const setup = telemetryPerTest();

/** A hand-driven millisecond clock. */
function manualClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function transitions(collected: CollectedMetrics, provider: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const point of collected.points(TRANSITIONS)) {
    if (point.attributes.provider !== provider) continue;
    counts[`${String(point.attributes.from_state)}->${String(point.attributes.to_state)}`] = point.value as number;
  }
  return counts;
}

describe('circuit-breaker transitions', () => {
  it('counts each change of state once, labelled from and to', async () => {
    const { telemetry, collect } = setup();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
    breaker.trip();
    breaker.probe();
    breaker.trip();
    breaker.probe();
    breaker.reset();
    expect(transitions(await collect(), 'openai')).toEqual({
      'closed->open': 1,
      'open->half_open': 2,
      'half_open->open': 1,
      'half_open->closed': 1,
    });
  });

  it('counts nothing for an event that leaves the state unchanged, nor for the state at binding', async () => {
    const { telemetry, collect } = setup();
    const breaker = new FakeBreaker();
    breaker.opened = true;
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry);
    breaker.emit('open');
    breaker.emit('close'); // flags still say open
    expect(transitions(await collect(), 'openai')).toEqual({});
  });

  it('follows a real opossum breaker: closed → open → half_open → open → half_open → closed', async () => {
    const { telemetry, collect } = setup();
    let failing = true;
    const breaker = new CircuitBreaker(
      async () => {
        if (failing) throw new Error('down');
        return 'ok';
      },
      { errorThresholdPercentage: 1, volumeThreshold: 1, resetTimeout: 20, timeout: false },
    );
    try {
      bindCircuitBreakerMetrics(breaker, 'anthropic', telemetry);
      const halfOpen = () => new Promise<void>((resolve) => breaker.once('halfOpen', () => resolve()));
      let next = halfOpen();
      await expect(breaker.fire()).rejects.toThrow('down');
      await next;
      next = halfOpen();
      await expect(breaker.fire()).rejects.toThrow('down');
      await next;
      failing = false;
      await expect(breaker.fire()).resolves.toBe('ok');
      expect(transitions(await collect(), 'anthropic')).toEqual({
        'closed->open': 1,
        'open->half_open': 2,
        'half_open->open': 1,
        'half_open->closed': 1,
      });
    } finally {
      breaker.shutdown();
    }
  });
});

describe('circuit-breaker open time', () => {
  it('exports 0 from binding, so the first open interval is seen whole by rate()', async () => {
    const { telemetry, collect } = setup();
    bindCircuitBreakerMetrics(new FakeBreaker(), 'openai', telemetry, manualClock());
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(0);
  });

  it('adds up the open intervals and nothing while closed or half-open', async () => {
    const { telemetry, collect } = setup();
    const clock = manualClock();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry, clock);
    clock.advance(5_000); // closed
    breaker.trip();
    clock.advance(10_000); // open
    breaker.probe();
    clock.advance(2_000); // half-open
    breaker.trip();
    clock.advance(3_500); // open
    breaker.probe();
    breaker.reset();
    clock.advance(60_000); // closed
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(13.5);
  });

  it('includes the open interval so far at each collection while the breaker is still open', async () => {
    const { telemetry, collect } = setup();
    const clock = manualClock();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry, clock);
    breaker.trip();
    clock.advance(30_000);
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(30);
    clock.advance(15_000);
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(45);
    breaker.probe();
    clock.advance(15_000);
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(45);
  });

  it('counts time open from binding for a breaker bound while open', async () => {
    const { telemetry, collect } = setup();
    const clock = manualClock();
    const breaker = new FakeBreaker();
    breaker.opened = true;
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry, clock);
    clock.advance(4_000);
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(4);
  });

  it('is exact at collection in producer mode too (the metric producer path)', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const clock = manualClock();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry, clock);
    breaker.trip();
    clock.advance(7_250);
    const metric = telemetry.exportableMetrics().find((entry) => entry.name === OPEN_SECONDS);
    expect(metric?.cells.map((cell) => cell.value)).toEqual([7.25]);
  });

  it('stops counting, and detaches, on unbind', async () => {
    const { telemetry, collect } = setup();
    const clock = manualClock();
    const breaker = new FakeBreaker();
    const unbind = bindCircuitBreakerMetrics(breaker, 'openai', telemetry, clock);
    breaker.trip();
    clock.advance(2_000);
    unbind();
    clock.advance(50_000);
    expect((await collect()).value(OPEN_SECONDS, { provider: 'openai' })).toBe(2);
    for (const event of ['open', 'halfOpen', 'close', 'shutdown']) expect(breaker.listenerCount(event)).toBe(0);
  });
});

describe("opossum's shutdown event", () => {
  it('credits the open time so far, detaches the binding and removes the state series (shut down while open)', async () => {
    const { telemetry, collect } = setup();
    const clock = manualClock();
    const breaker = new CircuitBreaker(async () => 'ok', { resetTimeout: 60_000, timeout: false });
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry, clock);
    breaker.open();
    clock.advance(9_000);
    expect(telemetry.currentValue('circuitBreakerState', { provider: 'openai', state: 'open' })).toBe(1);
    breaker.shutdown();
    clock.advance(100_000);
    const collected = await collect();
    expect(collected.value(OPEN_SECONDS, { provider: 'openai' })).toBe(9);
    // No breaker, no state: GatewayzCircuitBreakerOpen must not go on firing for it.
    for (const state of ['closed', 'open', 'half_open'] as const)
      expect(telemetry.currentValue('circuitBreakerState', { provider: 'openai', state })).toBeUndefined();
    expect(transitions(collected, 'openai')).toEqual({ 'closed->open': 1 });
    // opossum removes every listener on shutdown; the binding's collection hook is gone too (above).
    expect(breaker.listenerCount('shutdown')).toBe(0);
  });

  it('with a CircuitBreakerLike that keeps its listeners, the binding removes its own', async () => {
    const { telemetry } = setup();
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', telemetry, manualClock());
    breaker.emit('shutdown');
    for (const event of ['open', 'halfOpen', 'close', 'shutdown']) expect(breaker.listenerCount(event)).toBe(0);
  });
});

describe('state series after a breaker goes away', () => {
  /** What the metric producer of startTelemetry() exports for the state gauge, by provider. */
  function states(telemetry: GatewayTelemetry): Record<string, string> {
    const found: Record<string, string> = {};
    const metric = telemetry.exportableMetrics().find((entry) => entry.name === 'gatewayz_circuit_breaker_state');
    for (const cell of metric?.cells ?? []) {
      const provider = String(cell.attributes.provider);
      found[provider] = (found[provider] ?? '') + (cell.value === 1 ? String(cell.attributes.state) : '');
    }
    return found;
  }

  it('unbinding removes the state series; the counters stay and go on after a new breaker is bound', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const clock = manualClock();
    const first = new FakeBreaker();
    const unbind = bindCircuitBreakerMetrics(first, 'openai', telemetry, clock);
    bindCircuitBreakerMetrics(new FakeBreaker(), 'anthropic', telemetry, clock);
    first.trip();
    clock.advance(3_000);
    expect(states(telemetry)).toEqual({ openai: 'open', anthropic: 'closed' });
    unbind();
    expect(states(telemetry)).toEqual({ anthropic: 'closed' });
    expect(telemetry.currentValue('circuitBreakerOpenSeconds', { provider: 'openai' })).toBe(3);
    expect(
      telemetry.currentValue('circuitBreakerTransitions', {
        provider: 'openai',
        from_state: 'closed',
        to_state: 'open',
      }),
    ).toBe(1);

    const second = new FakeBreaker();
    bindCircuitBreakerMetrics(second, 'openai', telemetry, clock);
    expect(states(telemetry)).toEqual({ openai: 'closed', anthropic: 'closed' });
    second.trip();
    clock.advance(2_000);
    telemetry.exportableMetrics();
    expect(telemetry.currentValue('circuitBreakerOpenSeconds', { provider: 'openai' })).toBe(5);
    expect(
      telemetry.currentValue('circuitBreakerTransitions', {
        provider: 'openai',
        from_state: 'closed',
        to_state: 'open',
      }),
    ).toBe(2);
  });

  it('a breaker replaced by a new one for the same provider, in either order, leaves the new one on the gauge', () => {
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const clock = manualClock();
    // Bind the new one, then shut the old one down.
    const old = new FakeBreaker();
    bindCircuitBreakerMetrics(old, 'openai', telemetry, clock);
    old.trip();
    const replacement = new FakeBreaker();
    bindCircuitBreakerMetrics(replacement, 'openai', telemetry, clock);
    old.trip(); // a late event of the old one
    expect(states(telemetry)).toEqual({ openai: 'open' });
    old.emit('shutdown');
    expect(states(telemetry)).toEqual({ openai: 'closed' });
    replacement.probe();
    expect(states(telemetry)).toEqual({ openai: 'half_open' });

    // The other order: the newer one goes first, the older one (still live) takes the gauge back.
    const newer = new FakeBreaker();
    const unbindNewer = bindCircuitBreakerMetrics(newer, 'openai', telemetry, clock);
    newer.trip();
    expect(states(telemetry)).toEqual({ openai: 'open' });
    unbindNewer();
    expect(states(telemetry)).toEqual({ openai: 'half_open' });
    replacement.emit('shutdown');
    expect(states(telemetry)).toEqual({});
  });

  it('keeps bindings of separate telemetry instances apart', () => {
    const one = new GatewayTelemetry({ exportVia: 'producer' });
    const two = new GatewayTelemetry({ exportVia: 'producer' });
    const breaker = new FakeBreaker();
    bindCircuitBreakerMetrics(breaker, 'openai', one);
    const unbindTwo = bindCircuitBreakerMetrics(new FakeBreaker(), 'openai', two);
    breaker.trip();
    unbindTwo();
    expect(states(one)).toEqual({ openai: 'open' });
    expect(states(two)).toEqual({});
  });
});
