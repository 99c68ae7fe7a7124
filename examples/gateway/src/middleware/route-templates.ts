import type { Hono } from 'hono';
import { PatternRouter } from 'hono/router/pattern-router';
import type { Env } from 'hono/types';

/** The `http.route` / `path` label of a request no route template describes. */
export const UNMATCHED_ROUTE = 'other';

/** The label of a registered route path: the path without its parameters' `{regex}` constraints and optional marks. */
export function routeLabelOf(path: string): string {
  return path.replace(/\{[^}]*\}/g, '').replace(/\?(?=\/|$)/g, '');
}

/**
 * Route templates for HTTP metrics, span names and logs, so they never carry raw client paths.
 *
 * A request answered by a registered route gets that route's path, as the app's router matches
 * it. A request no concrete route answers (a wildcard catch-all, the wrong method on a known path,
 * a trailing slash, an unknown path) is matched, method aside and with one trailing slash allowed
 * (Hono's PatternRouter), against the same templates plus `nested` ones (sub-routes a catch-all's
 * handler answers itself), and gets `other` when none fits: the label it got from the table the
 * gateway kept before its routes came from Hono.
 *
 * The route is asked of `app.router` rather than of `routePath(c, -1)` from `hono/route`: that
 * helper maps the request's matched routes into a new array (and a callback) on every call, while
 * the RegExpRouter answers a static path from a prebuilt table, allocating nothing per request.
 */
export class RouteTemplates<E extends Env = Env> {
  /** Label by registered path. */
  private readonly labels = new Map<string, string>();
  private readonly unmatched = new PatternRouter<string>();
  private readonly app: Pick<Hono<E>, 'router' | 'routes'>;

  /** `app`: its first middleware (index 0 of every match) must be the one asking for labels. */
  constructor(app: Pick<Hono<E>, 'router' | 'routes'>) {
    this.app = app;
  }

  /**
   * Learn the routes registered on the app (call once, after registering them). `nested`: route
   * paths answered inside a catch-all route, in the order they are tried.
   */
  learn(nested: readonly string[] = []): void {
    const templates: string[] = [];
    for (const { path } of this.app.routes) {
      if (path.includes('*') || this.labels.has(path)) continue;
      this.labels.set(path, routeLabelOf(path));
      templates.push(path);
    }
    for (const path of [...templates, ...nested]) this.unmatched.add('ALL', path, routeLabelOf(path));
  }

  /** The label of a request for `path` (`c.req.path`) with `method` (`c.req.method`). */
  of(method: string, path: string): string {
    const [matched] = this.app.router.match(method, path);
    // [0] is the instrumentation middleware; [1] the first route, the one that answers.
    const route = matched[1]?.[0][1];
    return (route !== undefined ? this.labels.get(route.path) : undefined) ?? this.unmatchedLabel(path);
  }

  private unmatchedLabel(path: string): string {
    const [matches] = this.unmatched.match('ALL', path);
    return matches[0]?.[0] ?? UNMATCHED_ROUTE;
  }
}
