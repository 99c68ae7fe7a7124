import { diag } from '@opentelemetry/api';

/**
 * Functions run just before a metric's series are read by a collection, so a value that grows with
 * time (a circuit breaker's open time) is exact at the moment it is read. A failing hook is logged
 * and the collection goes on.
 */
export class CollectHooks<Key extends string = string> {
  private readonly hooks = new Map<Key, Set<() => void>>();

  /** Run `hook` before every collection of `key`; returns a function that removes it. */
  add(key: Key, hook: () => void): () => void {
    let set = this.hooks.get(key);
    if (set === undefined) this.hooks.set(key, (set = new Set()));
    set.add(hook);
    return () => {
      set.delete(hook);
    };
  }

  /** Run the hooks of one metric. */
  run(key: Key): void {
    const set = this.hooks.get(key);
    if (set === undefined) return;
    for (const hook of set) {
      try {
        hook();
      } catch (error) {
        diag.warn(`@gatewayz/telemetry: a collection hook of ${key} failed: ${String(error)}`);
      }
    }
  }

  /** Run the hooks of every metric. */
  runAll(): void {
    for (const key of this.hooks.keys()) this.run(key);
  }
}
