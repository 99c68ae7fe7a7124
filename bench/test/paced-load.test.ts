import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { runtimeSeconds } from '../lib/paced-load.mjs';

const SCHEDSTAT = existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`);

/** A /proc with the threads of process 42 and their schedstat run times (ns); `gone` threads vanish after the listing. */
const proc = (threads: Record<string, number>, gone: string[] = []) => ({
  readdirSync: (path: string) => {
    if (path !== '/proc/42/task') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return [...Object.keys(threads), ...gone];
  },
  readFileSync: (path: string) => {
    const thread = /^\/proc\/42\/task\/(\d+)\/schedstat$/.exec(path)?.[1];
    if (thread === undefined || !(thread in threads)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return `${threads[thread]} 1000 10\n`;
  },
});

describe.runIf(SCHEDSTAT)('runtimeSeconds', () => {
  it("sums the threads' schedstat run times", () => {
    expect(runtimeSeconds(42, proc({ 42: 1_500_000_000, 43: 250_000_000 }))).toBeCloseTo(1.75, 9);
  });

  it('leaves out a thread that exits between the listing and its read, instead of switching to the tick clock', () => {
    expect(runtimeSeconds(42, proc({ 42: 1_500_000_000 }, ['44']))).toBeCloseTo(1.5, 9);
  });

  it('reads NaN for a process that is gone', () => {
    expect(runtimeSeconds(7, proc({}))).toBeNaN();
  });

  it('reads this process', () => {
    const before = runtimeSeconds(process.pid);
    const until = performance.now() + 5;
    while (performance.now() < until);
    expect(runtimeSeconds(process.pid) - before).toBeGreaterThan(0);
  });
});
