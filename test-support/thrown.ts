import { expect } from 'vitest';

/**
 * The error `run` throws, checked to be an instance of `type` (the class each test imports: the
 * source's in a package's own tests, the built one elsewhere); fails the test when `run` returns.
 */
export function thrown<E extends Error>(type: abstract new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}`);
}
