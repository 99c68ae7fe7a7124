import type { Outcome } from './client-types.js';

/**
 * The dashboard's browser code that reads the API: a GET with the bearer token that reports
 * failures as values, and the cost counters of a Prometheus exposition. Self-contained, like
 * `dashboardClient`, for the same reason.
 */
export function dashboardApi() {
  async function get<T>(path: string, kind: 'json' | 'text', signal: AbortSignal, token: string): Promise<Outcome<T>> {
    const headers: Record<string, string> = { accept: kind === 'json' ? 'application/json' : 'text/plain' };
    if (token !== '') headers['authorization'] = `Bearer ${token}`;
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
  return { get, parseCosts };
}

/** What `dashboardApi` returns. */
export type DashboardApi = ReturnType<typeof dashboardApi>;
