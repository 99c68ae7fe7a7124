import { ROOT_CONTEXT, context, type Context } from '@opentelemetry/api';

/**
 * Registers a minimal synchronous global context manager (no async propagation), enough for code
 * that reads the active span in the same call stack, such as exemplar capture. Returns the undo.
 */
export function useSynchronousContext(): () => void {
  let active: Context = ROOT_CONTEXT;
  context.setGlobalContextManager({
    active: () => active,
    with: (next, fn, thisArg, ...args) => {
      const previous = active;
      active = next;
      try {
        return fn.call(thisArg, ...args);
      } finally {
        active = previous;
      }
    },
    bind: (_context, target) => target,
    enable() {
      return this;
    },
    disable() {
      return this;
    },
  });
  return () => context.disable();
}
