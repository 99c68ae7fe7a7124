import { diag, type Attributes } from '@opentelemetry/api';
import type { RawResourceAttribute, Resource } from '@opentelemetry/resources';

/**
 * A resource whose `attributes` keep every key. The SDK's resource builds its `attributes` on a
 * plain object and sets a key only where reading it finds nothing, so a key that names a member of
 * `Object.prototype` (`constructor`, `toString`, `__proto__`: legal attribute keys, which
 * `OTEL_RESOURCE_ATTRIBUTES` can carry) finds the inherited member and is dropped from every signal.
 * Here each key is an own property; everything else (precedence of merged resources, the first
 * value that is neither `null` nor `undefined` winning, asynchronous attributes left out until
 * they settle) is the SDK resource's, which this one reads its raw attributes from.
 */
class ResourceKeepingEveryKey implements Resource {
  private settled: Attributes | undefined;
  /** Whether an early read was reported: once, not on every scrape while a detector hangs. */
  private readEarly = false;

  constructor(private readonly resource: Resource) {}

  get asyncAttributesPending(): boolean {
    return this.resource.asyncAttributesPending === true;
  }

  get schemaUrl(): string | undefined {
    return this.resource.schemaUrl;
  }

  get attributes(): Attributes {
    if (this.settled !== undefined) return this.settled;
    const pending = this.asyncAttributesPending;
    if (pending && !this.readEarly) {
      this.readEarly = true;
      diag.error('@gatewayz/telemetry-node: resource attributes read before the asynchronous ones settled');
    }
    const attributes: Attributes = {};
    for (const [key, value] of this.resource.getRawAttributes()) {
      if (value === null || value === undefined || isPromiseLike(value) || Object.hasOwn(attributes, key)) continue;
      // Defined, not assigned: an assignment to `__proto__` would set the prototype instead.
      Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
    }
    if (!pending) this.settled = attributes;
    return attributes;
  }

  async waitForAsyncAttributes(): Promise<void> {
    await this.resource.waitForAsyncAttributes?.();
  }

  merge(other: Resource | null): Resource {
    return resourceKeepingEveryKey(this.resource.merge(other));
  }

  getRawAttributes(): RawResourceAttribute[] {
    return this.resource.getRawAttributes();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * `resource` with `attributes` that keep keys naming members of `Object.prototype` (see
 * `ResourceKeepingEveryKey`): what `startTelemetry()` gives the SDK's providers, and what a cluster
 * worker serves the primary's merged metrics under.
 *
 * @example
 * ```ts
 * const resource = resourceKeepingEveryKey(resourceFromAttributes({ constructor: 'x', team: 'llm' }));
 * resource.attributes; // { constructor: 'x', team: 'llm' }
 * ```
 */
export function resourceKeepingEveryKey(resource: Resource): Resource {
  return resource instanceof ResourceKeepingEveryKey ? resource : new ResourceKeepingEveryKey(resource);
}
