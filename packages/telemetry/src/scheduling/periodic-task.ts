import { diag } from '@opentelemetry/api';
import { monotonicNow } from './monotonic-now.js';

/**
 * Timer functions the background loops (provider health tracker, health-service poller,
 * model-health recorder) schedule with; inject one for deterministic tests. The default uses the
 * real timers, unref'd.
 *
 * @example
 * ```ts
 * const timers = new Map<number, () => void>(); // the test runs them when it wants
 * let nextId = 0;
 * const clock: TrackerClock = {
 *   now: () => Date.now(),
 *   setTimeout: (callback) => { timers.set(++nextId, callback); return nextId; },
 *   clearTimeout: (handle) => { timers.delete(handle as number); },
 * };
 * const tracker = startProviderHealthTracker({ source: store, clock, runImmediately: false });
 * ```
 */
export interface TrackerClock {
  /** Current time in milliseconds since the Unix epoch, as `Date.now()`: what is stored or shown. */
  now(): number;
  /**
   * Milliseconds on a clock a step of the wall clock does not move, for deadlines (`systemClock`:
   * `monotonicNow()`). A clock without it has its deadlines measured with `now()`, so a test's fake
   * clock that only moves `now()` still controls them.
   */
  monotonicNow?(): number;
  /** Call `callback` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancel a callback scheduled with `setTimeout` that has not run yet. */
  clearTimeout(handle: unknown): void;
}

/**
 * The longest delay a Node.js timer keeps (2^31 − 1 ms, about 24.8 days): a longer one fires after
 * 1 ms instead, so a loop given it would run continuously. Options of the background loops that
 * become a timer's delay are refused above it.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * The real timers, unref'd so a background loop never keeps the process alive.
 *
 * @example
 * ```ts
 * const tracker = startProviderHealthTracker({ source: store, clock: systemClock }); // the default
 * ```
 */
export const systemClock: TrackerClock = {
  now: () => Date.now(),
  monotonicNow,
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What `clock` measures a deadline with: its monotonic reading, or `now()` when it has none. */
export function deadlineClockNow(clock: TrackerClock): number {
  return clock.monotonicNow !== undefined ? clock.monotonicNow() : clock.now();
}

/**
 * A loop started by `startPeriodicTask`.
 *
 * @example
 * ```ts
 * const task: PeriodicTask<number> = startPeriodicTask(async () => countRows(), options);
 * const rows = await task.tick(); // run now (or join the run in flight)
 * await task.stop();
 * ```
 */
export interface PeriodicTask<T> {
  /** Run now, or join the run in flight; resolves with its result. */
  tick(this: void): Promise<T>;
  /** Stop scheduling; resolves once a run in flight has finished (never rejects, even if that run fails). */
  stop(this: void): Promise<void>;
}

/**
 * Run `run` every `intervalMs` measured from the end of one run to the start of the next, so runs
 * never overlap. A scheduled run that rejects (or throws) is reported with `diag.warn` and the loop
 * goes on at the next interval; a task that keeps failing warns once, at the first failure, and
 * again only after a run has succeeded, so a long outage does not flood the log. Loops that count
 * their own failures (the background loops of this package) catch them inside `run`. `tick()`
 * hands its result, or its failure, to its caller.
 *
 * @example
 * ```ts
 * const task = startPeriodicTask(async () => poll(), {
 *   intervalMs: 30_000,
 *   clock: systemClock,
 *   runImmediately: true,
 * });
 * process.once('SIGTERM', () => void task.stop());
 * ```
 */
export function startPeriodicTask<T>(
  run: () => Promise<T>,
  options: { intervalMs: number; clock: TrackerClock; runImmediately: boolean },
): PeriodicTask<T> {
  let stopped = false;
  let timer: unknown;
  let inFlight: Promise<T> | undefined;
  /** Whether the last scheduled run failed: its failure was reported, the ones after it are not. */
  let failing = false;

  const tick = (): Promise<T> => {
    if (inFlight !== undefined) return inFlight;
    // Called from an async function: a run that throws before returning its promise rejects too.
    const started = (async () => run())();
    inFlight = started.finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const runScheduled = async (): Promise<void> => {
    try {
      await tick();
      failing = false;
    } catch (error) {
      if (!failing)
        diag.warn(
          `@gatewayz/telemetry: a periodic task failed (${describe(error)}); it runs again in ${options.intervalMs} ms. Further failures are not logged until a run succeeds.`,
        );
      failing = true;
    }
    schedule(options.intervalMs);
  };

  const schedule = (delay: number): void => {
    if (stopped) return;
    timer = options.clock.setTimeout(() => {
      timer = undefined;
      void runScheduled();
    }, delay);
  };

  schedule(options.runImmediately ? 0 : options.intervalMs);

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
      timer = undefined;
      // The run's failure belongs to whoever started it (reported above for a scheduled run).
      if (inFlight !== undefined)
        await inFlight.then(
          () => undefined,
          () => undefined,
        );
    },
  };
}

/** A failure as a short message; never throws, whatever was thrown. */
function describe(error: unknown): string {
  try {
    return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 200);
  } catch {
    return 'an error that cannot be shown';
  }
}
