import type { HealthThresholds } from './thresholds.js';

/** Settings the server bakes into the page (JSON). */
export interface DashboardClientConfig {
  thresholds: HealthThresholds;
  /** Values of the API's `status` filter (the model's last call status). */
  statuses: readonly string[];
  pageSizes: readonly number[];
  defaultPageSize: number;
  /** Default `error_threshold` of the unhealthy-model banner. */
  defaultErrorThreshold: number;
  refreshIntervalMs: number;
  /** sessionStorage key of the bearer token. */
  tokenStorageKey: string;
}

/**
 * The dashboard's browser code. The page embeds it with `Function.prototype.toString`, so the
 * function must stay self-contained: no imports and no references to anything declared outside it
 * (type annotations are fine, they are erased). It only ever writes text into the DOM
 * (`textContent`, attributes), never HTML, and the page's CSP enforces that with Trusted Types.
 */
export function dashboardClient(config: DashboardClientConfig): void {
  type Health = 'healthy' | 'degraded' | 'unhealthy';

  interface ModelItem {
    provider: string;
    model: string;
    call_count: number;
    success_count: number;
    error_count: number;
    success_rate: number;
    error_rate: number;
    last_response_time_ms: number | null;
    avg_response_time_ms: number | null;
    last_status: string;
    last_error_message: string | null;
    last_called_at: string;
  }
  interface ModelPage {
    items: ModelItem[];
    total: number;
    limit: number;
    offset: number;
  }
  interface ProviderItem {
    provider: string;
    total_models: number;
    total_calls: number;
    success_rate: number;
    error_rate: number;
    avg_response_time_ms: number | null;
  }
  interface Stats {
    total_models: number;
    total_providers: number;
    total_calls: number;
    success_rate: number;
    avg_response_time_ms: number | null;
  }
  interface Summary {
    metrics?: {
      providers?: {
        total_providers: number;
        healthy_providers: number;
        degraded_providers: number;
        unavailable_providers: number;
      };
    };
  }
  interface Column {
    key: string;
    label: string;
    numeric: boolean;
    sortValue(item: ModelItem): number | string | null;
    cell(item: ModelItem): Node | string;
  }
  type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

  const HEALTH_RANK: Record<Health, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
  const HEALTH_LABEL: Record<Health, string> = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy' };
  const HEALTH_ICON: Record<Health, string> = { healthy: '●', degraded: '▲', unhealthy: '✖' };
  const t = config.thresholds;

  // ---------------------------------------------------------------------------------------------
  // Formatting
  // ---------------------------------------------------------------------------------------------
  const integer = (value: number): string => Math.round(value).toLocaleString('en-US');
  const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
  const milliseconds = (ms: number | null | undefined): string => {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
    return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
  };
  const usd = (value: number | undefined): string => {
    if (value === undefined || !Number.isFinite(value)) return '—';
    if (value === 0) return '$0';
    if (value >= 1) return `$${value.toFixed(2)}`;
    return `$${value.toPrecision(3)}`;
  };
  const clock = (date: Date): string => date.toLocaleTimeString('en-GB', { hour12: false });

  function healthOf(item: ModelItem): Health {
    const latency = item.avg_response_time_ms ?? 0;
    if (item.error_rate >= t.unhealthyErrorRate || latency >= t.unhealthyLatencyMs) return 'unhealthy';
    if (item.error_rate >= t.degradedErrorRate || latency >= t.degradedLatencyMs) return 'degraded';
    return 'healthy';
  }

  // ---------------------------------------------------------------------------------------------
  // DOM helpers (text only)
  // ---------------------------------------------------------------------------------------------
  function byId<T extends HTMLElement>(id: string): T {
    const found = document.getElementById(id);
    if (found === null) throw new Error(`dashboard: missing #${id}`);
    return found as T;
  }
  function el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attributes: Record<string, string> = {},
    ...children: Array<Node | string>
  ): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag: string, attributes: Record<string, string | number> = {}, text?: string): SVGElement {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function badge(health: Health): HTMLElement {
    return el(
      'span',
      { class: `badge badge--${health}`, 'data-health': health },
      el('span', { 'aria-hidden': 'true', class: 'badge__icon' }, HEALTH_ICON[health]),
      HEALTH_LABEL[health],
    );
  }
  function timeCell(iso: string): HTMLElement {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return el('span', {}, '—');
    return el('time', { datetime: iso, title: date.toLocaleString() }, clock(date));
  }

  // ---------------------------------------------------------------------------------------------
  // State (mirrored in the address bar, so a filtered view can be bookmarked)
  // ---------------------------------------------------------------------------------------------
  const columns: Column[] = [
    {
      key: 'health',
      label: 'Health',
      numeric: false,
      sortValue: (m) => HEALTH_RANK[healthOf(m)],
      cell: (m) => badge(healthOf(m)),
    },
    { key: 'provider', label: 'Provider', numeric: false, sortValue: (m) => m.provider, cell: (m) => m.provider },
    { key: 'model', label: 'Model', numeric: false, sortValue: (m) => m.model, cell: (m) => m.model },
    {
      key: 'call_count',
      label: 'Calls',
      numeric: true,
      sortValue: (m) => m.call_count,
      cell: (m) => integer(m.call_count),
    },
    {
      key: 'error_count',
      label: 'Errors',
      numeric: true,
      sortValue: (m) => m.error_count,
      cell: (m) => integer(m.error_count),
    },
    {
      key: 'success_rate',
      label: 'Success rate',
      numeric: true,
      sortValue: (m) => m.success_rate,
      cell: (m) => percent(m.success_rate),
    },
    {
      key: 'avg_response_time_ms',
      label: 'Avg latency',
      numeric: true,
      sortValue: (m) => m.avg_response_time_ms,
      cell: (m) => milliseconds(m.avg_response_time_ms),
    },
    {
      key: 'last_response_time_ms',
      label: 'Last latency',
      numeric: true,
      sortValue: (m) => m.last_response_time_ms,
      cell: (m) => milliseconds(m.last_response_time_ms),
    },
    {
      key: 'last_status',
      label: 'Last status',
      numeric: false,
      sortValue: (m) => m.last_status,
      cell: (m) => {
        const span = el(
          'span',
          { class: `status status--${m.last_status === 'success' ? 'ok' : 'failed'}` },
          m.last_status,
        );
        if (m.last_error_message !== null && m.last_error_message !== '') span.title = m.last_error_message;
        return span;
      },
    },
    {
      key: 'last_called_at',
      label: 'Last called',
      numeric: false,
      sortValue: (m) => {
        const time = Date.parse(m.last_called_at);
        return Number.isNaN(time) ? null : time;
      },
      cell: (m) => timeCell(m.last_called_at),
    },
  ];

  const params = new URLSearchParams(location.search);
  const fromParam = (name: string, fallback: number, min: number, max: number, integerOnly: boolean): number => {
    const raw = params.get(name);
    if (raw === null || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integerOnly && !Number.isInteger(value)))
      return fallback;
    return value;
  };
  const state = {
    provider: params.get('provider') ?? '',
    status: config.statuses.includes(params.get('status') ?? '') ? (params.get('status') as string) : '',
    limit: config.pageSizes.includes(fromParam('limit', config.defaultPageSize, 1, 1000, true))
      ? fromParam('limit', config.defaultPageSize, 1, 1000, true)
      : config.defaultPageSize,
    offset: fromParam('offset', 0, 0, Number.MAX_SAFE_INTEGER, true),
    sortKey: columns.some((column) => column.key === params.get('sort')) ? (params.get('sort') as string) : 'provider',
    sortDirection: params.get('dir') === 'descending' ? 'descending' : 'ascending',
    errorThreshold: fromParam('error_threshold', config.defaultErrorThreshold, 0, 1, false),
    paused: false,
    token: sessionStorage.getItem(config.tokenStorageKey) ?? '',
    page: undefined as ModelPage | undefined,
    providers: [] as ProviderItem[],
  };

  function syncAddressBar(): void {
    const next = new URLSearchParams();
    if (state.provider !== '') next.set('provider', state.provider);
    if (state.status !== '') next.set('status', state.status);
    if (state.limit !== config.defaultPageSize) next.set('limit', String(state.limit));
    if (state.offset !== 0) next.set('offset', String(state.offset));
    if (state.sortKey !== 'provider' || state.sortDirection !== 'ascending') {
      next.set('sort', state.sortKey);
      next.set('dir', state.sortDirection);
    }
    if (state.errorThreshold !== config.defaultErrorThreshold)
      next.set('error_threshold', String(state.errorThreshold));
    const query = next.toString();
    history.replaceState(null, '', `${location.pathname}${query === '' ? '' : `?${query}`}`);
  }

  // ---------------------------------------------------------------------------------------------
  // API access
  // ---------------------------------------------------------------------------------------------
  let controller: AbortController | undefined;
  let inFlightScope: 'all' | 'table' | undefined;

  async function get<T>(path: string, kind: 'json' | 'text', signal: AbortSignal): Promise<Outcome<T>> {
    const headers: Record<string, string> = { accept: kind === 'json' ? 'application/json' : 'text/plain' };
    if (state.token !== '') headers['authorization'] = `Bearer ${state.token}`;
    let response: Response;
    try {
      response = await fetch(path, { headers, signal, cache: 'no-store', credentials: 'same-origin' });
    } catch (failure) {
      if (signal.aborted) throw failure;
      return { ok: false, status: 0, message: `network error (${(failure as Error).message})` };
    }
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        const body = (await response.json()) as { error?: { message?: unknown } };
        if (typeof body.error?.message === 'string') message = `HTTP ${response.status}: ${body.error.message}`;
      } catch {
        // not JSON: keep the status line
      }
      return { ok: false, status: response.status, message };
    }
    try {
      return { ok: true, value: (kind === 'json' ? await response.json() : await response.text()) as T };
    } catch (failure) {
      if (signal.aborted) throw failure;
      return { ok: false, status: response.status, message: 'unreadable response body' };
    }
  }

  function listPath(): string {
    const query = new URLSearchParams();
    if (state.provider !== '') query.set('provider', state.provider);
    if (state.status !== '') query.set('status', state.status);
    query.set('limit', String(state.limit));
    query.set('offset', String(state.offset));
    return `/v1/model-health?${query.toString()}`;
  }

  /** Sum `*cost_by_provider_total{provider="…"}` samples of Prometheus text, by provider. */
  function parseCosts(text: string): Map<string, number> {
    const costs = new Map<string, number>();
    for (const rawLine of text.split('\n')) {
      const line = rawLine.trim();
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
      if (match === null) continue;
      const name = match[1] as string;
      if (name !== 'cost_by_provider_total' && !name.endsWith('_cost_by_provider_total')) continue;
      let provider: string | undefined;
      for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) {
        if (pair[1] === 'provider') {
          provider = (pair[2] as string).replace(/\\(.)/g, (_all, escaped: string) =>
            escaped === 'n' ? '\n' : escaped,
          );
        }
      }
      const value = Number(match[3]);
      if (provider === undefined || !Number.isFinite(value) || value < 0) continue;
      costs.set(provider, (costs.get(provider) ?? 0) + value);
    }
    return costs;
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------------------------
  const body = document.body;
  const authMessage = byId('auth-message');
  const loadError = byId('load-error');
  const tokenInput = byId<HTMLInputElement>('token');
  const tokenState = byId('token-state');
  const providerSelect = byId<HTMLSelectElement>('filter-provider');
  const statusSelect = byId<HTMLSelectElement>('filter-status');
  const pageSizeSelect = byId<HTMLSelectElement>('page-size');
  const thresholdInput = byId<HTMLInputElement>('error-threshold');
  const headRow = byId<HTMLTableRowElement>('model-head');
  const rows = byId<HTMLTableSectionElement>('model-rows');
  const pageInfo = byId('page-info');
  const prevButton = byId<HTMLButtonElement>('page-prev');
  const nextButton = byId<HTMLButtonElement>('page-next');
  const pauseButton = byId<HTMLButtonElement>('pause');
  const refreshState = byId('refresh-state');
  const updated = byId('updated');

  function setKpi(name: string, value: string, raw: number | null, note?: string): void {
    const card = document.querySelector<HTMLElement>(`[data-kpi="${name}"]`);
    if (card === null) return;
    const valueNode = card.querySelector('.kpi__value');
    if (valueNode !== null) valueNode.textContent = value;
    card.dataset['value'] = raw === null ? '' : String(raw);
    const noteNode = card.querySelector('.kpi__note');
    if (noteNode !== null && note !== undefined) noteNode.textContent = note;
  }

  function renderStats(outcome: Outcome<Stats>): void {
    if (!outcome.ok) return;
    const stats = outcome.value;
    setKpi(
      'models',
      integer(stats.total_models),
      stats.total_models,
      `across ${integer(stats.total_providers)} providers`,
    );
    setKpi('calls', integer(stats.total_calls), stats.total_calls, 'recorded provider attempts');
    setKpi(
      'success-rate',
      stats.total_calls > 0 ? percent(stats.success_rate) : '—',
      stats.success_rate,
      'of all recorded calls',
    );
    setKpi('avg-latency', milliseconds(stats.avg_response_time_ms), stats.avg_response_time_ms, 'call-weighted mean');
  }

  function renderSummary(outcome: Outcome<Summary>): void {
    const providers = outcome.ok ? outcome.value.metrics?.providers : undefined;
    const note = providers === undefined ? 'metrics unavailable' : `of ${integer(providers.total_providers)} providers`;
    setKpi(
      'providers-healthy',
      providers ? integer(providers.healthy_providers) : '—',
      providers ? providers.healthy_providers : null,
      note,
    );
    setKpi(
      'providers-degraded',
      providers ? integer(providers.degraded_providers) : '—',
      providers ? providers.degraded_providers : null,
      note,
    );
    setKpi(
      'providers-unavailable',
      providers ? integer(providers.unavailable_providers) : '—',
      providers ? providers.unavailable_providers : null,
      note,
    );
  }

  function renderBanner(outcome: Outcome<{ items: ModelItem[]; total: number }>): void {
    const banner = byId('alert-banner');
    if (!outcome.ok) return;
    const items = outcome.value.items;
    banner.hidden = items.length === 0;
    byId('alert-title').textContent =
      `${items.length} ${items.length === 1 ? 'model is' : 'models are'} unhealthy (error rate ≥ ${percent(state.errorThreshold)})`;
    const list = byId('alert-list');
    list.replaceChildren(
      ...items.map((item) =>
        el(
          'li',
          { 'data-provider': item.provider, 'data-model': item.model },
          el('strong', {}, `${item.provider} / ${item.model}`),
          ` — ${percent(item.error_rate)} errors over ${integer(item.call_count)} calls, last status ${item.last_status}`,
          ...(item.last_error_message ? [el('span', { class: 'alert__detail' }, `: ${item.last_error_message}`)] : []),
        ),
      ),
    );
  }

  function compareItems(a: ModelItem, b: ModelItem, column: Column): number {
    const left = column.sortValue(a);
    const right = column.sortValue(b);
    if (left === null && right === null) return 0;
    if (left === null) return 1; // missing values last, whatever the direction
    if (right === null) return -1;
    const order = left < right ? -1 : left > right ? 1 : 0;
    return state.sortDirection === 'ascending' ? order : -order;
  }

  function renderHead(): void {
    headRow.replaceChildren(
      ...columns.map((column) => {
        const active = column.key === state.sortKey;
        const th = el('th', { scope: 'col', 'data-column': column.key, class: column.numeric ? 'num' : '' });
        if (active) th.setAttribute('aria-sort', state.sortDirection);
        const indicator = active ? (state.sortDirection === 'ascending' ? '▲' : '▼') : '↕';
        const button = el(
          'button',
          { type: 'button', class: 'sort', 'data-sort': column.key },
          column.label,
          el('span', { class: 'sort__icon', 'aria-hidden': 'true' }, indicator),
        );
        button.addEventListener('click', () => {
          if (state.sortKey === column.key)
            state.sortDirection = state.sortDirection === 'ascending' ? 'descending' : 'ascending';
          else {
            state.sortKey = column.key;
            state.sortDirection = 'ascending';
          }
          syncAddressBar();
          renderHead();
          renderRows();
          document.querySelector<HTMLButtonElement>(`button[data-sort="${column.key}"]`)?.focus();
        });
        th.append(button);
        return th;
      }),
    );
  }

  function renderRows(): void {
    const page = state.page;
    if (page === undefined) return;
    const column: Column | undefined = columns.find((candidate) => candidate.key === state.sortKey) ?? columns[1];
    if (column === undefined) return;
    const sorted = [...page.items].sort((a, b) => compareItems(a, b, column));
    if (sorted.length === 0) {
      const filtered = state.provider !== '' || state.status !== '';
      rows.replaceChildren(
        el(
          'tr',
          { class: 'empty' },
          el(
            'td',
            { colspan: String(columns.length) },
            filtered
              ? 'No models match these filters.'
              : 'No model calls recorded yet: send traffic through the gateway.',
          ),
        ),
      );
    } else {
      rows.replaceChildren(
        ...sorted.map((item) => {
          const health = healthOf(item);
          const tr = el('tr', { 'data-provider': item.provider, 'data-model': item.model, 'data-health': health });
          for (const col of columns) {
            const cell = el(
              col.key === 'model' ? 'th' : 'td',
              { 'data-column': col.key, class: col.numeric ? 'num' : '' },
              col.cell(item),
            );
            if (col.key === 'model') cell.setAttribute('scope', 'row');
            tr.append(cell);
          }
          return tr;
        }),
      );
    }
    const first = page.total === 0 || page.items.length === 0 ? 0 : page.offset + 1;
    const last = page.offset + page.items.length;
    pageInfo.textContent =
      first === 0
        ? `Showing 0 of ${integer(page.total)}`
        : `Showing ${integer(first)}–${integer(last)} of ${integer(page.total)}`;
    pageInfo.dataset['first'] = String(first);
    pageInfo.dataset['last'] = String(last);
    pageInfo.dataset['total'] = String(page.total);
    prevButton.disabled = page.offset === 0;
    nextButton.disabled = last >= page.total;
    const sortText = `Sorted by ${column.label.toLowerCase()}, ${state.sortDirection}, within this page.`;
    byId('model-caption').textContent =
      `Model health${state.provider ? ` at ${state.provider}` : ''}${state.status ? `, last status ${state.status}` : ''}. ${sortText}`;
    byId('sort-note').textContent = `${sortText} Click a column header to sort.`;
  }

  function renderProviderOptions(): void {
    const names = new Set(state.providers.map((provider) => provider.provider));
    if (state.provider !== '') names.add(state.provider);
    const wanted = ['', ...[...names].sort()];
    const current = Array.from(providerSelect.options, (option) => option.value);
    if (wanted.length === current.length && wanted.every((value, index) => value === current[index])) return;
    providerSelect.replaceChildren(
      ...wanted.map((value) => el('option', { value }, value === '' ? 'All providers' : value)),
    );
    providerSelect.value = state.provider;
  }

  function barChart(
    target: HTMLElement,
    label: string,
    entries: Array<{ provider: string; value: number | undefined }>,
    format: (value: number | undefined) => string,
    max: number,
    tone: string,
  ): void {
    const rowHeight = 28;
    const width = 340;
    const labelWidth = 100;
    const barWidth = 140;
    const height = Math.max(1, entries.length) * rowHeight + 8;
    const chart = svg('svg', {
      viewBox: `0 0 ${width} ${height}`,
      width: '100%',
      role: 'img',
      'aria-label': `${label}: ${entries.map((entry) => `${entry.provider} ${format(entry.value)}`).join(', ') || 'no data'}`,
      class: `chart chart--${tone}`,
      preserveAspectRatio: 'xMinYMin meet',
    });
    chart.append(svg('title', {}, label));
    entries.forEach((entry, index) => {
      const y = index * rowHeight + 4;
      const share = entry.value !== undefined && max > 0 ? Math.max(0, Math.min(1, entry.value / max)) : 0;
      const group = svg('g', { 'data-provider': entry.provider, 'data-value': entry.value ?? '' });
      const name = entry.provider.length > 14 ? `${entry.provider.slice(0, 13)}…` : entry.provider;
      group.append(
        svg('title', {}, `${entry.provider}: ${format(entry.value)}`),
        svg('text', { x: 0, y: y + 17, class: 'chart__label' }, name),
        svg('rect', { x: labelWidth, y: y + 4, width: barWidth, height: 18, rx: 3, class: 'chart__track' }),
        svg('rect', {
          x: labelWidth,
          y: y + 4,
          width: Math.max(share > 0 ? 2 : 0, share * barWidth).toFixed(1),
          height: 18,
          rx: 3,
          class: 'chart__bar',
        }),
        svg('text', { x: labelWidth + barWidth + 6, y: y + 17, class: 'chart__value' }, format(entry.value)),
      );
      chart.append(group);
    });
    target.replaceChildren(chart);
  }

  function renderProviders(costs: Map<string, number> | undefined): void {
    const names = [
      ...new Set([...state.providers.map((provider) => provider.provider), ...(costs?.keys() ?? [])]),
    ].sort();
    const byName = new Map(state.providers.map((provider) => [provider.provider, provider]));
    const table = byId<HTMLTableSectionElement>('provider-rows');
    if (names.length === 0) {
      table.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: '6' }, 'No provider data yet.')));
    } else {
      table.replaceChildren(
        ...names.map((name) => {
          const summary = byName.get(name);
          return el(
            'tr',
            { 'data-provider': name },
            el('th', { scope: 'row' }, name),
            el('td', { class: 'num', 'data-column': 'total_models' }, summary ? integer(summary.total_models) : '—'),
            el('td', { class: 'num', 'data-column': 'total_calls' }, summary ? integer(summary.total_calls) : '—'),
            el(
              'td',
              { class: 'num', 'data-column': 'success_rate' },
              summary && summary.total_calls > 0 ? percent(summary.success_rate) : '—',
            ),
            el(
              'td',
              { class: 'num', 'data-column': 'avg_response_time_ms' },
              milliseconds(summary?.avg_response_time_ms),
            ),
            el('td', { class: 'num', 'data-column': 'cost' }, costs === undefined ? '—' : usd(costs.get(name) ?? 0)),
          );
        }),
      );
    }
    const successEntries = names.map((name) => {
      const summary = byName.get(name);
      return { provider: name, value: summary && summary.total_calls > 0 ? summary.success_rate : undefined };
    });
    const latencyEntries = names.map((name) => ({
      provider: name,
      value: byName.get(name)?.avg_response_time_ms ?? undefined,
    }));
    const costEntries = names.map((name) => ({
      provider: name,
      value: costs === undefined ? undefined : (costs.get(name) ?? 0),
    }));
    const maxOf = (entries: Array<{ value: number | undefined }>): number =>
      entries.reduce((max, entry) => (entry.value !== undefined && entry.value > max ? entry.value : max), 0);
    barChart(
      byId('chart-success'),
      'Success rate by provider',
      successEntries,
      (v) => (v === undefined ? '—' : percent(v)),
      1,
      'success',
    );
    barChart(
      byId('chart-latency'),
      'Average response time by provider',
      latencyEntries,
      milliseconds,
      maxOf(latencyEntries),
      'latency',
    );
    barChart(byId('chart-cost'), 'Cost by provider (USD)', costEntries, usd, maxOf(costEntries), 'cost');
    byId('cost-note').textContent =
      costs === undefined
        ? 'Cost unavailable: /prometheus/metrics/business could not be read.'
        : 'Cost: gatewayz_cost_by_provider_total since the gateway started.';
  }

  /** After a 401 nothing stale stays on screen: the figures would look current but are not. */
  function renderLockedOut(): void {
    state.page = undefined;
    rows.replaceChildren(
      el(
        'tr',
        { class: 'empty' },
        el('td', { colspan: String(columns.length) }, 'No data: the gateway needs a bearer token (see above).'),
      ),
    );
    pageInfo.textContent = '';
    prevButton.disabled = true;
    nextButton.disabled = true;
    byId('alert-banner').hidden = true;
    for (const card of Array.from(document.querySelectorAll<HTMLElement>('[data-kpi]'))) {
      const value = card.querySelector('.kpi__value');
      if (value !== null) value.textContent = '—';
      card.dataset['value'] = '';
    }
  }

  function showProblems(outcomes: Array<Outcome<unknown>>): boolean {
    const unauthorized = outcomes.some((outcome) => !outcome.ok && outcome.status === 401);
    authMessage.hidden = !unauthorized;
    if (unauthorized) {
      authMessage.textContent =
        state.token === ''
          ? 'Unauthorized (401): this gateway requires a bearer token. Enter its METRICS_TOKEN under “API token” and press Save.'
          : 'Unauthorized (401): the gateway rejected the saved token. Check it under “API token” and press Save again.';
    }
    const failures = outcomes.filter(
      (outcome): outcome is { ok: false; status: number; message: string } => !outcome.ok && outcome.status !== 401,
    );
    const text =
      failures.length === 0
        ? ''
        : `Some data could not be loaded: ${[...new Set(failures.map((failure) => failure.message))].join('; ')}`;
    if (loadError.textContent !== text) loadError.textContent = text;
    loadError.hidden = text === '';
    return unauthorized;
  }

  // ---------------------------------------------------------------------------------------------
  // Refresh cycle
  // ---------------------------------------------------------------------------------------------
  let timer: ReturnType<typeof setTimeout> | undefined;
  let refreshes = 0;

  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (state.paused) return;
    timer = setTimeout(() => {
      if (document.hidden) schedule();
      else void refresh('all');
    }, config.refreshIntervalMs);
  }

  async function refresh(requested: 'all' | 'table'): Promise<void> {
    // A table-only refresh must not swallow a full one it interrupts.
    const scope = inFlightScope === 'all' ? 'all' : requested;
    controller?.abort();
    const current = new AbortController();
    controller = current;
    inFlightScope = scope;
    const signal = current.signal;
    body.dataset['state'] = 'loading';
    body.setAttribute('aria-busy', 'true');
    try {
      const listing = get<ModelPage>(listPath(), 'json', signal);
      const extra =
        scope === 'all'
          ? Promise.all([
              get<Stats>('/v1/model-health/stats', 'json', signal),
              get<Summary>('/prometheus/metrics/summary', 'json', signal),
              get<{ items: ProviderItem[] }>('/v1/model-health/providers', 'json', signal),
              get<{ items: ModelItem[]; total: number }>(
                `/v1/model-health/unhealthy?error_threshold=${encodeURIComponent(String(state.errorThreshold))}`,
                'json',
                signal,
              ),
              get<string>('/prometheus/metrics/business', 'text', signal),
            ])
          : undefined;
      extra?.catch(() => {}); // awaited below; this only keeps an abort from being reported as unhandled
      let page = await listing;
      // The data may have shrunk under a later page (or a bookmarked offset): go to the last page.
      if (page.ok && page.value.items.length === 0 && page.value.total > 0 && state.offset > 0) {
        state.offset = Math.floor((page.value.total - 1) / state.limit) * state.limit;
        syncAddressBar();
        page = await get<ModelPage>(listPath(), 'json', signal);
      }
      const rest = extra === undefined ? undefined : await extra;
      if (controller !== current) return;
      const outcomes: Array<Outcome<unknown>> = [page, ...(rest ?? [])];
      const unauthorized = showProblems(outcomes);
      if (unauthorized) renderLockedOut();
      if (page.ok && !unauthorized) {
        state.page = page.value;
        renderRows();
      }
      if (rest !== undefined && !unauthorized) {
        const [stats, summary, providers, unhealthy, business] = rest;
        renderStats(stats);
        renderSummary(summary);
        if (providers.ok) {
          state.providers = providers.value.items;
          renderProviderOptions();
        }
        renderBanner(unhealthy);
        if (providers.ok || business.ok) renderProviders(business.ok ? parseCosts(business.value) : undefined);
      }
      if (page.ok && !unauthorized) {
        const now = new Date();
        updated.textContent = '';
        updated.append('Last updated ', el('time', { datetime: now.toISOString() }, clock(now)));
      }
      refreshes++;
      body.dataset['refreshes'] = String(refreshes);
      body.dataset['state'] = unauthorized
        ? 'unauthorized'
        : outcomes.every((outcome) => outcome.ok)
          ? 'ready'
          : 'error';
    } catch (failure) {
      if (!signal.aborted) {
        loadError.hidden = false;
        loadError.textContent = `Refresh failed: ${(failure as Error).message}`;
        body.dataset['state'] = 'error';
      }
    } finally {
      if (controller === current) {
        inFlightScope = undefined;
        body.removeAttribute('aria-busy');
        if (scope === 'all') schedule();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Controls
  // ---------------------------------------------------------------------------------------------
  statusSelect.replaceChildren(
    el('option', { value: '' }, 'Any status'),
    ...config.statuses.map((status) => el('option', { value: status }, status)),
  );
  statusSelect.value = state.status;
  pageSizeSelect.replaceChildren(
    ...config.pageSizes.map((size) => el('option', { value: String(size) }, `${size} rows`)),
  );
  pageSizeSelect.value = String(state.limit);
  thresholdInput.value = String(state.errorThreshold);
  renderProviderOptions();
  renderHead();

  const tableChanged = (): void => {
    state.offset = 0;
    syncAddressBar();
    void refresh('table');
  };
  providerSelect.addEventListener('change', () => {
    state.provider = providerSelect.value;
    tableChanged();
  });
  statusSelect.addEventListener('change', () => {
    state.status = statusSelect.value;
    tableChanged();
  });
  pageSizeSelect.addEventListener('change', () => {
    state.limit = Number(pageSizeSelect.value);
    tableChanged();
  });
  byId('filters-reset').addEventListener('click', () => {
    state.provider = '';
    state.status = '';
    providerSelect.value = '';
    statusSelect.value = '';
    tableChanged();
  });
  prevButton.addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - state.limit);
    syncAddressBar();
    void refresh('table');
  });
  nextButton.addEventListener('click', () => {
    state.offset += state.limit;
    syncAddressBar();
    void refresh('table');
  });
  thresholdInput.addEventListener('change', () => {
    const value = Number(thresholdInput.value);
    if (thresholdInput.value.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
      thresholdInput.setAttribute('aria-invalid', 'true');
      return;
    }
    thresholdInput.removeAttribute('aria-invalid');
    state.errorThreshold = value;
    syncAddressBar();
    void refresh('all');
  });
  byId('refresh').addEventListener('click', () => void refresh('all'));
  pauseButton.addEventListener('click', () => {
    state.paused = !state.paused;
    pauseButton.setAttribute('aria-pressed', String(state.paused));
    refreshState.textContent = state.paused
      ? 'Auto-refresh paused'
      : `Auto-refresh every ${config.refreshIntervalMs / 1000} s`;
    if (state.paused) schedule();
    else void refresh('all');
  });
  refreshState.textContent = `Auto-refresh every ${config.refreshIntervalMs / 1000} s`;

  const showTokenState = (): void => {
    tokenState.textContent = state.token === '' ? 'No token set' : 'Token set for this tab';
  };
  byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.token = tokenInput.value.trim();
    if (state.token === '') sessionStorage.removeItem(config.tokenStorageKey);
    else sessionStorage.setItem(config.tokenStorageKey, state.token);
    tokenInput.value = '';
    showTokenState();
    void refresh('all');
  });
  byId('token-clear').addEventListener('click', () => {
    state.token = '';
    sessionStorage.removeItem(config.tokenStorageKey);
    tokenInput.value = '';
    showTokenState();
    void refresh('all');
  });
  showTokenState();

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !state.paused) void refresh('all');
  });

  syncAddressBar();
  void refresh('all');
}
