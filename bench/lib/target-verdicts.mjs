// Verdict rules shared by the report's renderers (bench/lib/render*.mjs): when a measured figure
// decides a target, and when it cannot (a figure the section could not measure, a measurement the
// section itself flagged, requests that failed).

/** Below this many bytes per call a helper allocates nothing: a real per-call allocation is at least a 12-16 byte heap object. */
export const NO_ALLOCATION_BYTES = 1;

/**
 * A point estimate against its target: `passes(value)`, or 'inconclusive' when the value is not a
 * number (a section's NaN is null in the raw JSON, and `null <= 100` is true).
 *
 * @example
 * judgePoint(131, (rss) => rss <= 100); // false
 * judgePoint(null, (rss) => rss <= 100); // 'inconclusive'
 */
export const judgePoint = (value, passes) => (Number.isFinite(value) ? passes(value) : 'inconclusive');

/**
 * The allocation verdict of one helper (`task`: its row of the allocation section): inconclusive
 * when a collection ran inside a measurement window (the section's `valid: false`: the difference
 * then holds what the collection freed), or when the figure is below −NO_ALLOCATION_BYTES (no call
 * frees memory: something else moved the heap).
 */
export function allocationVerdict(bytesPerCall, task) {
  if (task?.valid === false || bytesPerCall < -NO_ALLOCATION_BYTES) return 'inconclusive';
  return judgePoint(bytesPerCall, (value) => value < NO_ALLOCATION_BYTES);
}

/**
 * Requests of section 3's A (off) and B (on) in one mode's summary that got no 2xx answer: per
 * gateway where recorded, else the four gateways' together (older raw results).
 */
export const gatewayFailures = (summary) =>
  summary.failuresByGateway ? summary.failuresByGateway.off + summary.failuresByGateway.on : (summary.failures ?? 0);

/** Section 3's verdict on B against A: inconclusive once either saw a failed request (they did not serve the same work). */
export const gatewayVerdict = (summary, met) => (gatewayFailures(summary) > 0 ? 'inconclusive' : met);
