/**
 * What a `ForwardWallClock` does when its wall-time source reads less than its last reading:
 * `continue` goes on from the last reading at the pace of a monotonic clock (`performance.now()`),
 * so readings stay apart as much as real time; `hold` returns the last reading until the wall time
 * passes it, so a later reading is never before an earlier one and only the order counts.
 */
export type WallClockStepBackPolicy = 'continue' | 'hold';

/**
 * A wall clock that never goes back. Stepped back (NTP correcting it, a VM resumed), a wall clock
 * would stamp later events before earlier ones: end points before they start, or let an older call
 * win "the latest call wins". This one reads its source and follows it forward at once; when the
 * source goes back it applies its step-back policy until the source passes its last reading again.
 *
 * @example
 * ```ts
 * const clock = new ForwardWallClock(() => Date.now(), 'hold');
 * const first = clock.nowMs();
 * const second = clock.nowMs(); // >= first, whatever the wall clock did in between
 * ```
 */
export class ForwardWallClock {
  private lastMs = -Infinity;
  private lastMonotonicMs = 0;

  /**
   * @param readWallMs The wall time in milliseconds since the epoch, read at each `nowMs()`.
   * @param afterStepBack What a reading gives while `readWallMs` is behind the last reading.
   */
  constructor(
    private readonly readWallMs: () => number,
    private readonly afterStepBack: WallClockStepBackPolicy,
  ) {}

  /** Milliseconds since the epoch: the wall time, or more when it went back since an earlier reading. */
  nowMs(): number {
    let floorMs = this.lastMs;
    if (this.afterStepBack === 'continue') {
      const monotonicMs = performance.now();
      floorMs += monotonicMs - this.lastMonotonicMs;
      this.lastMonotonicMs = monotonicMs;
    }
    const wallMs = this.readWallMs();
    this.lastMs = wallMs > floorMs ? wallMs : floorMs;
    return this.lastMs;
  }
}
