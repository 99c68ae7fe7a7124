import { expect } from 'vitest';

/**
 * What `forceFlush()` rejected with, checked to be the one `AggregateError` `startTelemetry()`
 * reports failures with; fails the test when the flush resolved.
 */
export async function flushRejection(flushing: { forceFlush(): Promise<void> }): Promise<AggregateError> {
  const failure = await flushing.forceFlush().then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(AggregateError);
  return failure as AggregateError;
}

/** The messages of the errors a failed flush holds (one per signal or request that lost data), sorted. */
export async function flushFailures(flushing: { forceFlush(): Promise<void> }): Promise<string[]> {
  return (await flushRejection(flushing)).errors.map((error: Error) => error.message).sort();
}
