import type { Context } from 'hono';
import { routePath } from 'hono/route';
import { PatternRouter } from 'hono/router/pattern-router';
import type { RouterRoute } from 'hono/types';

/** The `http.route` / `path` label of a request no route template describes. */
export const UNMATCHED_ROUTE = 'other';

/** The label of a registered route path: the path without its parameters' `{regex}` constraints and optional marks. */
export function routeLabelOf(path: string): string {
  return path.replace(/\{[^}]*\}/g, '').replace(/\?(?=\/|$)/g, '');
}

/**
 * Route templates for HTTP metrics, span names and logs, so they never carry raw client paths.
 *
 * A request answered by a registered route gets that route's path, as Hono matched it
 * (`routePath`). A request no concrete route answers (a wildcard catch-all, the wrong method on a
 * known path, a trailing slash, an unknown path) is matched, method aside and with one trailing
 * slash allowed (Hono's PatternRouter), against the same templates plus `nested` ones (sub-routes
 * a catch-all's handler answers itself), and gets `other` when none fits: the label it got from
 * the table the gateway kept before its routes came from Hono.
 */
export class RouteTemplates {
  /** Label by registered path, for the routes matched on the request path (index 0 is the instrumentation). */
  private readonly labels = new Map<string, string>();
  private readonly unmatched = new PatternRouter<string>();

  /**
   * Learn the routes registered on the app (call once, after registering them). `nested`: route
   * paths answered inside a catch-all route, in the order they are tried.
   */
  learn(routes: readonly RouterRoute[], nested: readonly string[] = []): void {
    const templates: string[] = [];
    for (const { path } of routes) {
      if (path.includes('*') || this.labels.has(path)) continue;
      this.labels.set(path, routeLabelOf(path));
      templates.push(path);
    }
    for (const path of [...templates, ...nested]) this.unmatched.add('ALL', path, routeLabelOf(path));
  }

  /** The label of the request in `c`; the first middleware must be the only one before the routes. */
  of(c: Context): string {
    return this.labels.get(routePath(c, 1)) ?? this.unmatchedLabel(c.req.path);
  }

  private unmatchedLabel(path: string): string {
    const [matches] = this.unmatched.match('ALL', path);
    return matches[0]?.[0] ?? UNMATCHED_ROUTE;
  }
}
