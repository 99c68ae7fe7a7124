import { TelemetryConfigurationError } from '../errors.js';
import type { AnomalyType, AnomalyWindowFigures, ErrorSurgeOptions, LatencySpikeOptions } from './anomaly-types.js';

export const MAX_PROVIDER_NAME_LENGTH = 128;
export const MAX_BUCKETS = 10_000;

export interface DetectorState {
  active: boolean;
  lastFiredAt: number;
}

/** Per-provider time buckets in a ring: fixed memory however much traffic arrives. */
export class ProviderBuckets {
  readonly epochs: Float64Array;
  readonly calls: Float64Array;
  readonly errors: Float64Array;
  readonly latencyCount: Float64Array;
  readonly latencySum: Float64Array;
  newestBucket = -Infinity;
  lastSeen = 0;
  readonly states: Record<AnomalyType, DetectorState> = {
    latency_spike: { active: false, lastFiredAt: -Infinity },
    error_surge: { active: false, lastFiredAt: -Infinity },
  };

  constructor(readonly size: number) {
    this.epochs = new Float64Array(size).fill(-Infinity);
    this.calls = new Float64Array(size);
    this.errors = new Float64Array(size);
    this.latencyCount = new Float64Array(size);
    this.latencySum = new Float64Array(size);
  }

  /** Add a call to `bucket`; false when the bucket has already left the ring. */
  add(bucket: number, success: boolean, latencySeconds: number | undefined): boolean {
    if (bucket <= this.newestBucket - this.size) return false;
    const slot = bucket % this.size;
    if (this.epochs[slot] !== bucket) {
      this.epochs[slot] = bucket;
      this.calls[slot] = 0;
      this.errors[slot] = 0;
      this.latencyCount[slot] = 0;
      this.latencySum[slot] = 0;
    }
    this.calls[slot] = (this.calls[slot] as number) + 1;
    if (!success) this.errors[slot] = (this.errors[slot] as number) + 1;
    else if (latencySeconds !== undefined) {
      this.latencyCount[slot] = (this.latencyCount[slot] as number) + 1;
      this.latencySum[slot] = (this.latencySum[slot] as number) + latencySeconds;
    }
    if (bucket > this.newestBucket) this.newestBucket = bucket;
    return true;
  }

  /** Totals over buckets `from` (exclusive) to `to` (inclusive). */
  sum(from: number, to: number): AnomalyWindowFigures {
    let calls = 0;
    let errors = 0;
    let latencySamples = 0;
    let latencySum = 0;
    for (let slot = 0; slot < this.size; slot++) {
      const epoch = this.epochs[slot] as number;
      if (epoch <= from || epoch > to) continue;
      calls += this.calls[slot] as number;
      errors += this.errors[slot] as number;
      latencySamples += this.latencyCount[slot] as number;
      latencySum += this.latencySum[slot] as number;
    }
    return {
      calls,
      errors,
      errorRate: calls > 0 ? errors / calls : null,
      latencySamples,
      meanLatencySeconds: latencySamples > 0 ? latencySum / latencySamples : null,
    };
  }
}

export function positiveInteger(option: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new TelemetryConfigurationError(option, `expected a positive integer, got ${String(value)}`);
  }
}

export function latencyOptions(options: LatencySpikeOptions): Required<LatencySpikeOptions> {
  const resolved = {
    multiplier: options.multiplier ?? 3,
    minIncreaseSeconds: options.minIncreaseSeconds ?? 1,
    minSamples: options.minSamples ?? 20,
    minBaselineSamples: options.minBaselineSamples ?? 50,
  };
  if (!Number.isFinite(resolved.multiplier) || resolved.multiplier < 1) {
    throw new TelemetryConfigurationError(
      'latency.multiplier',
      `expected a number of at least 1, got ${String(options.multiplier)}`,
    );
  }
  if (!Number.isFinite(resolved.minIncreaseSeconds) || resolved.minIncreaseSeconds < 0) {
    throw new TelemetryConfigurationError(
      'latency.minIncreaseSeconds',
      `expected 0 or more seconds, got ${String(options.minIncreaseSeconds)}`,
    );
  }
  positiveInteger('latency.minSamples', resolved.minSamples);
  positiveInteger('latency.minBaselineSamples', resolved.minBaselineSamples);
  return resolved;
}

export function errorOptions(options: ErrorSurgeOptions): Required<ErrorSurgeOptions> {
  const resolved = {
    threshold: options.threshold ?? 0.25,
    minIncrease: options.minIncrease ?? 0.1,
    minSamples: options.minSamples ?? 20,
    minBaselineSamples: options.minBaselineSamples ?? 20,
  };
  if (!Number.isFinite(resolved.threshold) || resolved.threshold <= 0 || resolved.threshold > 1) {
    throw new TelemetryConfigurationError(
      'errors.threshold',
      `expected an error rate in (0, 1], got ${String(options.threshold)}`,
    );
  }
  if (!Number.isFinite(resolved.minIncrease) || resolved.minIncrease < 0 || resolved.minIncrease >= 1) {
    throw new TelemetryConfigurationError(
      'errors.minIncrease',
      `expected a rate in [0, 1), got ${String(options.minIncrease)}`,
    );
  }
  positiveInteger('errors.minSamples', resolved.minSamples);
  positiveInteger('errors.minBaselineSamples', resolved.minBaselineSamples);
  return resolved;
}
