import type { dashboardApi } from './client-api.js';
import type { dashboardRender } from './client-render.js';
import type { DashboardState, ModelItem, ModelPage, Outcome, ProviderItem, Stats, Summary } from './client-types.js';
import type { dashboardView } from './client-view.js';
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
 * The dashboard's browser code: its state (mirrored in the address bar), the refresh cycle and the
 * controls; formatting and columns (client-view.ts), API access (client-api.ts) and rendering
 * (client-render.ts) are handed to it as `parts`. The page embeds each with
 * `Function.prototype.toString`, so every one must stay self-contained: no imports and no
 * references to anything declared outside it (type annotations are fine, they are erased). It only ever writes text into the DOM
 * (`textContent`, attributes), never HTML, and the page's CSP enforces that with Trusted Types.
 */
export function dashboardClient(
  config: DashboardClientConfig,
  parts: { view: typeof dashboardView; api: typeof dashboardApi; render: typeof dashboardRender },
): void {
  const view = parts.view(config);
  const { clock, byId, el, columns } = view;
  const { parseCosts, ...api } = parts.api();

  const params = new URLSearchParams(location.search);
  const fromParam = (name: string, fallback: number, min: number, max: number, integerOnly: boolean): number => {
    const raw = params.get(name);
    if (raw === null || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integerOnly && !Number.isInteger(value)))
      return fallback;
    return value;
  };
  const state: DashboardState = {
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

  const get = <T>(path: string, kind: 'json' | 'text', signal: AbortSignal): Promise<Outcome<T>> =>
    api.get<T>(path, kind, signal, state.token);

  function listPath(): string {
    const query = new URLSearchParams();
    if (state.provider !== '') query.set('provider', state.provider);
    if (state.status !== '') query.set('status', state.status);
    query.set('limit', String(state.limit));
    query.set('offset', String(state.offset));
    return `/v1/model-health?${query.toString()}`;
  }

  const {
    body,
    loadError,
    tokenInput,
    tokenState,
    providerSelect,
    statusSelect,
    pageSizeSelect,
    thresholdInput,
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
  } = parts.render(view, state, syncAddressBar);

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
      } else if (!unauthorized) renderLoadFailure('model-rows', 'the model list');
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
        else renderLoadFailure('provider-rows', 'the provider comparison');
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
