import type { Hono } from 'hono';
import { PatternRouter } from 'hono/router/pattern-router';
import type { Env } from 'hono/types';

/**
 * The methods each registered path answers, for the `Allow` header of a 405. Learned from the
 * app's method-specific routes (catch-all `app.all` routes answer every method themselves); a
 * path with a trailing slash is a different path, so it gets none.
 */
export class AllowedMethods<E extends Env = Env> {
  private readonly methods = new PatternRouter<string>();
  private readonly app: Pick<Hono<E>, 'routes'>;

  constructor(app: Pick<Hono<E>, 'routes'>) {
    this.app = app;
  }

  /** Learn the routes registered on the app (call once, after registering them). */
  learn(): void {
    for (const { method, path } of this.app.routes) {
      if (method === 'ALL' || path.includes('*')) continue;
      this.methods.add('ALL', path, method);
      if (method === 'GET') this.methods.add('ALL', path, 'HEAD');
    }
  }

  /** The methods `path` answers, sorted; empty for a path the gateway does not serve. */
  of(path: string): string[] {
    if (path.length > 1 && path.endsWith('/')) return [];
    const [matches] = this.methods.match('ALL', path);
    return [...new Set(matches.map(([method]) => method))].sort();
  }
}
