/**
 * What `startTelemetry()` builds the one resource of every signal from (see `startSdkProviders`),
 * with the `service.instance.id` that tells apart the processes that push or share a port.
 */
import { randomUUID } from 'node:crypto';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { DetectedResourceAttributes, ResourceDetector } from '@opentelemetry/resources';

const INSTANCE_ID = 'service.instance.id';

/** Options of {@link resourceSources}. */
export interface ResourceSourcesOptions {
  /** `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`, as `resourceAttributesFromEnv(env)` read them. */
  envAttributes: Attributes;
  /** The detectors to run, in order: those `OTEL_NODE_RESOURCE_DETECTORS` names, then the application's. */
  detectors: readonly ResourceDetector[];
  /** Whether the process pushes metrics or runs in cluster mode: it then needs an instance id of its own. */
  needsInstanceId: boolean;
  /** `cluster.worker.id` in a node:cluster worker; `undefined` in any other process. */
  clusterWorkerId: number | undefined;
}

/** The sources `startSdkProviders()` merges, in its order. */
export interface ResourceSources {
  defaultAttributes: Attributes;
  detectors: ResourceDetector[];
  envAttributes: Attributes;
}

/**
 * The resource's sources. A process that needs an instance id gets a random one unless
 * `OTEL_RESOURCE_ATTRIBUTES` gives one. In a node:cluster worker, a `service.instance.id` the
 * configuration gives (`OTEL_RESOURCE_ATTRIBUTES`, or a detector, the application's included) gets
 * `-worker-<cluster.worker.id>` appended: every worker inherits the primary's environment, and
 * workers pushing the same cumulative series under one identity would look to a backend like one
 * counter jumping between their values. Elsewhere the sources are used as given.
 *
 * @example
 * ```ts
 * const { envAttributes } = resourceSources({
 *   envAttributes: { 'service.instance.id': 'gateway-7f9c' },
 *   detectors: [],
 *   needsInstanceId: true,
 *   clusterWorkerId: 2,
 * });
 * envAttributes['service.instance.id']; // 'gateway-7f9c-worker-2'
 * ```
 */
export function resourceSources(options: ResourceSourcesOptions): ResourceSources {
  const { envAttributes, clusterWorkerId } = options;
  const defaultAttributes: Attributes = {
    ...(options.needsInstanceId && envAttributes[INSTANCE_ID] === undefined ? { [INSTANCE_ID]: randomUUID() } : {}),
    // The stock process detector exports the command line, which can carry secrets; these
    // harmless process attributes stand in for it.
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  };
  if (clusterWorkerId === undefined) return { defaultAttributes, detectors: [...options.detectors], envAttributes };
  const perWorker = (value: AttributeValue | undefined): AttributeValue | undefined =>
    typeof value === 'string' || typeof value === 'number' ? `${value}-worker-${clusterWorkerId}` : value;
  return {
    defaultAttributes,
    detectors: options.detectors.map((detector) => perWorkerDetector(detector, perWorker)),
    envAttributes: withInstanceId(envAttributes, perWorker),
  };
}

/** A copy of `attributes` with its instance id mapped; keys such as `__proto__` stay own keys. */
function withInstanceId(
  attributes: Attributes,
  perWorker: (value: AttributeValue | undefined) => AttributeValue | undefined,
): Attributes {
  const copy: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    const mapped = key === INSTANCE_ID ? perWorker(value) : value;
    Object.defineProperty(copy, key, { value: mapped, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** `detector`, its instance id mapped, whether it detects it at once or asynchronously. */
function perWorkerDetector(
  detector: ResourceDetector,
  perWorker: (value: AttributeValue | undefined) => AttributeValue | undefined,
): ResourceDetector {
  return {
    detect: (config) => {
      const detected = detector.detect(config);
      const value = detected.attributes?.[INSTANCE_ID];
      if (value === undefined) return detected;
      // Spread, not assigned: spreading defines keys such as `__proto__` as own keys.
      const attributes: DetectedResourceAttributes = {
        ...detected.attributes,
        [INSTANCE_ID]: value instanceof Promise ? value.then(perWorker) : perWorker(value),
      };
      return { ...detected, attributes };
    },
  };
}
