/**
 * Requests whose recording is not finished yet: the handler of every request, and each stream until
 * its relay has reported how it ended. A request the drain deadline cut answers and records its
 * attempt (span, metrics, model health) once the cut reaches it (`whenCut`), while its connection
 * is still open; shutdown waits for that before it flushes the recorder and the telemetry.
 */
export class InFlightWork {
  private pending = 0;
  private readonly waiters = new Set<() => void>();
  private readonly cuts = new Set<() => void>();
  private deadlinePassed = false;

  /**
   * Say that shutdown's drain deadline has passed and cut the requests still running (`whenCut`):
   * they end because the server cut them, not because their clients left, and answer so before the
   * gateway closes their connections.
   */
  markCut(): void {
    this.deadlinePassed = true;
    const cuts = [...this.cuts];
    this.cuts.clear();
    for (const cut of cuts) cut();
  }

  /**
   * Call `cut` when shutdown's drain deadline passes (at once when it has); the returned function
   * unregisters it, for a request that ended first.
   */
  whenCut(cut: () => void): () => void {
    if (this.deadlinePassed) {
      cut();
      return () => {};
    }
    this.cuts.add(cut);
    return () => this.cuts.delete(cut);
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
