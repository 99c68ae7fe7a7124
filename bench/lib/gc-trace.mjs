// Reading the live heap of a Node process from its `--trace-gc` output (bench section 8, memory).
import { quantile } from './common.mjs';

/**
 * The heap in use after a full collection, from a `--trace-gc` line such as
 * `[4242:0x6a1c3c0]  7315 ms: Mark-Compact 38.6 (50.4) -> 18.6 (50.9) MB, 3.71 / 0.00 ms ...`;
 * undefined for scavenges and anything else.
 */
export function markCompactHeapAfterMb(line) {
  // " ms: " in front leaves out the young generation's "Minor Mark-Compact"/"Minor Mark-Sweep".
  const match = / ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/.exec(line);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Whether a `--trace-gc` line is a collection the process asked for itself (`gc()` with
 * `--expose-gc`: "testing; GC in old space requested"), not one V8 chose.
 */
export function isForcedCollection(line) {
  return / testing[;,]/.test(line);
}

/**
 * Whether the live heap grew over a saturated run: the median heap after the mark-compacts of the
 * run's last third against that of its first third (the first `warmupMs` left out). Old-space
 * saw-tooths between mark-compacts, so readings taken at arbitrary moments do not show what stays
 * live; the heap right after a full collection does. A gateway that promotes little runs a
 * mark-compact only every minute or so, and then a third may see none: its second half is then
 * compared with its first (`windows: 'halves'`). Undefined when a half saw none either. Section 8
 * asks for a full collection in the middle of the first and of the last third, so neither happens
 * there; the rule stays for results recorded before.
 */
export function liveHeapGrowth(markCompacts, startMs, endMs, warmupMs) {
  const from = startMs + warmupMs;
  const median = (values) => {
    if (values.length === 0) return undefined;
    return quantile(
      [...values].sort((a, b) => a - b),
      0.5,
    );
  };
  const within = (low, high) =>
    markCompacts.filter((entry) => entry.atMs >= low && entry.atMs < high).map((entry) => entry.heapAfterMb);
  const compare = (windows, length) => {
    const early = within(from, from + length);
    const late = within(endMs - length, endMs);
    const earlyMb = median(early);
    const lateMb = median(late);
    return {
      windows,
      earlyMb,
      lateMb,
      earlyCount: early.length,
      lateCount: late.length,
      growth: earlyMb === undefined || lateMb === undefined ? undefined : lateMb / earlyMb,
    };
  };
  const thirds = compare('thirds', (endMs - from) / 3);
  return thirds.growth !== undefined ? thirds : compare('halves', (endMs - from) / 2);
}
