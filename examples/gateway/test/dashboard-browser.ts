/**
 * Helpers of the dashboard end-to-end test: find and launch headless Chromium (skip locally, fail
 * under CI=true when it is missing), watch pages for errors and CSP violations, read the rendered
 * tables, and format API values the way the page should show them (written independently of the
 * page's own code, so a formatting bug shows up as a mismatch).
 */
import { accessSync, constants } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { findExecutable, requireComponent } from '../../../test-support/prometheus.js';

export const CHROMIUM_INSTALL_HINT =
  'install it with `sudo apt-get install -y chromium` (Debian/Ubuntu; provides /usr/bin/chromium), or point CHROMIUM_PATH at a Chromium or Chrome binary';

function executable(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/** `CHROMIUM_PATH`, else `chromium`, `google-chrome` or `chromium-browser` on PATH or in /usr/bin. */
export function findChromium(): string | undefined {
  return (
    executable(process.env['CHROMIUM_PATH']) ??
    findExecutable('chromium') ??
    findExecutable('google-chrome') ??
    findExecutable('chromium-browser')
  );
}

/** The Chromium binary, or undefined (skip) locally; throws under CI=true when missing. */
export function requireChromium(): string | undefined {
  const found = findChromium();
  return requireComponent('chromium', found, CHROMIUM_INSTALL_HINT) ? found : undefined;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/** Everything that went wrong in a page: uncaught errors, console errors, CSP violations. */
export interface PageProblems {
  errors: string[];
  console: string[];
  csp(): Promise<string[]>;
}

/** A fresh context and page whose problems are recorded. */
export async function openPage(
  browser: Browser,
  options: { width?: number; height?: number; isMobile?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    ...(options.isMobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    locale: 'en-GB',
    colorScheme: 'light',
  });
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const problems: PageProblems = {
    errors: [],
    console: [],
    csp: () =>
      page
        .evaluate(() => [...((window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])])
        .catch(() => []),
  };
  page.on('pageerror', (error) => problems.errors.push(error.message));
  page.on('console', (message) => {
    // 401s are expected in the token test; the browser logs every failed fetch as a console error.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.console.push(message.text());
  });
  return { context, page, problems };
}

/** Wait until the page finished a refresh after `after` refreshes (default: any). */
export async function waitForRefresh(
  page: Page,
  after = 0,
  state: string | RegExp = /^(ready|error|unauthorized)$/,
): Promise<void> {
  await page.waitForFunction(
    ({ after, pattern, flags }) => {
      const body = document.body;
      return (
        Number(body.dataset['refreshes'] ?? 0) > after && new RegExp(pattern, flags).test(body.dataset['state'] ?? '')
      );
    },
    typeof state === 'string'
      ? { after, pattern: `^${state}$`, flags: '' }
      : { after, pattern: state.source, flags: state.flags },
  );
}

export async function refreshCount(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset['refreshes'] ?? 0));
}

export interface RenderedRow {
  provider: string;
  model: string;
  health: string;
  cells: Record<string, string>;
}

export async function renderedRows(page: Page): Promise<RenderedRow[]> {
  return page.$$eval('#model-rows tr[data-provider]', (rows) =>
    rows.map((row) => {
      const element = row as HTMLElement;
      const cells: Record<string, string> = {};
      for (const cell of Array.from(element.children) as HTMLElement[])
        cells[cell.dataset['column'] ?? ''] = (cell.textContent ?? '').trim();
      return {
        provider: element.dataset['provider'] ?? '',
        model: element.dataset['model'] ?? '',
        health: element.dataset['health'] ?? '',
        cells,
      };
    }),
  );
}

/** Wait until the table shows exactly these (provider, model) rows, in any order. */
export async function waitForRowKeys(page: Page, keys: string[]): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const shown = Array.from(document.querySelectorAll<HTMLElement>('#model-rows tr[data-provider]'))
        .map((row) => `${row.dataset['provider']}/${row.dataset['model']}`)
        .sort();
      return JSON.stringify(shown) === JSON.stringify(expected);
    },
    [...keys].sort(),
  );
}

export const keyOf = (item: { provider: string; model: string }): string => `${item.provider}/${item.model}`;

// --- expected formatting --------------------------------------------------------------------------

export const fmtInt = (value: number): string =>
  new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(value);
export const fmtPercent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
export function fmtMs(ms: number | null): string {
  if (ms === null) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** USD as the page shows it: `$0`, two decimals from $1, three significant digits below. */
export function fmtUsd(value: number): string {
  if (value === 0) return '$0';
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(3)}`;
}

/** Sum of `*cost_by_provider_total` samples by provider, from exposition text (test-side parser). */
export function costsFromExposition(text: string): Map<string, number> {
  const costs = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w*cost_by_provider_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const provider = /provider="([^"]*)"/.exec(match[2] as string)?.[1];
    if (provider !== undefined) costs.set(provider, (costs.get(provider) ?? 0) + Number(match[3]));
  }
  return costs;
}

/**
 * Text whose colour contrast against its effective background is below WCAG AA (4.5:1, or 3:1 for
 * large text), for every visible text node outside disabled controls. Backgrounds are the nearest
 * opaque ancestor background; SVG text uses its `fill`.
 */
export async function contrastProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (color: string): [number, number, number, number] | undefined => {
      const match = /rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[,/ ]+([\d.]+))?\)/.exec(color);
      return match
        ? [Number(match[1]), Number(match[2]), Number(match[3]), match[4] === undefined ? 1 : Number(match[4])]
        : undefined;
    };
    const luminance = ([r, g, b]: number[]): number => {
      const channel = (value: number): number => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
    };
    const background = (element: Element | null): number[] => {
      for (let node = element; node !== null; node = node.parentElement) {
        const color = parse(getComputedStyle(node).backgroundColor);
        if (color !== undefined && color[3] >= 0.99) return color;
      }
      return [255, 255, 255];
    };
    const problems: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const text = (node.textContent ?? '').trim();
      const element = node.parentElement;
      if (text === '' || element === null) continue;
      if (
        element.closest(
          '[hidden], .visually-hidden, [aria-hidden="true"], button:disabled, noscript, script, style, title',
        ) !== null
      )
        continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(element);
      const isSvg = element instanceof SVGElement;
      const foreground = parse(isSvg ? style.fill : style.color);
      if (foreground === undefined) continue;
      const back = background(isSvg ? (element.closest('svg')?.parentElement ?? null) : element);
      const [light, dark] = [luminance(foreground), luminance(back)].sort((a, b) => b - a) as [number, number];
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)}:1`);
    }
    return problems;
  });
}
