import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { isForcedCollection, liveHeapGrowth, markCompactHeapAfterMb } from '../lib/gc-trace.mjs';

const run = promisify(execFile);

describe('markCompactHeapAfterMb', () => {
  it('reads the heap after the mark-compacts that this Node prints with --trace-gc, and nothing from scavenges', async () => {
    // Enough live objects that the forced collection has something to keep, then two full GCs.
    const script =
      'const kept = []; for (let i = 0; i < 300000; i++) kept.push({ i }); gc(); gc(); console.log(kept.length);';
    const { stdout } = await run(process.execPath, ['--trace-gc', '--expose-gc', '-e', script]);
    const lines = stdout.split('\n');
    const readings = lines.map(markCompactHeapAfterMb).filter((value) => value !== undefined);
    expect(readings.length).toBeGreaterThanOrEqual(2);
    for (const value of readings) {
      // 300,000 small objects and an array of them stay live: several MB, well under 200.
      expect(value).toBeGreaterThan(5);
      expect(value).toBeLessThan(200);
    }
    const scavenges = lines.filter((line) => line.includes(' Scavenge '));
    expect(scavenges.length).toBeGreaterThan(0);
    for (const line of scavenges) expect(markCompactHeapAfterMb(line)).toBeUndefined();
  });

  it('reads the figure after the arrow, also from memory-reducing and newer-format lines, never from minor GCs', () => {
    expect(
      markCompactHeapAfterMb(
        '[4242:0x6a1c3c0]     7315 ms: Mark-Compact 38.6 (50.4) -> 18.6 (50.9) MB, 3.71 / 0.00 ms  (average mu = 0.994, current mu = 0.994) finalize incremental marking via task; GC in old space requested',
      ),
    ).toBe(18.6);
    expect(
      markCompactHeapAfterMb(
        '[1:0x1]  90 ms: Mark-Compact (reduce) 22.0 (40.1) -> 12.5 (30.0) MB, 5.0 / 0.0 ms  memory reducer',
      ),
    ).toBe(12.5);
    expect(
      markCompactHeapAfterMb(
        '[1:0x1]  49 ms: Mark-Compact 18.9 (33.4) -> 15.6 (32.3) MB, pooled: 0 MB, 7.69 / 0.00 ms  testing',
      ),
    ).toBe(15.6);
    expect(
      markCompactHeapAfterMb('[1:0x1]  12 ms: Minor Mark-Compact 4.0 (6.0) -> 3.0 (6.0) MB, 1.0 / 0.0 ms'),
    ).toBeUndefined();
    expect(markCompactHeapAfterMb('{"level":"info","msg":"Mark-Compact 1.0 (2.0) -> 0.5 (2.0) MB"}')).toBeUndefined();
  });
});

describe('liveHeapGrowth', () => {
  /** Mark-compacts every 1.5 s from `startMs`, with heap-after values from `heapAt(seconds)`. */
  const series = (startMs: number, seconds: number, heapAt: (atS: number, index: number) => number) =>
    Array.from({ length: Math.floor(seconds / 1.5) }, (_, index) => ({
      atMs: startMs + index * 1500,
      heapAfterMb: heapAt(index * 1.5, index),
    }));

  it('is flat for a steady live heap with the odd outlier, and leaves the warm-up out', () => {
    // Lower during warm-up; one mark-compact in ten lands while much is in flight.
    const markCompacts = series(1000, 120, (atS, index) => (atS < 25 ? 14 : index % 10 === 0 ? 23 : 19.8));
    const result = liveHeapGrowth(markCompacts, 1000, 121_000, 25_000);
    expect(result.earlyMb).toBeCloseTo(19.8, 5);
    expect(result.lateMb).toBeCloseTo(19.8, 5);
    expect(result.growth).toBeCloseTo(1, 5);
    expect(result.earlyCount).toBeGreaterThan(20);
    expect(result.lateCount).toBeGreaterThan(20);
  });

  it('reports growth when what stays live grows through the run', () => {
    // 20 MB live at the start, +0.1 MB per second: the last third's median is well above the first's.
    const markCompacts = series(0, 120, (atS) => 20 + 0.1 * atS);
    const result = liveHeapGrowth(markCompacts, 0, 120_000, 10_000);
    expect(result.growth).toBeGreaterThan(1.1);
    expect(result.lateMb).toBeGreaterThan(result.earlyMb);
  });

  it('compares halves when a third saw no mark-compact (a gateway that promotes little)', () => {
    // Stop 42's run: mark-compacts at 2.5 and 4.6 s (warm-up), 50.2 s (middle third) and 110.8 s.
    const markCompacts = [
      { atMs: 2_500, heapAfterMb: 18.7 },
      { atMs: 4_600, heapAfterMb: 20.2 },
      { atMs: 50_200, heapAfterMb: 19.9 },
      { atMs: 110_800, heapAfterMb: 20.1 },
    ];
    const result = liveHeapGrowth(markCompacts, 0, 120_000, 10_000);
    expect(result.windows).toBe('halves');
    expect([result.earlyMb, result.lateMb, result.earlyCount, result.lateCount]).toEqual([19.9, 20.1, 1, 1]);
    expect(result.growth).toBeCloseTo(20.1 / 19.9, 5);
    // Growth still shows through halves.
    const growing = liveHeapGrowth(
      [
        { atMs: 50_200, heapAfterMb: 20 },
        { atMs: 110_800, heapAfterMb: 30 },
      ],
      0,
      120_000,
      10_000,
    );
    expect(growing.growth).toBeCloseTo(1.5, 5);
  });

  it('uses thirds whenever both saw a mark-compact', () => {
    const markCompacts = series(0, 120, () => 20);
    expect(liveHeapGrowth(markCompacts, 0, 120_000, 10_000).windows).toBe('thirds');
  });

  it('gives no verdict when a half saw no mark-compact (a run too short for one)', () => {
    const result = liveHeapGrowth([{ atMs: 500, heapAfterMb: 18 }], 0, 3000, 0);
    expect(result.windows).toBe('halves');
    expect(result.earlyCount).toBe(1);
    expect(result.lateCount).toBe(0);
    expect(result.growth).toBeUndefined();
  });
});

describe('a full collection on SIGUSR2 (gc-on-signal.cjs, what section 8 starts its gateways with)', () => {
  it('runs a mark-compact when signalled, which isForcedCollection tells from the ones V8 chooses', async () => {
    const preload = fileURLToPath(new URL('../lib/gc-on-signal.cjs', import.meta.url));
    // Says it is ready, then lives 10 s unless killed first.
    const script = "console.log('ready'); setTimeout(() => {}, 10000);";
    const child = spawn(process.execPath, ['--trace-gc', '--expose-gc', '--require', preload, '-e', script]);
    let stdout = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('ready')) resolve();
      }),
    );
    await ready;
    const fullCollections = (): string[] =>
      stdout.split('\n').filter((line) => markCompactHeapAfterMb(line) !== undefined);
    const before = fullCollections().length;
    child.kill('SIGUSR2');
    while (fullCollections().length === before) await new Promise((resolve) => setTimeout(resolve, 20));
    // Still running: the signal asked for a collection and did not end the process.
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(fullCollections().filter(isForcedCollection)).toHaveLength(1);
  });

  it('reads "testing" as forced and V8\'s own reasons as not', () => {
    expect(
      isForcedCollection(
        '[22648:0x294f1eb0]       44 ms: Mark-Compact 3.1 (4.0) -> 2.6 (5.0) MB, 4.62 / 0.00 ms  (average mu = 1.000, current mu = 1.000) testing; GC in old space requested',
      ),
    ).toBe(true);
    expect(
      isForcedCollection(
        '[22648:0x294f1eb0]      200 ms: Mark-Compact 18.7 (32.4) -> 16.9 (33.7) MB, 4.97 / 0.00 ms  (+ 10.9 ms in 45 steps since start of marking, biggest step 5.1 ms, walltime since start of marking 33 ms) (average mu = 0.899, current mu = 0.899) finalize incremental marking via stack guard; GC in old space requested',
      ),
    ).toBe(false);
  });
});
