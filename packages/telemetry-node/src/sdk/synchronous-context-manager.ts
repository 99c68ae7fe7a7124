import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

/**
 * An OpenTelemetry context manager without async hooks: `context.with(ctx, fn)` makes `ctx` active
 * for the synchronous run of `fn` only, and the previous context is active again as soon as `fn`
 * returns (or throws), even when `fn` returns a promise that settles later.
 *
 * Why: on Node.js 20 the default `AsyncLocalStorage` context manager makes every promise in the
 * process pay for an async hook once it is first used (about 240 ns per `await` on our machines), a
 * few per cent of a gateway's CPU. Code that passes its `Context` explicitly across `await`s
 * (`tracer.startSpan(name, options, ctx)`, `propagation.inject(ctx, headers)`, and
 * `context.with(ctx, …)` around the synchronous calls that read the active span: metric recording
 * for exemplars, log calls for trace correlation) keeps every trace feature without that cost.
 *
 * The trade-off: instrumentation that relies on the active context surviving an `await` (for
 * example auto-instrumentation of outgoing HTTP calls made inside a request span) no longer sees
 * the request's span and starts new traces instead. `bind(ctx, fn)` returns a function that runs
 * `fn` with `ctx` active; event emitters are returned unchanged.
 *
 * Chosen with `startTelemetry({ contextManager: 'synchronous' })`.
 *
 * @example
 * ```ts
 * import { context, trace } from '@opentelemetry/api';
 *
 * const otel = startTelemetry({ contextManager: 'synchronous' });
 * const span = otel.tracer.startSpan('POST /v1/chat/completions');
 * const requestContext = trace.setSpan(context.active(), span);
 * await callProvider(requestContext); // pass the context on explicitly
 * context.with(requestContext, () => recordProviderResponseTime('openai', 0.42)); // exemplar = this span
 * span.end();
 * ```
 */
export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  /** A manager with the root context active. `enable()` is optional: there is nothing to hook. */
  constructor() {}

  /** The context of the innermost `with()` running now, or the root context outside any. */
  active(): Context {
    return this.current;
  }

  /** Run `fn` with `context` active, and restore the previous context when `fn` returns or throws. */
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  /** A function that runs `target` with `context` active; anything else is returned unchanged. */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs both its own `this` and the manager
    const manager = this;
    const original = target as unknown as (...args: unknown[]) => unknown;
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return manager.with(context, original, this, ...args);
    };
    Object.defineProperty(bound, 'length', { value: original.length });
    return bound as unknown as T;
  }

  /** Nothing to set up: there are no hooks. Returns the manager. */
  enable(): this {
    return this;
  }

  /** Make the root context active again. Returns the manager. */
  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
