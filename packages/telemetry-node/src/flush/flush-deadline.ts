/**
 * The flushes and shutdowns of one signal running now, for the exports they wait for. A flush waits
 * for the exports in flight when it began, then sends what was waiting: given a full timeout of its
 * own, an export that starts during the flush let the flush last up to twice the export timeout (an
 * export begun just before it ran out its deadline, then the flush's own ran out another). Counted
 * from the latest flush running, a timeout ends every export at the latest one timeout after that
 * flush began: those in flight then end earlier anyway, and those that start later get what is left.
 *
 * The processor (or reader) calls `begin()` when its flush or shutdown begins and the function it
 * returns when it ends; the transport and the processor's own export timers ask `remaining()`.
 *
 * @example
 * ```ts
 * const flushDeadline = new FlushDeadline();
 * const transport = createRetryingTransport(createOtlpHttpTransport(options), httpRetryDelay, { flushDeadline });
 * const end = flushDeadline.begin();
 * try {
 *   await processor.forceFlush();
 * } finally {
 *   end();
 * }
 * ```
 */
export class FlushDeadline {
  /** When each flush running now began, by the clock `now`. */
  private readonly starts: number[] = [];

  /** `now` is the clock of `remaining()`; default `performance.now()`, which a wall-clock step does not move. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A flush or shutdown begins now; call the function returned when it has ended (a second call does nothing). */
  begin(): () => void {
    const start = this.now();
    this.starts.push(start);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.starts.splice(this.starts.indexOf(start), 1);
    };
  }

  /** Whether a flush or shutdown is running now. */
  get running(): boolean {
    return this.starts.length > 0;
  }

  /**
   * The time an export of `timeoutMillis` starting now may take: all of it, or while a flush runs
   * what is left of it counted from the flush's start (0 once that has passed).
   */
  remaining(timeoutMillis: number): number {
    if (this.starts.length === 0) return timeoutMillis;
    // The latest flush's start: a shutdown called while an earlier flush waits on a hung request
    // gets its own whole timeout (counted from the earliest, it got the crumbs of that flush and
    // dropped what the collector would have taken). The earlier flush, if it waits for these
    // exports too, may then end later than its own timeout, by the time between the two calls.
    const flushEnd = Math.max(...this.starts) + timeoutMillis;
    return Math.max(Math.min(timeoutMillis, flushEnd - this.now()), 0);
  }

  /** Run `flush` as one flush: exports starting meanwhile are bounded by its start. */
  async during<T>(flush: () => Promise<T>): Promise<T> {
    const end = this.begin();
    try {
      return await flush();
    } finally {
      end();
    }
  }
}
