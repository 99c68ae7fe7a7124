/**
 * The model-health dashboard end to end: the example gateway in this process with simulated
 * providers under real traffic, the dashboard handler mounted on its Hono app, and the page driven
 * in headless Chromium (playwright-core). Every figure on the page is checked against the JSON the
 * same API returns.
 *
 * Chromium: `CHROMIUM_PATH`, or `chromium` on PATH / in /usr/bin. Missing → skipped locally, a
 * failure under CI=true. Screenshots go to docs/dashboard.png and docs/dashboard-mobile.png when
 * UPDATE_DASHBOARD_SCREENSHOTS=1, else to the temp directory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyModelHealth, createDashboardHandler, DEFAULT_HEALTH_THRESHOLDS } from '../src/dashboard/index.js';
import {
  contrastProblems,
  costsFromExposition,
  fmtInt,
  fmtMs,
  fmtPercent,
  fmtUsd,
  keyOf,
  launchChromium,
  openPage,
  refreshCount,
  renderedRows,
  requireChromium,
  waitForRefresh,
  waitForRowKeys,
  type PageProblems,
} from './dashboard-browser.js';
import { chatBody, startTestGateway, type TestGateway } from './harness.js';

const chromiumPath = requireChromium();
const REFRESH_MS = 1000;
const TOKEN = 'dashboard-test-token-0123456789';
const here = dirname(fileURLToPath(import.meta.url));
const screenshotDir =
  process.env['UPDATE_DASHBOARD_SCREENSHOTS'] === '1'
    ? resolve(here, '../../../docs')
    : join(tmpdir(), 'gatewayz-dashboard');

interface ApiItem {
  provider: string;
  model: string;
  call_count: number;
  error_count: number;
  success_rate: number;
  error_rate: number;
  avg_response_time_ms: number | null;
  last_response_time_ms: number | null;
  last_status: string;
  last_called_at: string;
}
interface ApiPage {
  items: ApiItem[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * Mount test copies of the dashboard on a test gateway (Hono only accepts routes before the first
 * request), at their own paths so they never collide with the gateway's own `/dashboard`:
 * `/e2e/dashboard` refreshes every second, `/e2e/dashboard-default` is the default page (for the
 * screenshots).
 */
const FAST_PATH = '/e2e/dashboard';
const DEFAULT_PATH = '/e2e/dashboard-default';
function mount(gw: TestGateway): void {
  const fast = createDashboardHandler({ path: FAST_PATH, refreshIntervalMs: REFRESH_MS });
  const standard = createDashboardHandler({ path: DEFAULT_PATH });
  gw.gateway.app.get(FAST_PATH, (c) => fast(c.req.raw));
  gw.gateway.app.get(DEFAULT_PATH, (c) => standard(c.req.raw));
}

/** A full-page screenshot without focus rings or a moving "last updated" race. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: join(screenshotDir, name), fullPage: true, scale: 'css', animations: 'disabled' });
}

async function api<T>(gw: TestGateway, path: string, token?: string): Promise<T> {
  const response = await fetch(`${gw.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function settle(gw: TestGateway): Promise<void> {
  await gw.gateway.recorder.flush();
  await gw.gateway.tracker.tick();
}

async function chat(gw: TestGateway, model: string, times: number, parallel = false): Promise<number[]> {
  const one = async (): Promise<number> => (await gw.post('/v1/chat/completions', chatBody(model))).status;
  if (parallel) return Promise.all(Array.from({ length: times }, one));
  const statuses: number[] = [];
  for (let index = 0; index < times; index++) statuses.push(await one());
  return statuses;
}

/** The sort value of a column, from the API's own data (null sorts last). */
const SORT_VALUE: Record<string, (item: ApiItem) => number | string | null> = {
  health: (item) => ({ healthy: 0, degraded: 1, unhealthy: 2 })[classifyModelHealth(item)],
  provider: (item) => item.provider,
  model: (item) => item.model,
  call_count: (item) => item.call_count,
  error_count: (item) => item.error_count,
  success_rate: (item) => item.success_rate,
  avg_response_time_ms: (item) => item.avg_response_time_ms,
  last_response_time_ms: (item) => item.last_response_time_ms,
  last_status: (item) => item.last_status,
  last_called_at: (item) => Date.parse(item.last_called_at),
};

function expectOrdered(
  keys: string[],
  byKey: Map<string, ApiItem>,
  column: string,
  direction: 'ascending' | 'descending',
): void {
  const values = keys.map((key) => SORT_VALUE[column]!(byKey.get(key)!));
  for (let index = 1; index < values.length; index++) {
    const previous = values[index - 1]!;
    const current = values[index]!;
    const where = `${column} ${direction}: ${JSON.stringify(values)}`;
    if (current === null) continue; // nulls last
    expect(previous, where).not.toBeNull();
    if (direction === 'ascending') expect(previous <= current, where).toBe(true);
    else expect(previous >= current, where).toBe(true);
  }
}

describe('GET /dashboard (HTTP)', () => {
  const handler = createDashboardHandler();

  it('serves one HTML page with a strict CSP whose hashes match its inline script and style', async () => {
    const response = handler(new Request('http://gateway.test/dashboard'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((part) => part.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('require-trusted-types-for')).toEqual(["'script'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await response.text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(directives.get('script-src')).toEqual([hash(script)]);
    expect(directives.get('style-src')).toEqual([hash(style)]);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
    expect(html).not.toMatch(/<(?:link rel="stylesheet"|img|iframe)/);
    expect(html).toContain('refreshed every 10 s');
    expect(html).toContain('error rate ≥ 20% or average response time ≥ 10 s');
  });

  it('answers HEAD without a body, 405 for other methods and 404 for other paths', async () => {
    const head = handler(new Request('http://gateway.test/dashboard', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = handler(new Request('http://gateway.test/dashboard', { method: 'POST', body: '{}' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(handler(new Request('http://gateway.test/dashboard/x')).status).toBe(404);
    expect(handler.handles('/dashboard')).toBe(true);
    const elsewhere = createDashboardHandler({ path: '/ops/health/' });
    expect(elsewhere.handles('/ops/health')).toBe(true);
    expect(elsewhere(new Request('http://gateway.test/ops/health')).status).toBe(200);
    expect(elsewhere(new Request('http://gateway.test/dashboard')).status).toBe(404);
    expect(() => createDashboardHandler({ path: 'dashboard' })).toThrow(RangeError);
  });
});

describe.skipIf(chromiumPath === undefined)('dashboard in headless Chromium', () => {
  let browser: Browser;
  const pages: Array<{ page: Page; problems: PageProblems; close(): Promise<void> }> = [];

  async function open(
    gw: TestGateway,
    options: { width?: number; height?: number; isMobile?: boolean; path?: string; query?: string } = {},
  ) {
    const opened = await openPage(browser, options);
    const entry = { page: opened.page, problems: opened.problems, close: () => opened.context.close() };
    pages.push(entry);
    await opened.page.goto(`${gw.url}${options.path ?? FAST_PATH}${options.query ?? ''}`);
    return entry;
  }

  beforeAll(async () => {
    mkdirSync(screenshotDir, { recursive: true });
    browser = await launchChromium(chromiumPath as string);
  });
  afterEach(async () => {
    for (const entry of pages.splice(0)) {
      const csp = await entry.problems.csp();
      await entry.close();
      expect(entry.problems.errors, 'uncaught page errors').toEqual([]);
      expect(csp, 'CSP violations').toEqual([]);
      expect(entry.problems.console, 'console errors').toEqual([]);
    }
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('under traffic', () => {
    let gw: TestGateway;

    beforeAll(async () => {
      gw = await startTestGateway({ env: { ATTEMPT_TIMEOUT_MS: '5000' } });
      mount(gw);
      // anthropic fails once, so claude-3-5-haiku also lands at openrouter (failover).
      gw.provider('anthropic').configure({ errorRate: 1 });
      await chat(gw, 'claude-3-5-haiku', 1);
      gw.provider('anthropic').configure({ errorRate: 0 });
      await chat(gw, 'gpt-4o-mini', 6);
      await chat(gw, 'gpt-4o', 4);
      await chat(gw, 'claude-3-5-haiku', 9);
      await chat(gw, 'llama-3.1-8b-instruct', 11);
      for (let index = 0; index < 2; index++) {
        await gw.post('/v1/images/generations', { model: 'gpt-image-1', prompt: 'a lighthouse' });
      }
      // One failed llama call in 12: degraded by error rate.
      gw.provider('openrouter').configure({ errorRate: 1 });
      await chat(gw, 'llama-3.1-8b-instruct', 1);
      gw.provider('openrouter').configure({ errorRate: 0 });
      // claude-3-5-sonnet answers in ~2.1 s: degraded by latency.
      gw.provider('anthropic').configure({ latencyMs: 2100 });
      await chat(gw, 'claude-3-5-sonnet', 2, true);
      gw.provider('anthropic').configure({ latencyMs: 0 });
      await settle(gw);
    });
    afterAll(async () => {
      await gw?.close();
    });

    it("serves the page at the gateway's own /dashboard", async () => {
      const response = await fetch(`${gw.url}/dashboard`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await response.text()).toContain('<h1>Model health</h1>');
    });

    it('shows the same KPI figures as the API', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const stats = await api<{
        total_models: number;
        total_calls: number;
        success_rate: number;
        avg_response_time_ms: number | null;
      }>(gw, '/v1/model-health/stats');
      const summary = await api<{ metrics: { providers: Record<string, number> } }>(gw, '/prometheus/metrics/summary');
      const kpi = (name: string) =>
        page.$eval(`[data-kpi="${name}"]`, (card) => ({
          text: card.querySelector('.kpi__value')?.textContent ?? '',
          value: (card as HTMLElement).dataset['value'] ?? '',
        }));
      expect(stats.total_models).toBe(7);
      expect(await kpi('models')).toEqual({ text: fmtInt(stats.total_models), value: String(stats.total_models) });
      expect(await kpi('calls')).toEqual({ text: fmtInt(stats.total_calls), value: String(stats.total_calls) });
      expect(await kpi('success-rate')).toEqual({
        text: fmtPercent(stats.success_rate),
        value: String(stats.success_rate),
      });
      expect(await kpi('avg-latency')).toEqual({
        text: fmtMs(stats.avg_response_time_ms),
        value: String(stats.avg_response_time_ms),
      });
      const providers = summary.metrics.providers;
      expect(providers['total_providers']).toBe(3);
      for (const [card, field] of [
        ['providers-healthy', 'healthy_providers'],
        ['providers-degraded', 'degraded_providers'],
        ['providers-unavailable', 'unavailable_providers'],
      ] as const) {
        expect(await kpi(card)).toEqual({ text: String(providers[field]), value: String(providers[field]) });
      }
      await expect(page.textContent('#updated')).resolves.toMatch(/^Last updated \d{2}:\d{2}:\d{2}$/);
    });

    it('renders every API row with its health badge and formatted cells', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const listing = await api<ApiPage>(gw, '/v1/model-health?limit=25&offset=0');
      const rows = await renderedRows(page);
      expect(rows.map((row) => `${row.provider}/${row.model}`)).toEqual(listing.items.map(keyOf)); // default: API order
      const badges = new Set<string>();
      for (const item of listing.items) {
        const row = rows.find((candidate) => candidate.provider === item.provider && candidate.model === item.model)!;
        const health = classifyModelHealth(item);
        badges.add(health);
        expect(row.health).toBe(health);
        expect(row.cells).toEqual({
          health: { healthy: '●Healthy', degraded: '▲Degraded', unhealthy: '✖Unhealthy' }[health], // icon (aria-hidden) + word
          provider: item.provider,
          model: item.model,
          call_count: fmtInt(item.call_count),
          error_count: fmtInt(item.error_count),
          success_rate: fmtPercent(item.success_rate),
          avg_response_time_ms: fmtMs(item.avg_response_time_ms),
          last_response_time_ms: fmtMs(item.last_response_time_ms),
          last_status: item.last_status,
          last_called_at: expect.stringMatching(/^\d{2}:\d{2}:\d{2}$/),
        });
      }
      // anthropic/claude-3-5-haiku failed 1 in 10 calls and llama 1 in 12 (degraded by error
      // rate); claude-3-5-sonnet took ~2.1 s (degraded by latency); nothing is unhealthy yet.
      expect([...badges].sort()).toEqual(['degraded', 'healthy']);
      expect(
        rows
          .filter((row) => row.health === 'degraded')
          .map((row) => `${row.provider}/${row.model}`)
          .sort(),
      ).toEqual(['anthropic/claude-3-5-haiku', 'anthropic/claude-3-5-sonnet', 'openrouter/llama-3.1-8b-instruct']);
      const sonnet = listing.items.find((item) => item.model === 'claude-3-5-sonnet')!;
      expect(sonnet.avg_response_time_ms).toBeGreaterThanOrEqual(DEFAULT_HEALTH_THRESHOLDS.degradedLatencyMs);
      expect(rows.find((row) => row.model === 'claude-3-5-sonnet')!.health).toBe('degraded');
    });

    it('sorts the page by every column, both directions, with aria-sort on the sorted header only', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const listing = await api<ApiPage>(gw, '/v1/model-health?limit=25&offset=0');
      const byKey = new Map(listing.items.map((item) => [keyOf(item), item]));
      const columns = await page.$$eval('#model-head th', (headers) =>
        headers.map((th) => (th as HTMLElement).dataset['column'] ?? ''),
      );
      expect(columns.sort()).toEqual(Object.keys(SORT_VALUE).sort());
      for (const column of Object.keys(SORT_VALUE)) {
        for (const direction of ['ascending', 'descending'] as const) {
          const current = await page.getAttribute(`th[data-column="${column}"]`, 'aria-sort');
          if (current !== direction) await page.click(`button[data-sort="${column}"]`);
          if (current === null && direction === 'descending') await page.click(`button[data-sort="${column}"]`);
          await page.waitForSelector(`th[data-column="${column}"][aria-sort="${direction}"]`);
          expect(await page.$$eval('#model-head th[aria-sort]', (headers) => headers.length)).toBe(1);
          const keys = (await renderedRows(page)).map((row) => `${row.provider}/${row.model}`);
          expect([...keys].sort()).toEqual([...byKey.keys()].sort());
          expectOrdered(keys, byKey, column, direction);
        }
      }
      // The sort survives a refresh and is kept in the address bar.
      const before = await refreshCount(page);
      await waitForRefresh(page, before, 'ready');
      expect(await page.getAttribute('th[data-column="last_called_at"]', 'aria-sort')).toBe('descending');
      expect(new URL(page.url()).searchParams.get('sort')).toBe('last_called_at');
    });

    it('filters by provider and by last status through the API', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const providers = await api<{ items: Array<{ provider: string }> }>(gw, '/v1/model-health/providers');
      const options = await page.$$eval('#filter-provider option', (items) =>
        items.map((item) => (item as HTMLOptionElement).value),
      );
      expect(options).toEqual(['', ...providers.items.map((item) => item.provider).sort()]);

      await page.selectOption('#filter-provider', 'openrouter');
      const openrouter = await api<ApiPage>(gw, '/v1/model-health?provider=openrouter&limit=25&offset=0');
      expect(openrouter.total).toBeGreaterThanOrEqual(2);
      await waitForRowKeys(page, openrouter.items.map(keyOf));
      await expect(page.textContent('#page-info')).resolves.toBe(
        `Showing 1–${openrouter.total} of ${openrouter.total}`,
      );
      expect(new URL(page.url()).searchParams.get('provider')).toBe('openrouter');

      await page.selectOption('#filter-provider', '');
      await page.selectOption('#filter-status', 'error');
      const failing = await api<ApiPage>(gw, '/v1/model-health?status=error&limit=25&offset=0');
      expect(failing.total).toBeGreaterThanOrEqual(1);
      await waitForRowKeys(page, failing.items.map(keyOf));
      for (const row of await renderedRows(page)) expect(row.cells['last_status']).toBe('error');

      await page.selectOption('#filter-provider', 'openai');
      await waitForRowKeys(page, []);
      await expect(page.textContent('#model-rows')).resolves.toContain('No models match these filters.');
      await expect(page.textContent('#page-info')).resolves.toBe('Showing 0 of 0');

      await page.click('#filters-reset');
      const all = await api<ApiPage>(gw, '/v1/model-health?limit=25&offset=0');
      await waitForRowKeys(page, all.items.map(keyOf));
    });

    it('pages through the API with limit/offset, next and previous', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      await page.selectOption('#page-size', '5');
      const total = (await api<ApiPage>(gw, '/v1/model-health?limit=1')).total;
      expect(total).toBeGreaterThan(5);
      const seen: string[] = [];
      for (let offset = 0; offset < total; offset += 5) {
        const expected = await api<ApiPage>(gw, `/v1/model-health?limit=5&offset=${offset}`);
        await waitForRowKeys(page, expected.items.map(keyOf));
        const last = Math.min(offset + 5, total);
        await expect(page.textContent('#page-info')).resolves.toBe(`Showing ${offset + 1}–${last} of ${total}`);
        expect(await page.isDisabled('#page-prev')).toBe(offset === 0);
        expect(await page.isDisabled('#page-next')).toBe(last >= total);
        seen.push(...expected.items.map(keyOf));
        if (last < total) await page.click('#page-next');
      }
      expect(new Set(seen).size).toBe(total);
      expect(new URL(page.url()).searchParams.get('offset')).toBe(String(Math.floor((total - 1) / 5) * 5));
      await page.click('#page-prev');
      const previous = await api<ApiPage>(gw, `/v1/model-health?limit=5&offset=${Math.floor((total - 1) / 5) * 5 - 5}`);
      await waitForRowKeys(page, previous.items.map(keyOf));

      // A bookmarked page opens on that page.
      const { page: bookmarked } = await open(gw, { query: '?limit=5&offset=5' });
      await waitForRefresh(bookmarked, 0, 'ready');
      const second = await api<ApiPage>(gw, '/v1/model-health?limit=5&offset=5');
      await waitForRowKeys(bookmarked, second.items.map(keyOf));
    });

    it('compares providers with the API and the cost counter', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const providers = await api<{
        items: Array<{
          provider: string;
          total_models: number;
          total_calls: number;
          success_rate: number;
          avg_response_time_ms: number | null;
        }>;
      }>(gw, '/v1/model-health/providers');
      const costs = costsFromExposition(await gw.scrape('/prometheus/metrics/business'));
      expect(costs.size).toBe(3);
      const rows = await page.$$eval('#provider-rows tr[data-provider]', (trs) =>
        trs.map((tr) => [
          (tr as HTMLElement).dataset['provider'],
          Array.from(tr.children).map((cell) => cell.textContent),
        ]),
      );
      expect(rows).toEqual(
        providers.items.map((item) => [
          item.provider,
          [
            item.provider,
            fmtInt(item.total_models),
            fmtInt(item.total_calls),
            fmtPercent(item.success_rate),
            fmtMs(item.avg_response_time_ms),
            fmtUsd(costs.get(item.provider) ?? 0),
          ],
        ]),
      );
      // Bars: one per provider and chart, lengths proportional to the values (success rate on 0-100%).
      for (const [chart, values] of [
        ['chart-success', providers.items.map((item) => [item.provider, item.success_rate] as const)],
        ['chart-latency', providers.items.map((item) => [item.provider, item.avg_response_time_ms ?? 0] as const)],
        ['chart-cost', providers.items.map((item) => [item.provider, costs.get(item.provider) ?? 0] as const)],
      ] as const) {
        const bars = await page.$$eval(`#${chart} g[data-provider]`, (groups) =>
          groups.map((group) => ({
            provider: (group as SVGGElement).dataset['provider'],
            bar: Number(group.querySelector('.chart__bar')?.getAttribute('width')),
            track: Number(group.querySelector('.chart__track')?.getAttribute('width')),
          })),
        );
        expect(bars.map((bar) => bar.provider)).toEqual(values.map(([provider]) => provider));
        const max = chart === 'chart-success' ? 1 : Math.max(...values.map(([, value]) => value));
        values.forEach(([provider, value], index) => {
          const { bar, track } = bars[index]!;
          const expected = value > 0 ? Math.max(2, (value / max) * track) : 0; // a non-zero value stays visible
          expect(Math.abs(bar - expected), `${chart} ${provider}`).toBeLessThanOrEqual(0.1);
        });
        expect(await page.getAttribute(`#${chart} svg`, 'role')).toBe('img');
      }
    });

    it('shows the unhealthy-model banner when a provider fails, listing exactly the API unhealthy models', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      expect((await api<{ items: ApiItem[] }>(gw, '/v1/model-health/unhealthy?error_threshold=0.2')).items).toEqual([]);
      expect(await page.isHidden('#alert-banner')).toBe(true);

      // openrouter now fails every call (the ones its breaker lets through are recorded).
      gw.provider('openrouter').configure({ errorRate: 1 });
      const statuses = await chat(gw, 'llama-3.1-8b-instruct', 14);
      expect(statuses.every((status) => status >= 500)).toBe(true);
      await settle(gw);
      gw.provider('openrouter').configure({ errorRate: 0 });

      const listed = async () =>
        page.$$eval('#alert-list li', (items) =>
          items.map((item) => `${(item as HTMLElement).dataset['provider']}/${(item as HTMLElement).dataset['model']}`),
        );
      const unhealthy = await api<{ items: ApiItem[] }>(gw, '/v1/model-health/unhealthy?error_threshold=0.2');
      expect(unhealthy.items.map(keyOf)).toEqual(['openrouter/llama-3.1-8b-instruct']);
      await page.waitForSelector('#alert-banner', { state: 'visible', timeout: 5 * REFRESH_MS });
      await expect.poll(listed).toEqual(unhealthy.items.map(keyOf));
      await expect(page.textContent('#alert-title')).resolves.toBe('1 model is unhealthy (error rate ≥ 20.0%)');
      await expect(page.textContent('#alert-list')).resolves.toContain(
        `${fmtPercent(unhealthy.items[0]!.error_rate)} errors over`,
      );
      // The row's badge and the provider KPI cards follow.
      await page.waitForSelector(
        'tr[data-provider="openrouter"][data-model="llama-3.1-8b-instruct"][data-health="unhealthy"]',
      );
      const summary = await api<{ metrics: { providers: Record<string, number> } }>(gw, '/prometheus/metrics/summary');
      expect(summary.metrics.providers['healthy_providers']).toBeLessThan(3);
      await expect
        .poll(() => page.$eval('[data-kpi="providers-healthy"] .kpi__value', (node) => node.textContent))
        .toBe(String(summary.metrics.providers['healthy_providers']));

      // The threshold control asks the API again: lower lists more, higher may hide the banner.
      for (const threshold of ['0.05', '1', '0.2']) {
        await page.fill('#error-threshold', threshold);
        await page.dispatchEvent('#error-threshold', 'change');
        const expected = await api<{ items: ApiItem[] }>(gw, `/v1/model-health/unhealthy?error_threshold=${threshold}`);
        if (threshold === '0.05') expect(expected.items.length).toBeGreaterThan(unhealthy.items.length);
        if (expected.items.length === 0) await page.waitForSelector('#alert-banner', { state: 'hidden' });
        else await expect.poll(listed).toEqual(expected.items.map(keyOf));
        await expect(page.textContent('#alert-title')).resolves.toContain(
          `error rate ≥ ${fmtPercent(Number(threshold))}`,
        );
      }
      expect(await page.isVisible('#alert-banner')).toBe(true);

      const { page: docs } = await open(gw, { path: DEFAULT_PATH });
      await waitForRefresh(docs, 0, 'ready');
      await expect(docs.textContent('#refresh-state')).resolves.toBe('Auto-refresh every 10 s');
      await expect.poll(() => docs.$$eval('#alert-list li', (items) => items.length)).toBe(1);
      await screenshot(docs, 'dashboard.png');
    });

    it('refreshes on its own, shows when, and pauses', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const callsShown = () => page.$eval('[data-kpi="calls"]', (card) => (card as HTMLElement).dataset['value']);
      await chat(gw, 'gpt-4o', 3);
      await gw.gateway.recorder.flush();
      const stats = await api<{ total_calls: number }>(gw, '/v1/model-health/stats');
      await expect.poll(callsShown, { timeout: 5 * REFRESH_MS }).toBe(String(stats.total_calls));

      await page.click('#pause');
      expect(await page.getAttribute('#pause', 'aria-pressed')).toBe('true');
      await expect(page.textContent('#refresh-state')).resolves.toBe('Auto-refresh paused');
      await page.waitForFunction(() => !document.body.hasAttribute('aria-busy'));
      const count = await refreshCount(page);
      await chat(gw, 'gpt-4o', 2);
      await gw.gateway.recorder.flush();
      await new Promise((done) => setTimeout(done, 3 * REFRESH_MS));
      expect(await refreshCount(page)).toBe(count);
      expect(await callsShown()).toBe(String(stats.total_calls));

      await page.click('#pause'); // resume: refreshes at once
      const resumed = await api<{ total_calls: number }>(gw, '/v1/model-health/stats');
      await expect.poll(callsShown, { timeout: 5 * REFRESH_MS }).toBe(String(resumed.total_calls));
      await expect(page.textContent('#updated')).resolves.toMatch(/^Last updated \d{2}:\d{2}:\d{2}$/);
    });

    it('labels every control, names its regions and keeps text contrast at WCAG AA (light and dark)', async () => {
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const unlabelled = await page.$$eval('input, select', (controls) =>
        controls
          .filter(
            (control) => (control as HTMLInputElement).labels?.length === 0 && !control.getAttribute('aria-label'),
          )
          .map((control) => control.id),
      );
      expect(unlabelled).toEqual([]);
      const unnamedButtons = await page.$$eval(
        'button',
        (buttons) => buttons.filter((button) => (button.textContent ?? '').trim() === '').length,
      );
      expect(unnamedButtons).toBe(0);
      for (const label of ['Provider', 'Last call status', 'Page size', 'API token'])
        await expect(page.getByLabel(label, { exact: true }).count()).resolves.toBe(1);
      for (const region of ['Models', 'Model table', 'Provider comparison', 'Provider table']) {
        await expect(page.getByRole('region', { name: region, exact: true }).count(), region).resolves.toBe(1);
      }
      await expect(page.getByRole('region', { name: 'Model table' }).getAttribute('tabindex')).resolves.toBe('0');
      await expect(page.getByRole('button', { name: 'Pause auto-refresh' }).getAttribute('aria-pressed')).resolves.toBe(
        'false',
      );
      await expect(
        page
          .getByRole('columnheader', { name: /Provider/ })
          .first()
          .getAttribute('aria-sort'),
      ).resolves.toBe('ascending');
      expect(await page.$$eval('#model-head th button', (buttons) => buttons.length)).toBe(10);
      expect(await contrastProblems(page)).toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await contrastProblems(page)).toEqual([]);
    });

    it('fits a 375×812 screen: only the table containers scroll sideways', async () => {
      const { page } = await open(gw, { width: 375, height: 812, isMobile: true, path: DEFAULT_PATH });
      await waitForRefresh(page, 0, 'ready');
      const layout = await page.evaluate(() => {
        const root = document.documentElement;
        const outside: string[] = [];
        for (const element of Array.from(document.body.querySelectorAll<HTMLElement>('*'))) {
          if (element.closest('.table-scroll') !== null || element.closest('.visually-hidden') !== null) continue;
          const box = element.getBoundingClientRect();
          if (box.width > 0 && (box.right > root.clientWidth + 0.5 || box.left < -0.5))
            outside.push(`${element.tagName}#${element.id}.${element.className}`);
        }
        const scroller = document.getElementById('model-table-scroll')!;
        return {
          pageScrollWidth: root.scrollWidth,
          bodyScrollWidth: document.body.scrollWidth,
          clientWidth: root.clientWidth,
          outside,
          scrollerOverflowX: getComputedStyle(scroller).overflowX,
          scrollerScrolls: scroller.scrollWidth > scroller.clientWidth,
          scrollerRight: scroller.getBoundingClientRect().right,
        };
      });
      expect(layout.clientWidth).toBe(375);
      expect(layout.pageScrollWidth).toBe(375);
      expect(layout.bodyScrollWidth).toBeLessThanOrEqual(375);
      expect(layout.outside).toEqual([]);
      expect(layout.scrollerOverflowX).toBe('auto');
      expect(layout.scrollerScrolls).toBe(true);
      expect(layout.scrollerRight).toBeLessThanOrEqual(375);
      // Scrolling the page sideways does nothing; the table container does scroll.
      await page.evaluate(() => window.scrollTo(200, 0));
      expect(await page.evaluate(() => window.scrollX)).toBe(0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'dashboard-mobile.png');
    });

    it('leaves no stale figure on screen when requests fail, and says which tables never loaded', async () => {
      const failWith500 = (route: Route) =>
        route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"message":"boom"}}' });
      const { page, problems } = await open(gw);
      await waitForRefresh(page, 0, 'ready');
      const kpi = (name: string) => page.$eval(`[data-kpi="${name}"] .kpi__value`, (node) => node.textContent);
      expect(await kpi('calls')).not.toBe('—');
      // The stats and the unhealthy list fail from now on; the listing still answers.
      await page.route('**/v1/model-health/stats', failWith500);
      await page.route('**/v1/model-health/unhealthy?*', failWith500);
      await waitForRefresh(page, await refreshCount(page), 'error');
      for (const name of ['models', 'calls', 'success-rate', 'avg-latency']) expect(await kpi(name)).toBe('—');
      await expect(page.textContent('[data-kpi="calls"] .kpi__note')).resolves.toBe('unavailable: the request failed');
      expect(await page.isVisible('#alert-banner')).toBe(true);
      await expect(page.textContent('#alert-title')).resolves.toBe('Unhealthy models unknown: the request failed');
      expect(await page.$$('#alert-list li')).toHaveLength(0);
      // The rows that did load stay.
      expect((await page.$$('#model-rows tr[data-provider]')).length).toBeGreaterThan(0);

      // A page whose first listing and provider comparison fail says so instead of "Loading…".
      const { page: broken, problems: brokenProblems } = await open(gw, { query: '?limit=25' });
      await broken.route('**/v1/model-health?*', failWith500);
      await broken.route('**/v1/model-health/providers', failWith500);
      await broken.route('**/prometheus/metrics/business', failWith500);
      await broken.reload();
      await waitForRefresh(broken, 0, 'error');
      await expect(broken.textContent('#model-rows')).resolves.toBe('No data: the model list could not be loaded.');
      await expect(broken.textContent('#provider-rows')).resolves.toBe(
        'No data: the provider comparison could not be loaded.',
      );
      // The browser logs each failed request as a console error: those were the point. Closed
      // first, so that no later refresh logs another.
      await page.close();
      await broken.close();
      for (const recorded of [problems, brokenProblems]) {
        const unexpected = recorded.console.filter((text) => !/status of 500/.test(text));
        recorded.console.splice(0, recorded.console.length, ...unexpected);
      }
    });
  });

  describe('with METRICS_TOKEN set', () => {
    let gw: TestGateway;

    beforeAll(async () => {
      // The harness passes METRICS_TOKEN to the gateway config (model-health API) only; its
      // startTelemetry gets `env: {}`, so the metrics endpoints stay open in this test.
      gw = await startTestGateway({ env: { METRICS_TOKEN: TOKEN } });
      mount(gw);
      await chat(gw, 'gpt-4o-mini', 3);
      await chat(gw, 'claude-3-5-haiku', 2);
      await settle(gw);
    });
    afterAll(async () => {
      await gw?.close();
    });

    it('shows the 401 message, then works once the token is entered (kept for the tab only)', async () => {
      expect((await fetch(`${gw.url}/v1/model-health/stats`)).status).toBe(401);
      const { page } = await open(gw);
      await waitForRefresh(page, 0, 'unauthorized');
      await page.waitForSelector('#auth-message', { state: 'visible' });
      await expect(page.textContent('#auth-message')).resolves.toContain('Unauthorized (401)');
      await expect(page.textContent('#auth-message')).resolves.toContain('METRICS_TOKEN');
      await expect(page.$$('#model-rows tr[data-provider]')).resolves.toHaveLength(0);
      await expect(page.textContent('#model-rows')).resolves.toContain('needs a bearer token');

      await page.fill('#token', 'wrong-token-wrong-token');
      await page.click('#token-form button[type="submit"]');
      await page.waitForFunction(() => document.getElementById('auth-message')?.textContent?.includes('rejected'));

      let count = await refreshCount(page);
      await page.fill('#token', TOKEN);
      await page.click('#token-form button[type="submit"]');
      await waitForRefresh(page, count, 'ready');
      await page.waitForSelector('#auth-message', { state: 'hidden' });
      const listing = await api<ApiPage>(gw, '/v1/model-health?limit=25&offset=0', TOKEN);
      await waitForRowKeys(page, listing.items.map(keyOf));
      const stats = await api<{ total_models: number }>(gw, '/v1/model-health/stats', TOKEN);
      await expect(page.$eval('[data-kpi="models"] .kpi__value', (node) => node.textContent)).resolves.toBe(
        String(stats.total_models),
      );
      expect(await page.inputValue('#token')).toBe(''); // not left in the field
      await expect(page.textContent('#token-state')).resolves.toBe('Token set for this tab');
      expect(await page.evaluate(() => sessionStorage.getItem('gatewayz.dashboard.token'))).toBe(TOKEN);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);

      // A reload in the same tab keeps it; Clear forgets it.
      await page.reload();
      await waitForRefresh(page, 0, 'ready');
      await page.click('#token-clear');
      await page.waitForSelector('#auth-message', { state: 'visible' });
      // Nothing stale stays on screen once the gateway says 401.
      await waitForRowKeys(page, []);
      await expect(page.$eval('[data-kpi="models"] .kpi__value', (node) => node.textContent)).resolves.toBe('—');
      expect(await page.evaluate(() => sessionStorage.getItem('gatewayz.dashboard.token'))).toBeNull();
      count = await refreshCount(page);
      expect(count).toBeGreaterThan(0);
    });

    it('renders hostile model names as text', async () => {
      const hostile = '<img src=x onerror="window.__pwned=1">';
      await gw.gateway.store.applyBatch({
        id: randomUUID(),
        entries: [
          {
            provider: 'openai',
            model: hostile,
            calls: 4,
            successes: 1,
            errors: 3,
            totalResponseTimeMs: 40,
            lastResponseTimeMs: 10,
            lastStatus: 'error',
            lastErrorMessage: '<script>window.__pwned=2</script>',
            lastCalledAt: new Date(),
          },
        ],
      });
      const { page } = await open(gw);
      await page.evaluate((token) => sessionStorage.setItem('gatewayz.dashboard.token', token), TOKEN);
      await page.reload();
      await waitForRefresh(page, 0, 'ready');
      await page.waitForSelector('#alert-banner', { state: 'visible' });
      const row = page.locator('#model-rows tr', {
        has: page.locator(`th[data-column="model"]`, { hasText: hostile }),
      });
      await expect(row.count()).resolves.toBe(1);
      await expect(page.textContent('#alert-list')).resolves.toContain(hostile);
      expect(await page.$$('main img, main script')).toHaveLength(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    });
  });
});
