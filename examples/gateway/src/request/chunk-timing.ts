import type { AttemptCompletion } from './attempt.js';

/**
 * The chunk timing of one streamed attempt, for `gen_ai.client.operation.time_to_first_chunk` and
 * `gen_ai.client.operation.time_per_output_chunk`: seconds from the attempt's start to the first
 * chunk received, then, for each chunk after it, seconds since the one before. With `jsonAnswer`
 * (a JSON answer served as a stream, json-answer-stream.ts) the chunks were made by the gateway
 * from the whole answer at once: the first is when the answer arrived, and the times between them
 * say nothing of the provider, so there are none, as for a call that was not streamed.
 *
 * @example
 * ```ts
 * const timing = new ChunkTiming(attemptStartedAt, false);
 * timing.received(performance.now()); // as each chunk arrives
 * timing.addTo(completion); // timeToFirstChunkSeconds and timesPerOutputChunkSeconds, once a chunk came
 * ```
 */
export class ChunkTiming {
  private timeToFirstChunkSeconds: number | undefined;
  private lastChunkAt: number | undefined;
  private readonly timesPerOutputChunkSeconds: number[] = [];

  constructor(
    private readonly attemptStartedAt: number,
    private readonly jsonAnswer: boolean,
  ) {}

  /** A chunk received at `at` (`performance.now()`). */
  received(at: number): void {
    if (this.lastChunkAt === undefined) this.timeToFirstChunkSeconds = (at - this.attemptStartedAt) / 1000;
    else if (!this.jsonAnswer) this.timesPerOutputChunkSeconds.push((at - this.lastChunkAt) / 1000);
    this.lastChunkAt = at;
  }

  /** Put the timing on `completion`: nothing when no chunk came. */
  addTo(completion: AttemptCompletion): void {
    if (this.timeToFirstChunkSeconds === undefined) return;
    completion.timeToFirstChunkSeconds = this.timeToFirstChunkSeconds;
    if (!this.jsonAnswer) completion.timesPerOutputChunkSeconds = this.timesPerOutputChunkSeconds;
  }
}
