import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPeriodicTask } from '../src/scheduling/index.js';
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
