import { CIRCUIT_BREAKER_STATES, type CircuitBreakerState } from '../metrics/metric-definition.js';
import type { FailoverReason } from '../metrics/catalog-routing-metrics.js';
import { defineHelpers } from '../metrics/metric-recorder.js';
import { OVERFLOW_LABEL_VALUE, type SeriesCell } from '../metrics/series-store.js';

/**
 * Provider metrics of a `GatewayTelemetry`: latency, health score, availability, error rate,
 * circuit-breaker state and detected anomalies. Installed on `GatewayTelemetry.prototype`.
 */
export const providerMetrics = defineHelpers({
  /** Observe one provider call's latency in seconds (`provider_response_time_seconds`). */
  recordProviderResponseTime(provider: string, seconds: number): void {
    const state = this.states.providerResponseTime;
    if (!this.acceptValue(state, seconds)) return;
    const cell = this.cellFor(state, state.store.lookup(provider));
    if (cell !== undefined) this.observe(state, seconds, cell);
  },

  /** Set `gatewayz_provider_health_score` (0-1); see `providerHealthScore()` for the formula. */
  setProviderHealthScore(provider: string, score: number): void {
    this.setGauge1(this.states.providerHealthScore, provider, score);
  },

  /** Set `provider_availability`: 1 (or true) when available, 0 (or false) when not. */
  setProviderAvailability(provider: string, availability: number | boolean): void {
    const value = typeof availability === 'boolean' ? (availability ? 1 : 0) : availability;
    this.setGauge1(this.states.providerAvailability, provider, value);
  },

  /** Set `provider_error_rate` (0-1). */
  setProviderErrorRate(provider: string, errorRate: number): void {
    this.setGauge1(this.states.providerErrorRate, provider, errorRate);
  },

  /**
   * Set `gatewayz_circuit_breaker_state{provider,state}`: 1 for `state`, 0 for the other states, so
   * `gatewayz_circuit_breaker_state{state="open"} == 1` lists the open breakers.
   */
  setCircuitBreakerState(provider: string, state: CircuitBreakerState): void {
    const metric = this.states.circuitBreakerState;
    if (!(CIRCUIT_BREAKER_STATES as readonly unknown[]).includes(state)) {
      this.drop(
        metric,
        'unknown_label_value',
        `Unknown circuit state "${String(state)}"; expected closed, open or half_open`,
      );
      return;
    }
    const store = metric.store;
    let target: string = provider;
    if (
      store.peek(provider, 'closed') === undefined &&
      store.seriesCount + CIRCUIT_BREAKER_STATES.length > this.maxSeriesPerMetric
    ) {
      // No room for all of this provider's series: fold the provider into "other" as a whole, so
      // exactly one of its series reads 1.
      const rejection = store.rejectionFor('provider', provider);
      if (rejection !== undefined) {
        this.rejectLabel(metric, rejection);
        return;
      }
      target = OVERFLOW_LABEL_VALUE;
      this.noteOverflow(metric);
    }
    const cells: SeriesCell[] = [];
    for (const candidate of CIRCUIT_BREAKER_STATES) {
      // Folding was counted once above, not once per state.
      const found =
        target === OVERFLOW_LABEL_VALUE
          ? store.lookupWithoutOverflowReport(target, candidate)
          : store.lookup(target, candidate);
      const cell = this.cellFor(metric, found);
      if (cell === undefined) return;
      cells.push(cell);
    }
    for (let index = 0; index < cells.length; index++) {
      (cells[index] as SeriesCell).value = CIRCUIT_BREAKER_STATES[index] === state ? 1 : 0;
    }
  },

  /**
   * Count one move of a request from `provider` to `nextProvider`, the next of its failover chain
   * (`gatewayz_failovers_total{provider,next_provider,reason}`): after a failed attempt (`error`,
   * `timeout`, `rate_limited`, `network_error`) or passing the provider over (`rate_limited`,
   * `circuit_open`). An unknown reason is dropped and counted.
   */
  recordFailover(provider: string, nextProvider: string, reason: FailoverReason): void {
    const state = this.states.failovers;
    const cell = this.cellFor(state, state.store.lookup(provider, nextProvider, reason));
    if (cell !== undefined) cell.value += 1;
  },

  /** Count one (or `count`) detected anomalies of a type (`gatewayz_detected_anomalies_total`). */
  recordAnomaly(type: string, count = 1): void {
    this.addCounter1(this.states.detectedAnomalies, type, count);
  },
});

/** The provider helpers of a `GatewayTelemetry`. */
export type ProviderMetrics = typeof providerMetrics;
