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
  /** Current time in milliseconds since the Unix epoch, as `Date.now()`. */
  now(): number;
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
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

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
  /** Stop scheduling; resolves once a run in flight has finished. */
  stop(this: void): Promise<void>;
}

/**
 * Run `run` every `intervalMs` measured from the end of one run to the start of the next, so runs
 * never overlap; `run` must not reject (background loops log and count their own failures).
 *
 * @example
 * ```ts
 * const task = startPeriodicTask(async () => poll().catch(logFailure), {
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

  const tick = (): Promise<T> => {
    if (inFlight !== undefined) return inFlight;
    inFlight = run().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const schedule = (delay: number): void => {
    if (stopped) return;
    timer = options.clock.setTimeout(() => {
      timer = undefined;
      void tick().then(() => schedule(options.intervalMs));
    }, delay);
  };

  schedule(options.runImmediately ? 0 : options.intervalMs);

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
      timer = undefined;
      if (inFlight !== undefined) await inFlight;
    },
  };
}
