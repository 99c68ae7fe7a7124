import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnomalyDetector, type AnomalyDetectorOptions, type DetectedAnomaly } from '../src/provider-health/index.js';
import { TelemetryConfigurationError } from '../src/errors.js';
import { CollectingDiagLogger, createTelemetry, type MetricsHarness } from './helpers.js';

/** A clock the test moves by hand. */
class TestClock {
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
}

const SECOND = 1_000;
const MINUTE = 60_000;

/** Small windows and sample minimums so scenarios stay readable. */
const OPTIONS: AnomalyDetectorOptions = {
  windowMs: MINUTE,
  baselineWindowMs: 5 * MINUTE,
  bucketMs: 10 * SECOND,
  cooldownMs: 5 * MINUTE,
  latency: { multiplier: 3, minIncreaseSeconds: 1, minSamples: 5, minBaselineSamples: 10 },
  errors: { threshold: 0.25, minIncrease: 0.1, minSamples: 10, minBaselineSamples: 10 },
};

let logger: CollectingDiagLogger;
const harnesses: MetricsHarness[] = [];

beforeEach(() => {
  logger = new CollectingDiagLogger().install();
});

afterEach(async () => {
  CollectingDiagLogger.uninstall();
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

function setup(overrides: AnomalyDetectorOptions = {}) {
  const { telemetry, harness, collect } = createTelemetry();
  harnesses.push(harness);
  const clock = new TestClock();
  const detector = new AnomalyDetector({ ...OPTIONS, clock, telemetry, ...overrides });
  const anomalies = async (type: string) => (await collect()).value('gatewayz_detected_anomalies', { type });
  return { detector, clock, anomalies, telemetry };
}

interface Traffic {
  provider?: string;
  /** How long to send for, in milliseconds. */
  durationMs: number;
  /** Milliseconds between calls. */
  everyMs: number;
  latencySeconds?: number;
  /** Whether call number `index` of this stretch fails. */
  fails?: (index: number) => boolean;
}

/** Send calls spread over time (the clock moves before each call); returns what the detector reported. */
function send(detector: AnomalyDetector, clock: TestClock, traffic: Traffic): DetectedAnomaly[] {
  const found: DetectedAnomaly[] = [];
  const calls = Math.floor(traffic.durationMs / traffic.everyMs);
  for (let index = 0; index < calls; index++) {
    clock.time += traffic.everyMs;
    const success = !(traffic.fails?.(index) ?? false);
    found.push(
      ...detector.observe({
        provider: traffic.provider ?? 'openai',
        success,
        ...(traffic.latencySeconds !== undefined ? { latencySeconds: traffic.latencySeconds } : {}),
      }),
    );
  }
  return found;
}

describe('AnomalyDetector: options', () => {
  it.each([
    [{ windowMs: 0 }, 'windowMs'],
    [{ bucketMs: 1.5 }, 'bucketMs'],
    [{ windowMs: 65_000, bucketMs: 10_000 }, 'bucketMs'],
    [{ baselineWindowMs: 86_400_000, bucketMs: 1_000 }, 'bucketMs'],
    [{ cooldownMs: -1 }, 'cooldownMs'],
    [{ maxProviders: 0 }, 'maxProviders'],
    [{ latency: { multiplier: 0.5 } }, 'latency.multiplier'],
    [{ latency: { minSamples: 0 } }, 'latency.minSamples'],
    [{ errors: { threshold: 1.5 } }, 'errors.threshold'],
    [{ errors: { minIncrease: 1 } }, 'errors.minIncrease'],
  ] as Array<[AnomalyDetectorOptions, string]>)('rejects %j naming %s', (options, option) => {
    let thrown: unknown;
    try {
      new AnomalyDetector({ clock: new TestClock(), ...options });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TelemetryConfigurationError);
    expect((thrown as TelemetryConfigurationError).option).toBe(option);
  });

  it('has defaults an operator can reason about', () => {
    const detector = new AnomalyDetector({ clock: new TestClock(), telemetry: { recordAnomaly: () => {} } });
    expect(detector.toJSON()).toMatchObject({
      windowMs: 60_000,
      baselineWindowMs: 900_000,
      bucketMs: 10_000,
      cooldownMs: 300_000,
    });
  });
});

describe('AnomalyDetector: latency spikes', () => {
  it('reports one anomaly per spike, however long it lasts', async () => {
    const { detector, clock, anomalies } = setup();
    expect(send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 })).toEqual([]);

    const spikeStart = clock.time;
    const during = send(detector, clock, { durationMs: 4 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 5 });
    expect(during).toHaveLength(1);
    const [spike] = during as [DetectedAnomaly];
    expect(spike).toMatchObject({ type: 'latency_spike', provider: 'openai', baseline: 1 });
    expect(spike.value).toBeGreaterThanOrEqual(3);
    expect(spike.samples).toBeGreaterThanOrEqual(5);
    // Detected within the window, not minutes later.
    expect(spike.at - spikeStart).toBeLessThanOrEqual(MINUTE);
    expect(await anomalies('latency_spike')).toBe(1);
    expect(await anomalies('error_surge')).toBeUndefined();
  });

  it('reports a second spike once the first has cleared and the cooldown has passed', async () => {
    const { detector, clock, anomalies } = setup();
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 });
    expect(send(detector, clock, { durationMs: 2 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 5 })).toHaveLength(1);
    expect(send(detector, clock, { durationMs: 10 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 })).toEqual([]);
    expect(detector.providerStats('openai')?.active.latency_spike).toBe(false);
    expect(send(detector, clock, { durationMs: 2 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 6 })).toHaveLength(1);
    expect(await anomalies('latency_spike')).toBe(2);
  });

  it('treats a new spike inside the cooldown as the tail of the previous one', async () => {
    const { detector, clock, anomalies } = setup();
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 });
    const first = send(detector, clock, { durationMs: 70 * SECOND, everyMs: 5 * SECOND, latencySeconds: 5 });
    expect(first).toHaveLength(1);
    send(detector, clock, { durationMs: 70 * SECOND, everyMs: 5 * SECOND, latencySeconds: 1 });
    expect(detector.providerStats('openai')?.active.latency_spike).toBe(false);

    const second = send(detector, clock, { durationMs: 60 * SECOND, everyMs: 5 * SECOND, latencySeconds: 12 });
    expect(second).toEqual([]);
    expect(detector.providerStats('openai')?.active.latency_spike).toBe(true);
    expect(clock.time - (first[0] as DetectedAnomaly).at).toBeLessThan(5 * MINUTE);
    expect(await anomalies('latency_spike')).toBe(1);
  });

  it('ignores a large relative rise that stays under minIncreaseSeconds', () => {
    const { detector, clock } = setup();
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 0.05 });
    // Four times slower, but only 0.15 s more.
    expect(send(detector, clock, { durationMs: 3 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 0.2 })).toEqual([]);
  });

  it('calls no spike without enough baseline, nor with too few calls in the window', () => {
    const { detector, clock } = setup();
    // A provider that is slow from its first call has no baseline to spike against.
    expect(
      send(detector, clock, { durationMs: 5 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 30, provider: 'new' }),
    ).toEqual([]);

    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1, provider: 'quiet' });
    // A lull, then four slow calls: the window holds fewer than minSamples (5).
    clock.time += 2 * MINUTE;
    expect(
      send(detector, clock, { durationMs: 4 * 5 * SECOND, everyMs: 5 * SECOND, latencySeconds: 9, provider: 'quiet' }),
    ).toEqual([]);
    expect(detector.providerStats('quiet')?.window.latencySamples).toBe(4);
    // The fifth is enough.
    expect(
      send(detector, clock, { durationMs: 5 * SECOND, everyMs: 5 * SECOND, latencySeconds: 9, provider: 'quiet' }),
    ).toMatchObject([{ type: 'latency_spike', provider: 'quiet', value: 9, baseline: 1, samples: 5 }]);
  });

  it('takes latency from successful calls only', () => {
    const { detector, clock } = setup();
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 });
    // Slow failures (timeouts) are an error surge, not a latency spike.
    const found = send(detector, clock, {
      durationMs: 2 * MINUTE,
      everyMs: 5 * SECOND,
      latencySeconds: 30,
      fails: () => true,
    });
    expect(found.map((anomaly) => anomaly.type)).toEqual(['error_surge']);
    expect(detector.providerStats('openai')?.window.meanLatencySeconds).toBeNull();
  });
});

describe('AnomalyDetector: error surges', () => {
  it('reports a surge once the window has minSamples calls and crosses the threshold', async () => {
    const { detector, clock, anomalies } = setup();
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 });
    const found = send(detector, clock, {
      durationMs: 5 * MINUTE,
      everyMs: 5 * SECOND,
      latencySeconds: 1,
      fails: (index) => index % 2 === 0,
    });
    expect(found).toHaveLength(1);
    const [surge] = found as [DetectedAnomaly];
    expect(surge).toMatchObject({ type: 'error_surge', provider: 'openai', baseline: 0 });
    expect(surge.value).toBeGreaterThanOrEqual(0.25);
    expect(surge.samples).toBeGreaterThanOrEqual(10);
    expect(await anomalies('error_surge')).toBe(1);
  });

  it('waits for minSamples even when every call fails', () => {
    const { detector, clock } = setup();
    const found = send(detector, clock, { durationMs: 9 * 5 * SECOND, everyMs: 5 * SECOND, fails: () => true });
    expect(found).toEqual([]);
    clock.time += 5 * SECOND;
    // Without a baseline the threshold alone decides.
    expect(detector.observe({ provider: 'openai', success: false })).toMatchObject([
      { type: 'error_surge', baseline: null, value: 1, samples: 10 },
    ]);
  });

  it('does not call a chronically failing provider a surge, but does call a rise above its usual rate', () => {
    const { detector, clock } = setup();
    // 40% errors is this provider's normal.
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: SECOND, fails: (index) => index % 5 < 2 });
    // 45%, spread evenly: within minIncrease (0.1) of the usual rate.
    expect(
      send(detector, clock, { durationMs: 2 * MINUTE, everyMs: SECOND, fails: (index) => (index * 9) % 20 < 9 }),
    ).toEqual([]);
    const baseline = detector.providerStats('openai')?.baseline.errorRate as number;
    expect(baseline).toBeGreaterThan(0.39);
    const found = send(detector, clock, { durationMs: 2 * MINUTE, everyMs: SECOND, fails: (index) => index % 10 < 7 });
    expect(found).toHaveLength(1);
    expect((found[0] as DetectedAnomaly).baseline).toBeGreaterThan(0.39);
  });

  it('slides: failures older than the window move into the baseline', () => {
    const { detector, clock } = setup();
    send(detector, clock, { durationMs: 50 * SECOND, everyMs: 5 * SECOND, fails: () => true });
    expect(detector.providerStats('openai')?.window).toMatchObject({ calls: 10, errors: 10 });
    send(detector, clock, { durationMs: 2 * MINUTE, everyMs: 5 * SECOND });
    const stats = detector.providerStats('openai');
    expect(stats?.window).toMatchObject({ errors: 0, errorRate: 0 });
    expect(stats?.baseline.errors).toBe(10);
    // After window + baseline the ring has forgotten them.
    clock.time += 7 * MINUTE;
    expect(detector.providerStats('openai')?.baseline).toMatchObject({ calls: 0, errors: 0 });
  });
});

describe('AnomalyDetector: isolation, bounds and bad input', () => {
  it('keeps providers apart', () => {
    const { detector, clock } = setup();
    for (let index = 0; index < 72; index++) {
      clock.time += 5 * SECOND;
      detector.observe({ provider: 'openai', success: true, latencySeconds: 1 });
      detector.observe({ provider: 'anthropic', success: true, latencySeconds: 1 });
    }
    const found: DetectedAnomaly[] = [];
    for (let index = 0; index < 24; index++) {
      clock.time += 5 * SECOND;
      found.push(...detector.observe({ provider: 'openai', success: true, latencySeconds: 1 }));
      found.push(...detector.observe({ provider: 'anthropic', success: false }));
    }
    expect(found.map((anomaly) => `${anomaly.provider}:${anomaly.type}`)).toEqual(['anthropic:error_surge']);
  });

  it('forgets the provider seen least recently beyond maxProviders', () => {
    const { detector, clock } = setup({ maxProviders: 3 });
    for (const provider of ['a', 'b', 'c']) {
      clock.time += SECOND;
      detector.observe({ provider, success: true, latencySeconds: 1 });
    }
    clock.time += SECOND;
    detector.observe({ provider: 'a', success: true });
    clock.time += SECOND;
    detector.observe({ provider: 'd', success: true });
    expect(detector.providerStats('b')).toBeUndefined();
    expect(detector.providerStats('a')?.window.calls).toBe(2);
    expect(detector.toJSON()).toMatchObject({ providers: 3, evictedProviders: 1 });
  });

  it('drops invalid observations, counts them, warns once and never throws', () => {
    const { detector, clock } = setup();
    const invalid = [
      { provider: '', success: true },
      { provider: '   ', success: true },
      { provider: 'x'.repeat(129), success: true },
      { provider: 'openai', success: 'yes' },
      { provider: 'openai', success: true, latencySeconds: -1 },
      { provider: 'openai', success: true, latencySeconds: Number.NaN },
      { provider: 'openai', success: true, latencySeconds: Infinity },
      { provider: 42, success: true },
      null,
      undefined,
    ];
    for (const observation of invalid) {
      clock.time += SECOND;
      expect(detector.observe(observation as never)).toEqual([]);
    }
    expect(detector.toJSON()).toMatchObject({ rejectedObservations: invalid.length, providers: 0 });
    const warnings = logger.ownWarnings.filter((warning) => warning.includes('anomaly detector dropped'));
    expect(warnings).toHaveLength(1);
  });

  it('ignores an observation older than the ring, and counts it', () => {
    const { detector, clock } = setup();
    detector.observe({ provider: 'openai', success: true });
    clock.time -= 7 * MINUTE;
    detector.observe({ provider: 'openai', success: false });
    clock.time += 7 * MINUTE;
    expect(detector.providerStats('openai')?.window).toMatchObject({ calls: 1, errors: 0 });
    expect(detector.toJSON()).toMatchObject({ staleObservations: 1, rejectedObservations: 0 });
  });

  it('by default follows a monotonic clock: a step back of the wall clock neither blinds nor fools it', async () => {
    // Fake timers move Date and performance.now() together; setSystemTime() then steps Date alone,
    // as NTP stepping the system clock back an hour would.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const { telemetry, harness, collect } = createTelemetry();
      harnesses.push(harness);
      const detector = new AnomalyDetector({ ...OPTIONS, telemetry }); // no clock: the default one
      for (let second = 0; second < 5 * 60; second++) {
        vi.advanceTimersByTime(SECOND);
        detector.observe({ provider: 'openai', success: true, latencySeconds: 0.5 });
      }
      vi.setSystemTime(Date.now() - 60 * MINUTE);
      const found: DetectedAnomaly[] = [];
      for (let second = 0; second < 60; second++) {
        vi.advanceTimersByTime(SECOND);
        found.push(...detector.observe({ provider: 'openai', success: false }));
      }
      expect(found.map((anomaly) => anomaly.type)).toEqual(['error_surge']);
      expect(detector.toJSON()).toMatchObject({ staleObservations: 0 });
      expect((await collect()).value('gatewayz_detected_anomalies', { type: 'error_surge' })).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('calls onAnomaly, survives a throwing callback, and honours disabled detectors', async () => {
    const seen: DetectedAnomaly[] = [];
    const { detector, clock, anomalies } = setup({
      latency: false,
      onAnomaly: (anomaly) => {
        seen.push(anomaly);
        throw new Error('callback failure');
      },
    });
    send(detector, clock, { durationMs: 6 * MINUTE, everyMs: 5 * SECOND, latencySeconds: 1 });
    const found = send(detector, clock, {
      durationMs: 2 * MINUTE,
      everyMs: 5 * SECOND,
      latencySeconds: 20,
      fails: (index) => index % 2 === 0,
    });
    expect(found.map((anomaly) => anomaly.type)).toEqual(['error_surge']);
    expect(seen).toEqual(found);
    expect(await anomalies('error_surge')).toBe(1);
    expect(await anomalies('latency_spike')).toBeUndefined();
    expect(logger.errors.some((entry) => entry.message.includes('onAnomaly'))).toBe(true);
    expect(detector.toJSON().detected).toEqual({ latency_spike: 0, error_surge: 1 });
  });

  it('forgets providers on reset()', () => {
    const { detector, clock } = setup();
    clock.time += SECOND;
    detector.observe({ provider: 'openai', success: true });
    detector.observe({ provider: 'anthropic', success: true });
    detector.reset('openai');
    expect(detector.providerStats('openai')).toBeUndefined();
    detector.reset();
    expect(detector.toJSON().providers).toBe(0);
  });
});
