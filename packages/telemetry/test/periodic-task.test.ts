import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryConfigurationError } from '../src/index.js';
import { requireClockOption, requireTelemetryOption, startPeriodicTask, systemClock } from '../src/scheduling/index.js';
import { CollectingDiagLogger, deferred, ManualClock } from './helpers.js';

let logger: CollectingDiagLogger;
beforeEach(() => {
  logger = new CollectingDiagLogger().install();
});
afterEach(() => {
  CollectingDiagLogger.uninstall();
});

describe('startPeriodicTask', () => {
  it('reports a run that rejects or throws and runs again at the next interval', async () => {
    const clock = new ManualClock();
    const outcomes: Array<'reject' | 'throw' | 'ok'> = ['reject', 'throw', 'ok', 'reject', 'ok'];
    let runs = 0;
    const run = (): Promise<number> => {
      const outcome = outcomes[runs++];
      if (outcome === 'throw') throw new Error('health service unreachable (thrown)');
      return outcome === 'reject' ? Promise.reject(new Error('health service unreachable')) : Promise.resolve(runs);
    };
    const task = startPeriodicTask(run, { intervalMs: 1_000, clock, runImmediately: true });
    await clock.advance(0);
    expect(runs).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1_000);
    expect(runs).toBe(2);
    expect(clock.pendingTimers).toBe(1);
    // Two failures in a row: one warning.
    expect(logger.ownWarnings).toHaveLength(1);
    expect(logger.ownWarnings[0]).toContain('a periodic task failed (Error: health service unreachable)');
    await clock.advance(1_000);
    expect(runs).toBe(3);
    // A success ends the run of failures: the next failure is reported again.
    await clock.advance(1_000);
    expect(runs).toBe(4);
    expect(logger.ownWarnings).toHaveLength(2);
    await clock.advance(1_000);
    expect(runs).toBe(5);
    await task.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('never overlaps runs, and stop() waits for a run in flight even when it fails', async () => {
    const clock = new ManualClock();
    const pending = deferred<void>();
    let runs = 0;
    const task = startPeriodicTask(
      () => {
        runs++;
        return pending.promise;
      },
      { intervalMs: 1_000, clock, runImmediately: true },
    );
    await clock.advance(5_000);
    expect(runs).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await clock.advance(0);
    expect(stopped).toBe(false);
    pending.reject(new Error('late failure'));
    await stopping;
    expect(stopped).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(runs).toBe(1);
  });

  it('hands a failure of tick() to its caller', async () => {
    const clock = new ManualClock();
    const task = startPeriodicTask(() => Promise.reject(new Error('no')), {
      intervalMs: 1_000,
      clock,
      runImmediately: false,
    });
    await expect(task.tick()).rejects.toThrow('no');
    await task.stop();
  });
});

describe('the option checks of @gatewayz/telemetry/scheduling', () => {
  const rejection = (run: () => void): TelemetryConfigurationError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(TelemetryConfigurationError);
      return error as TelemetryConfigurationError;
    }
    throw new Error('expected a TelemetryConfigurationError');
  };

  it('requireClockOption checks for a TrackerClock when given no methods', () => {
    expect(() => requireClockOption(undefined, 'clock')).not.toThrow();
    expect(() => requireClockOption(systemClock, 'clock')).not.toThrow();
    expect(() => requireClockOption(new ManualClock(), 'clock')).not.toThrow();
    const missing = rejection(() => requireClockOption({ now: () => 0, clearTimeout: () => {} }, 'clock'));
    expect(missing.option).toBe('clock');
    expect(missing.message).toBe(
      'Invalid option "clock": expected a clock with now(), setTimeout(), clearTimeout() (and optionally monotonicNow()), got an object without setTimeout() as a function',
    );
    const monotonic = { ...systemClock, monotonicNow: 5 };
    expect(rejection(() => requireClockOption(monotonic, 'clock')).message).toContain('without monotonicNow()');
    expect(rejection(() => requireClockOption(null, 'clock')).message).toContain('got null');
  });

  it('requireTelemetryOption checks for the methods named, and points at the telemetry of a startTelemetry() handle', () => {
    const partial = { set: () => {}, add: () => {} };
    expect(() => requireTelemetryOption(partial, 'telemetry', ['set', 'add'])).not.toThrow();
    const lacking = rejection(() => requireTelemetryOption({ set: () => {} }, 'telemetry', ['set', 'add']));
    expect(lacking.message).toBe(
      'Invalid option "telemetry": expected an object with set(), add(), got an object without add()',
    );
    const handle = rejection(() => requireTelemetryOption({ telemetry: partial }, 'telemetry', ['set', 'add']));
    expect(handle.message).toContain('pass its `telemetry` property');
    expect(rejection(() => requireTelemetryOption(null, 'telemetry')).message).toContain('got null');
  });
});
