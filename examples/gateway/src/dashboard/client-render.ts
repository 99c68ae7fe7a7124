import type { Column, DashboardState, ModelItem, Outcome, Stats, Summary } from './client-types.js';
import type { DashboardView } from './client-view.js';

/**
 * The dashboard's rendering: KPI cards, the unhealthy-model banner, the sortable model table and
 * the provider comparison, from `state`. Self-contained, like `dashboardClient`, for the same
 * reason; `syncAddressBar` is called when a header click changes the sort.
 */
export function dashboardRender(view: DashboardView, state: DashboardState, syncAddressBar: () => void) {
  const { integer, percent, milliseconds, usd, healthOf, byId, el, svg, columns } = view;
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

  /** A failed request's figures read '—', not the last ones, which would look current. */
  function renderStats(outcome: Outcome<Stats>): void {
    if (!outcome.ok) {
      for (const name of ['models', 'calls', 'success-rate', 'avg-latency'])
        setKpi(name, '—', null, 'unavailable: the request failed');
      return;
    }
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
    const list = byId('alert-list');
    if (!outcome.ok) {
      // Which models are unhealthy is unknown: neither the last list nor no banner would be true.
      banner.hidden = false;
      byId('alert-title').textContent = 'Unhealthy models unknown: the request failed';
      list.replaceChildren();
      return;
    }
    const items = outcome.value.items;
    banner.hidden = items.length === 0;
    byId('alert-title').textContent =
      `${items.length} ${items.length === 1 ? 'model is' : 'models are'} unhealthy (error rate ≥ ${percent(state.errorThreshold)})`;
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

  /** A table that never loaded says so, rather than 'Loading…' for ever; one that did keeps its rows. */
  function renderLoadFailure(tableId: 'model-rows' | 'provider-rows', what: string): void {
    const table = byId<HTMLTableSectionElement>(tableId);
    if (table.querySelector('tr:not(.empty)') !== null) return;
    const columnCount = tableId === 'model-rows' ? columns.length : 6;
    table.replaceChildren(
      el('tr', { class: 'empty' }, el('td', { colspan: String(columnCount) }, `No data: ${what} could not be loaded.`)),
    );
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
  return {
    body,
    loadError,
    tokenInput,
    tokenState,
    providerSelect,
    statusSelect,
    pageSizeSelect,
    thresholdInput,
    rows,
    prevButton,
    nextButton,
    pauseButton,
    refreshState,
    updated,
    renderStats,
    renderSummary,
    renderBanner,
    renderHead,
    renderRows,
    renderProviderOptions,
    renderProviders,
    renderLockedOut,
    renderLoadFailure,
    showProblems,
  };
}

/** What `dashboardRender` returns. */
export type DashboardRendering = ReturnType<typeof dashboardRender>;
