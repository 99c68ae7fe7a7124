import type { Attributes } from '@opentelemetry/api';
import { detectResources, resourceFromAttributes, type ResourceDetector } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { resourceKeepingEveryKey } from '../src/sdk/resource-keeping-every-key.js';
import { resourceSources, type ResourceSourcesOptions } from '../src/sdk/resource-sources.js';

/** The resource's attributes, merged as startSdkProviders() merges the sources, once they settled. */
async function resourceOf(options: ResourceSourcesOptions, codeAttributes: Attributes = {}): Promise<Attributes> {
  const sources = resourceSources(options);
  const resource = resourceKeepingEveryKey(
    resourceFromAttributes(sources.defaultAttributes)
      .merge(detectResources({ detectors: sources.detectors }))
      .merge(resourceFromAttributes(sources.envAttributes))
      .merge(resourceFromAttributes(codeAttributes)),
  );
  await resource.waitForAsyncAttributes?.();
  return resource.attributes;
}

const detector = (instanceId: string | Promise<string>): ResourceDetector => ({
  detect: () => ({ attributes: { 'service.instance.id': instanceId, team: 'routing' } }),
});

describe('service.instance.id of a node:cluster worker', () => {
  it('appends -worker-<id> to the one OTEL_RESOURCE_ATTRIBUTES gives, which every worker inherits', async () => {
    const envAttributes = { 'service.instance.id': 'gateway-7f9c', 'deployment.environment': 'prod' };
    const workers = await Promise.all(
      [1, 2].map((clusterWorkerId) =>
        resourceOf({ envAttributes, detectors: [], needsInstanceId: true, clusterWorkerId }, { 'service.name': 'gw' }),
      ),
    );
    expect(workers.map((attributes) => attributes['service.instance.id'])).toEqual([
      'gateway-7f9c-worker-1',
      'gateway-7f9c-worker-2',
    ]);
    expect(workers[0]).toMatchObject({ 'service.name': 'gw', 'deployment.environment': 'prod' });
    // The caller's attributes are not changed.
    expect(envAttributes['service.instance.id']).toBe('gateway-7f9c');
  });

  it('keeps keys naming members of Object.prototype', async () => {
    const envAttributes = JSON.parse('{"__proto__":"x","service.instance.id":"pod-a"}') as Attributes;
    const attributes = await resourceOf({ envAttributes, detectors: [], needsInstanceId: true, clusterWorkerId: 4 });
    expect(Object.hasOwn(attributes, '__proto__')).toBe(true);
    expect(attributes['service.instance.id']).toBe('pod-a-worker-4');
  });

  it("gives a detector's id, found at once or asynchronously (the application's detectors too), the same suffix", async () => {
    const options = { envAttributes: {}, needsInstanceId: true, clusterWorkerId: 3 };
    expect(await resourceOf({ ...options, detectors: [detector('pod-b')] })).toMatchObject({
      'service.instance.id': 'pod-b-worker-3',
      team: 'routing',
    });
    expect(await resourceOf({ ...options, detectors: [detector(Promise.resolve('pod-c'))] })).toMatchObject({
      'service.instance.id': 'pod-c-worker-3',
    });
    // OTEL_RESOURCE_ATTRIBUTES still wins over a detector.
    const both = await resourceOf({
      ...options,
      envAttributes: { 'service.instance.id': 'pod-a' },
      detectors: [detector('pod-b')],
    });
    expect(both['service.instance.id']).toBe('pod-a-worker-3');
  });

  it('leaves the random id of a worker whose configuration gives none as it is: it is unique already', async () => {
    const attributes = await resourceOf({
      envAttributes: {},
      detectors: [],
      needsInstanceId: true,
      clusterWorkerId: 2,
    });
    expect(attributes['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('service.instance.id of a process that is no cluster worker', () => {
  it('is the configured one as given, or a random one when none is configured and one is needed', async () => {
    const single = { needsInstanceId: true, clusterWorkerId: undefined };
    const given = detector('pod-b');
    expect(resourceSources({ ...single, envAttributes: {}, detectors: [given] }).detectors[0]).toBe(given);
    expect(
      (await resourceOf({ ...single, envAttributes: { 'service.instance.id': 'pod-a' }, detectors: [] }))[
        'service.instance.id'
      ],
    ).toBe('pod-a');
    expect(
      (await resourceOf({ ...single, envAttributes: {}, detectors: [detector('pod-b')] }))['service.instance.id'],
    ).toBe('pod-b');
    expect((await resourceOf({ ...single, envAttributes: {}, detectors: [] }))['service.instance.id']).toMatch(
      /^[0-9a-f-]{36}$/,
    );
    const none = await resourceOf({
      envAttributes: {},
      detectors: [],
      needsInstanceId: false,
      clusterWorkerId: undefined,
    });
    expect(none['service.instance.id']).toBeUndefined();
    expect(none).toMatchObject({ 'process.pid': process.pid, 'process.runtime.name': 'nodejs' });
  });
});
