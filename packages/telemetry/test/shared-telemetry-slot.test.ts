import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PACKAGE_VERSION } from '../src/index.js';
import { CollectingDiagLogger } from './helpers.js';

// Two evaluations of the shared-instance module stand for the ESM and CommonJS builds of the package
// loaded side by side (packages/telemetry-node/test/dual-build.test.ts does it with the real builds).
type SharedModule = typeof import('../src/metrics/shared-telemetry.js');
const SLOT_KEY = Symbol.for('@gatewayz/telemetry.shared-telemetry');
const holder = globalThis as Record<symbol, unknown>;

async function freshCopy(): Promise<SharedModule> {
  vi.resetModules();
  return import('../src/metrics/shared-telemetry.js');
}

let logger: CollectingDiagLogger;
beforeEach(() => {
  logger = new CollectingDiagLogger().install();
  delete holder[SLOT_KEY];
});
afterEach(() => {
  CollectingDiagLogger.uninstall();
  delete holder[SLOT_KEY];
  vi.resetModules();
});

describe('the shared instance across copies of the package in one process', () => {
  it('is one instance for every copy of the same version, whichever copy creates or replaces it', async () => {
    const first = await freshCopy();
    const second = await freshCopy();
    expect(first.getTelemetry).not.toBe(second.getTelemetry);
    const created = second.getTelemetry();
    expect(first.peekTelemetry()).toBe(created);
    expect(first.getTelemetry()).toBe(created);
    const configured = first.configureTelemetry({ prefix: 'acme_' });
    expect(second.getTelemetry()).toBe(configured);
    second.setTelemetry(undefined);
    expect(first.peekTelemetry()).toBeUndefined();
    expect(logger.ownWarnings).toEqual([]);
  });

  it('keeps a separate instance, and says so once, when another version of the package holds the slot', async () => {
    Object.defineProperty(holder, SLOT_KEY, {
      value: { version: '0.0.1-other', telemetry: undefined },
      configurable: true,
    });
    const copy = await freshCopy();
    const telemetry = copy.getTelemetry();
    expect(copy.getTelemetry()).toBe(telemetry);
    expect((holder[SLOT_KEY] as { telemetry: unknown }).telemetry).toBeUndefined();
    expect(logger.ownWarnings).toEqual([
      `@gatewayz/telemetry: versions 0.0.1-other and ${PACKAGE_VERSION} are both loaded; each keeps its own ` +
        'shared instance, so metrics recorded through both are exposed twice. Install one version ' +
        '(npm ls @gatewayz/telemetry).',
    ]);
  });
});
