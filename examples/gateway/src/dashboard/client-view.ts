import type { DashboardClientConfig } from './client.js';
import type { Column, Health, ModelItem } from './client-types.js';

/**
 * Formatting, text-only DOM helpers and the model table's columns of the dashboard's browser code.
 * Embedded in the page with `Function.prototype.toString` like `dashboardClient`, so it must stay
 * self-contained: no references to anything declared outside it (types are erased).
 */
export function dashboardView(config: DashboardClientConfig) {
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

  return { integer, percent, milliseconds, usd, clock, healthOf, byId, el, svg, badge, timeCell, columns };
}

/** What `dashboardView` returns. */
export type DashboardView = ReturnType<typeof dashboardView>;
