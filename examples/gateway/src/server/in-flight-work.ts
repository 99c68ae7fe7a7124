/**
 * Requests whose recording is not finished yet: the handler of every request, and each stream until
 * its relay has reported how it ended. A request the drain deadline cut still records its attempt
 * (span, metrics, model health) once the abort reaches it, a few milliseconds after its connection
 * closed; shutdown waits for that before it flushes the recorder and the telemetry.
 */
export class InFlightWork {
  private pending = 0;
  private readonly waiters = new Set<() => void>();
  private deadlinePassed = false;

  /**
   * Say that shutdown's drain deadline has passed: the connections still open are about to be
   * closed by the gateway, so the requests on them end because the server cut them, not because
   * their clients left.
   */
  markCut(): void {
    this.deadlinePassed = true;
  }

  /** Whether shutdown's drain deadline has passed (see `markCut`). */
  get cut(): boolean {
    return this.deadlinePassed;
  }

  /** Count one piece of work; call the returned function (any number of times) when it is done. */
  begin(): () => void {
    this.pending++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.pending--;
      if (this.pending === 0) for (const wake of [...this.waiters]) wake();
    };
  }

  /** How many pieces of work are running. */
  get size(): number {
    return this.pending;
  }

  /** Resolves true once nothing is running, or false after `timeoutMs` with work still running. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.add(wake);
    });
  }
}
