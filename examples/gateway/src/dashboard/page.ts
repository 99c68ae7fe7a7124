import { createHash } from 'node:crypto';
import { MODEL_CALL_STATUSES } from '@gatewayz/telemetry';
import { dashboardApi } from './client-api.js';
import { dashboardRender } from './client-render.js';
import { dashboardView } from './client-view.js';
import { dashboardClient, type DashboardClientConfig } from './client.js';
import { DASHBOARD_CSS } from './styles.js';
import { DEFAULT_HEALTH_THRESHOLDS, describeThresholds, type HealthThresholds } from './thresholds.js';

export interface DashboardPageOptions {
  /** Auto-refresh period. Default 10 000 ms. */
  refreshIntervalMs?: number;
  /** Health badge thresholds. Default {@link DEFAULT_HEALTH_THRESHOLDS}. */
  thresholds?: HealthThresholds;
  /** Default `error_threshold` of the unhealthy-model banner (0-1). Default 0.2. */
  errorThreshold?: number;
}

export interface DashboardPage {
  html: string;
  /** The Content-Security-Policy the page was written for (hashes of its inline script and style). */
  contentSecurityPolicy: string;
}

const PAGE_SIZES = [5, 10, 25, 50, 100] as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Serialise the browser code (the client and the parts it is handed) and its settings into one inline script. */
function inlineScript(config: DashboardClientConfig): string {
  // JSON inside <script>: escape "<" so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  // Some toolchains (esbuild keepNames) wrap functions in `__name(...)`; give the page a no-op.
  const parts = `{ view: ${dashboardView.toString()}, api: ${dashboardApi.toString()}, render: ${dashboardRender.toString()} }`;
  return `"use strict";\nvar __name = function (target) { return target; };\n(${dashboardClient.toString()})(${json}, ${parts});\n`;
}

function kpi(name: string, label: string, tone = ''): string {
  return (
    `<div class="kpi${tone ? ` kpi--${tone}` : ''}" data-kpi="${name}">` +
    `<dt>${escapeHtml(label)}</dt><dd class="kpi__value">—</dd><dd class="kpi__note">&nbsp;</dd></div>`
  );
}

/** The dashboard page: HTML with its stylesheet and script inline, and the matching CSP. */
export function renderDashboardPage(options: DashboardPageOptions = {}): DashboardPage {
  const refreshIntervalMs = options.refreshIntervalMs ?? 10_000;
  if (!Number.isFinite(refreshIntervalMs) || refreshIntervalMs < 250)
    throw new RangeError('refreshIntervalMs must be at least 250');
  const errorThreshold = options.errorThreshold ?? 0.2;
  if (!(errorThreshold >= 0 && errorThreshold <= 1)) throw new RangeError('errorThreshold must be from 0 to 1');
  const thresholds = options.thresholds ?? DEFAULT_HEALTH_THRESHOLDS;
  const config: DashboardClientConfig = {
    thresholds,
    statuses: [...MODEL_CALL_STATUSES],
    pageSizes: [...PAGE_SIZES],
    defaultPageSize: 25,
    defaultErrorThreshold: errorThreshold,
    refreshIntervalMs,
    tokenStorageKey: 'gatewayz.dashboard.token',
  };
  const script = inlineScript(config);
  if (/<\/script|<!--/i.test(script))
    throw new Error('dashboard: the inline script must not contain "</script" or "<!--"');
  const css = DASHBOARD_CSS;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Model health · GatewayZ example gateway</title>
<link rel="icon" href="data:,">
<style>${css}</style>
</head>
<body data-state="loading">
<header class="top">
  <div class="top__title">
    <h1>Model health</h1>
    <p><span id="updated" aria-live="polite">Loading…</span> · <span id="refresh-state"></span></p>
  </div>
  <div class="controls">
    <button type="button" id="refresh">Refresh now</button>
    <button type="button" id="pause" aria-pressed="false">Pause auto-refresh</button>
    <form id="token-form" autocomplete="off">
      <label for="token">API token</label>
      <input type="password" id="token" name="token" spellcheck="false" autocomplete="off" aria-describedby="token-state">
      <button type="submit">Save</button>
      <button type="button" id="token-clear">Clear</button>
      <span id="token-state" class="muted"></span>
    </form>
  </div>
</header>
<main>
  <noscript><p class="message message--error">This dashboard needs JavaScript: it reads the gateway's JSON API from the browser.</p></noscript>
  <div id="auth-message" class="message message--auth" role="alert" hidden></div>
  <div id="load-error" class="message message--error" role="status" hidden></div>
  <section id="alert-banner" class="banner" aria-labelledby="alert-title" hidden>
    <h2 id="alert-title">Unhealthy models</h2>
    <ul id="alert-list"></ul>
  </section>

  <section aria-labelledby="kpi-title">
    <h2 id="kpi-title" class="visually-hidden">Key figures</h2>
    <dl class="kpis">
      ${kpi('models', 'Models tracked')}
      ${kpi('calls', 'Calls recorded')}
      ${kpi('success-rate', 'Overall success rate')}
      ${kpi('avg-latency', 'Average response time')}
      ${kpi('providers-healthy', 'Providers healthy', 'healthy')}
      ${kpi('providers-degraded', 'Providers degraded', 'degraded')}
      ${kpi('providers-unavailable', 'Providers unavailable', 'unavailable')}
    </dl>
  </section>

  <section class="panel" aria-labelledby="models-title">
    <h2 id="models-title">Models</h2>
    <form class="filters" id="filters" role="search" aria-label="Filter models">
      <div class="field"><label for="filter-provider">Provider</label><select id="filter-provider"><option value="">All providers</option></select></div>
      <div class="field"><label for="filter-status">Last call status</label><select id="filter-status"></select></div>
      <div class="field"><label for="page-size">Page size</label><select id="page-size"></select></div>
      <div class="field"><label for="error-threshold">Alert at error rate ≥ (0–1)</label><input type="number" id="error-threshold" min="0" max="1" step="0.05" inputmode="decimal"></div>
      <button type="button" id="filters-reset">Clear filters</button>
    </form>
    <p class="muted sort-note" id="sort-note" aria-hidden="true"></p>
    <div class="table-scroll" id="model-table-scroll" role="region" aria-label="Model table" tabindex="0">
      <table id="model-table">
        <caption id="model-caption" class="visually-hidden">Model health</caption>
        <thead><tr id="model-head"></tr></thead>
        <tbody id="model-rows"><tr class="empty"><td colspan="10">Loading…</td></tr></tbody>
      </table>
    </div>
    <nav class="pagination" aria-label="Model table pages">
      <span id="page-info" aria-live="polite"></span>
      <span class="pagination__buttons">
        <button type="button" id="page-prev" disabled>‹ Previous</button>
        <button type="button" id="page-next" disabled>Next ›</button>
      </span>
    </nav>
  </section>

  <section class="panel" aria-labelledby="providers-title">
    <h2 id="providers-title">Provider comparison</h2>
    <div class="charts">
      <figure><figcaption>Success rate</figcaption><div id="chart-success"></div></figure>
      <figure><figcaption>Average response time</figcaption><div id="chart-latency"></div></figure>
      <figure><figcaption>Cost (USD)</figcaption><div id="chart-cost"></div></figure>
    </div>
    <div class="table-scroll" role="region" aria-label="Provider table" tabindex="0">
      <table id="provider-table">
        <thead><tr>
          <th scope="col">Provider</th><th scope="col" class="num">Models</th><th scope="col" class="num">Calls</th>
          <th scope="col" class="num">Success rate</th><th scope="col" class="num">Avg latency</th><th scope="col" class="num">Cost</th>
        </tr></thead>
        <tbody id="provider-rows"><tr class="empty"><td colspan="6">Loading…</td></tr></tbody>
      </table>
    </div>
    <p class="muted" id="cost-note"></p>
  </section>
</main>
<footer>
  <p><strong>Health badges</strong> (from each model's error rate and average response time): ${escapeHtml(describeThresholds(thresholds))}</p>
  <p><strong>Table</strong>: filters and pagination are applied by the API (<code>limit</code>/<code>offset</code>, ordered by provider then model); clicking a column header sorts the rows of the current page.</p>
  <p><strong>Alert banner</strong>: models whose error rate is at least the chosen threshold (<code>/v1/model-health/unhealthy?error_threshold=</code>). <strong>Provider health</strong> (healthy / degraded / unavailable): the provider health tracker, via <code>/prometheus/metrics/summary</code>.</p>
  <p>Data: <code>/v1/model-health/*</code>, <code>/prometheus/metrics/summary</code> and <code>/prometheus/metrics/business</code>, refreshed every ${refreshIntervalMs / 1000} s. A bearer token, if entered, is kept in this tab's session storage only.</p>
</footer>
<script>${script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(css)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
