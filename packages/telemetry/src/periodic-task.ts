/** Timer functions background loops schedule with; inject one for deterministic tests. */
export interface TrackerClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real timers, unref'd so a background loop never keeps the process alive. */
export const systemClock: TrackerClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface PeriodicTask<T> {
  /** Run now, or join the run in flight; resolves with its result. */
  tick(this: void): Promise<T>;
  /** Stop scheduling; resolves once a run in flight has finished. */
  stop(this: void): Promise<void>;
}

/**
 * Run `run` every `intervalMs` measured from the end of one run to the start of the next, so runs
 * never overlap; `run` must not reject (background loops log and count their own failures).
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
