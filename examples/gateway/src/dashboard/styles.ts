/** The dashboard's stylesheet, inlined into the page (its hash goes into the CSP). */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f4f6f9; --panel: #ffffff; --text: #16202c; --muted: #4a5565; --border: #d5dbe3; --accent: #1f5fbf;
  --ok-fg: #0b6630; --ok-bg: #e2f4e8; --warn-fg: #7a4a00; --warn-bg: #fff1d1; --bad-fg: #a3141c; --bad-bg: #fde6e7;
  --track: #e6eaf0; --bar-success: #1f8a4c; --bar-latency: #1f5fbf; --bar-cost: #8a4fbf; --focus: #f0a500;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11161d; --panel: #1a212b; --text: #e8edf3; --muted: #a9b4c2; --border: #334050; --accent: #7fb0ff;
    --ok-fg: #8ee0a8; --ok-bg: #12351f; --warn-fg: #ffd27a; --warn-bg: #3d2c08; --bad-fg: #ffaaae; --bad-bg: #4a1519;
    --track: #2a3441; --bar-success: #47c27a; --bar-latency: #6fa3ff; --bar-cost: #c291f0;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main, header.top, footer { max-width: 1280px; margin: 0 auto; padding: 0 16px; }
h1 { font-size: 1.45rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 0 0 12px; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }

header.top { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; justify-content: space-between; padding-top: 18px; padding-bottom: 12px; }
.top__title p { margin: 2px 0 0; color: var(--muted); font-size: .9rem; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; }
.controls form { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
button, select, input { font: inherit; color: inherit; }
button { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 5px 12px; cursor: pointer; min-height: 34px; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .55; cursor: not-allowed; }
button[aria-pressed="true"] { background: var(--warn-bg); color: var(--warn-fg); border-color: var(--warn-fg); }
select, input { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 5px 8px; min-height: 34px; max-width: 100%; }
input[aria-invalid="true"] { border-color: var(--bad-fg); }
label { font-size: .85rem; color: var(--muted); }
.field { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.muted { color: var(--muted); font-size: .85rem; }

.message { border-radius: 8px; padding: 10px 14px; margin: 0 0 12px; border: 1px solid; }
.message--auth { background: var(--warn-bg); color: var(--warn-fg); border-color: var(--warn-fg); font-weight: 600; }
.message--error { background: var(--panel); color: var(--bad-fg); border-color: var(--border); }
.banner { background: var(--bad-bg); color: var(--bad-fg); border: 1px solid var(--bad-fg); border-left-width: 6px; border-radius: 8px; padding: 10px 14px; margin: 0 0 16px; }
.banner h2 { font-size: 1rem; margin: 0 0 4px; }
.banner ul { margin: 0; padding-left: 20px; }
.banner li { overflow-wrap: anywhere; }
.alert__detail { font-weight: normal; opacity: .9; }

.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 16px; margin: 0 0 16px; min-width: 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 0 0 16px; }
.kpi { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 12px 14px; margin: 0; min-width: 0; }
.kpi dt { font-size: .85rem; color: var(--muted); }
.kpi__value { font-size: 1.6rem; font-weight: 650; margin: 2px 0 0; font-variant-numeric: tabular-nums; }
.kpi__note { margin: 0; font-size: .8rem; color: var(--muted); }
.kpi--healthy .kpi__value { color: var(--ok-fg); }
.kpi--degraded .kpi__value { color: var(--warn-fg); }
.kpi--unavailable .kpi__value { color: var(--bad-fg); }

.sort-note { margin: 0 0 6px; }
.filters { display: flex; flex-wrap: wrap; gap: 10px 14px; align-items: flex-end; margin: 0 0 12px; }
.table-scroll { overflow-x: auto; max-width: 100%; border: 1px solid var(--border); border-radius: 8px; }
.table-scroll:focus-visible { outline: 3px solid var(--focus); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 10px; border-top: 1px solid var(--border); text-align: left; white-space: nowrap; }
thead th { border-top: 0; background: var(--bg); font-size: .85rem; white-space: normal; vertical-align: bottom; }
tbody th { font-weight: 600; }
.num { text-align: right; }
.sort { border: 0; background: transparent; padding: 2px 0; min-height: 0; font-weight: 650; display: inline-flex; gap: 4px; align-items: center; color: var(--text); text-align: inherit; }
.num .sort { flex-direction: row-reverse; }
.sort__icon { color: var(--muted); font-size: .75rem; }
th[aria-sort] .sort__icon { color: var(--accent); }
tr.empty td { text-align: center; color: var(--muted); padding: 18px; white-space: normal; }

.badge { display: inline-flex; align-items: center; gap: 5px; border-radius: 999px; padding: 1px 9px; font-size: .8rem; font-weight: 650; border: 1px solid; }
.badge--healthy { color: var(--ok-fg); background: var(--ok-bg); }
.badge--degraded { color: var(--warn-fg); background: var(--warn-bg); }
.badge--unhealthy { color: var(--bad-fg); background: var(--bad-bg); }
.badge__icon { font-size: .7rem; }
.status--failed { color: var(--bad-fg); font-weight: 600; }

.pagination { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; justify-content: space-between; margin-top: 10px; }
.pagination__buttons { display: flex; gap: 8px; }

.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; margin: 0 0 16px; }
.charts figure { margin: 0; min-width: 0; }
.charts figcaption { font-weight: 650; font-size: .9rem; margin: 0 0 6px; }
.chart { display: block; max-width: 420px; height: auto; }
.chart text { font-size: 12px; fill: var(--text); }
.chart .chart__value { fill: var(--muted); }
.chart__track { fill: var(--track); }
.chart--success .chart__bar { fill: var(--bar-success); }
.chart--latency .chart__bar { fill: var(--bar-latency); }
.chart--cost .chart__bar { fill: var(--bar-cost); }

footer { color: var(--muted); font-size: .85rem; padding-bottom: 32px; }
footer p { margin: 4px 0; }
footer code { font-size: .8rem; overflow-wrap: anywhere; }

@media (max-width: 600px) {
  body { font-size: 14px; }
  main, header.top, footer { padding: 0 10px; }
  header.top { padding-top: 12px; }
  .panel { padding: 12px; }
  .kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
  .kpi__value { font-size: 1.3rem; }
  .filters .field { flex: 1 1 140px; }
  .filters select, .filters input { width: 100%; }
  .controls form input { width: 150px; }
}
`;
