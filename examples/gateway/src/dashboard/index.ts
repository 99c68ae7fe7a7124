import { renderDashboardPage, type DashboardPageOptions } from './page.js';

export { renderDashboardPage, type DashboardPage, type DashboardPageOptions } from './page.js';
export {
  DEFAULT_HEALTH_THRESHOLDS,
  classifyModelHealth,
  describeThresholds,
  type HealthThresholds,
  type ModelHealthBadge,
} from './thresholds.js';

/** A fetch-style handler for the dashboard page, plus a route test for mounting it. */
export interface DashboardHandler {
  (request: Request): Response;
  handles(pathname: string): boolean;
}

export const DASHBOARD_PATH = '/dashboard';

export interface DashboardHandlerOptions extends DashboardPageOptions {
  /** Path the page is served at. Default `/dashboard` (a trailing slash is accepted too). */
  path?: string;
}

function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify({
      error: {
        message,
        type: 'invalid_request_error',
        code: status === 405 ? 'method_not_allowed' : 'not_found',
        param: null,
      },
    }),
    {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    },
  );
}

/**
 * Serves the model-health dashboard at `GET /dashboard`: one self-contained HTML page (inline CSS
 * and script, no external assets) that reads `/v1/model-health/*`, `/prometheus/metrics/summary`
 * and `/prometheus/metrics/business` from the browser. The response carries a strict
 * Content-Security-Policy (no inline code but the page's own hashed script and style, same-origin
 * fetches only, Trusted Types, no framing).
 *
 * The page itself is public (it holds no data); the APIs it calls keep their own bearer-token check,
 * and the page asks for the token when they answer 401.
 *
 * @example
 * ```ts
 * const dashboard = createDashboardHandler();
 * app.get('/dashboard', (c) => dashboard(c.req.raw));
 * ```
 */
export function createDashboardHandler(options: DashboardHandlerOptions = {}): DashboardHandler {
  const path = (options.path ?? DASHBOARD_PATH).replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(path) || path === '')
    throw new RangeError(`path must be an absolute URL path such as ${DASHBOARD_PATH}`);
  const { html, contentSecurityPolicy } = renderDashboardPage(options);
  const body = new TextEncoder().encode(html);
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': 'no-cache',
  };

  const handles = (pathname: string): boolean => pathname === path || pathname === `${path}/`;

  const handler = (request: Request): Response => {
    const url = new URL(request.url);
    if (!handles(url.pathname)) return plain(404, `No dashboard at ${url.pathname.slice(0, 128)}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return plain(405, `Method ${request.method} not allowed; use GET`, { allow: 'GET, HEAD' });
    }
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: { ...headers, 'content-length': String(body.byteLength) },
    });
  };

  return Object.assign(handler, { handles });
}
