// Formatting helpers of the benchmark report (bench/lib/render.mjs and the renderers it calls).

// `|| 0` and the "-0" strip: a value that rounds to zero prints as 0, never as "-0".
export const int = (value) => (Number.isFinite(value) ? (Math.round(value) || 0).toLocaleString('en-US') : 'n/a');

/**
 * `value` with `digits` decimals, rounded to the nearest, or, with `rounding` 'down' or 'up', away
 * from it: an interval's bounds are rounded outward (see `ci`), so a shown bound is never on the
 * passing side of a target its value misses (0.8951 shows as 0.89, not 0.90, beside ≥ 0.90×).
 */
export function fixed(value, digits = 1, rounding = undefined) {
  if (!Number.isFinite(value)) return 'n/a';
  const scale = 10 ** digits;
  // toPrecision(12) first: 0.29 × 100 is 28.999999999999996, which must floor to 29, not 28.
  const scaled = Number((value * scale).toPrecision(12));
  const rounded =
    rounding === 'down' ? Math.floor(scaled) / scale : rounding === 'up' ? Math.ceil(scaled) / scale : value;
  const text = rounded.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}
export const nsText = (value) => (!Number.isFinite(value) ? 'n/a' : value < 100 ? value.toFixed(1) : int(value));
/** A tinybench-style row: label, ops/s, mean ns, ±rme, p50 ns and the p50 ratio to `baselineNs`. */
export const timingRow = (label, row, baselineNs) => [
  label,
  int(row.opsPerSec),
  nsText(row.ns.mean),
  `±${fixed(row.ns.rme, 1)} %`,
  nsText(row.ns.p50),
  times(row.ns.p50 / baselineNs),
];
export const times = (value, rounding) => (Number.isFinite(value) ? `${fixed(value, 2, rounding)}×` : 'n/a');
export const pct = (value, rounding) => (Number.isFinite(value) ? `${fixed(value * 100, 1, rounding)} %` : 'n/a');
export const verdict = (met) =>
  met === true ? '**met**' : met === false ? '**not met**' : met === 'inconclusive' ? '**inconclusive**' : 'n/a';
/** ` [95 % CI low … high]`, the bounds rounded outward: `format(value, rounding)` is called with 'down' and 'up'. */
export const ci = (range, format) =>
  Array.isArray(range) ? ` [95 % CI ${format(range[0], 'down')} … ${format(range[1], 'up')}]` : '';
/** A difference with its sign: +1.5, -0.8, +0.0 for anything that rounds to zero. */
export const signed = (value, digits = 1, rounding = undefined) => {
  const text = fixed(value, digits, rounding);
  return text === 'n/a' || text.startsWith('-') ? text : `+${text}`;
};
export const signedMs = (value, rounding) => `${signed(value, 2, rounding)} ms`;
/**
 * Bytes per call. Below 10 B the two decimals are rounded toward zero, so a figure judged against
 * the allocation section's `< 1 B` limit never reads on the other side of it (0.996 showed as
 * "1.00 B" beside "met"); from 10 B on, to the nearest byte.
 */
export const bytes = (value) => {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 10) return `${value.toFixed(0)} B`;
  return `${fixed(value, 2, value < 0 ? 'up' : 'down')} B`;
};

/**
 * "`node … examples/gateway/dist/main.js` processes (the example's `npm start` flags)": the command a
 * section started its gateways with, from the `npm start` node flags a result records as
 * `startFlags`, followed by `noun`. Results recorded before d080eb2 have none: those runs started the
 * gateways without flags, and the clause is left out.
 */
export const gatewayProcesses = (result, noun) => {
  const flags = result?.startFlags ?? [];
  const command = ['node', ...flags, 'examples/gateway/dist/main.js'].join(' ');
  return `\`${command}\` ${noun}${flags.length ? " (the example's `npm start` flags)" : ''}`;
};

/** A Markdown table; numeric columns are right-aligned unless `leftColumns` says otherwise. */
export function table(header, rows, leftColumns = 1) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((cell, index) => (index < leftColumns ? '---' : '---:'))),
    ...rows.map(line),
  ].join('\n');
}

/** The section process's CPU/wall note under a table, flagging a starved process. */
export function cpuNote(result, { waits = false } = {}) {
  const meta = result?._meta;
  if (!meta) return '';
  if (waits) return `_Load average during the section: ${meta.loadavg.map((value) => value.toFixed(2)).join(' / ')}._`;
  const share = meta.cpuShare;
  const starved =
    share < 0.85 ? ' — the process got less than a full core: wall-clock figures are inflated by other load' : '';
  return `_Section process: ${fixed(meta.wallS, 1)} s wall, ${fixed(meta.cpuS, 1)} s CPU (CPU/wall ${fixed(share, 2)}), load average ${meta.loadavg.map((value) => value.toFixed(2)).join(' / ')}${starved}._`;
}
