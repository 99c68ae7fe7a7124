import type { ModelCallStatus } from '../metrics/metric-definition.js';
import { defineHelpers } from '../metrics/metric-recorder.js';

/** Model metrics of a `GatewayTelemetry`: uptime, token efficiency, inferences and time to first token. */
export const modelMetrics = defineHelpers({
  /** Set `gatewayz_model_uptime_24h` (0-1). */
  setModelUptime24h(model: string, uptime: number): void {
    this.setGauge1(this.states.modelUptime24h, model, uptime);
  },

  /** Set `gatewayz_token_efficiency` (output tokens per input token). */
  setTokenEfficiency(model: string, efficiency: number): void {
    this.setGauge1(this.states.tokenEfficiency, model, efficiency);
  },

  /**
   * Count one model inference (`model_inference_requests_total{provider,model,status}`) and, when
   * a duration is given, observe it in `model_inference_duration_seconds{provider,model}`.
   */
  recordModelInference(provider: string, model: string, status: ModelCallStatus, durationSeconds?: number): void {
    const requests = this.states.modelInferenceRequests;
    const duration = this.states.modelInferenceDuration;
    // Validate everything before touching a series, so a refused call leaves no empty series behind.
    if (durationSeconds !== undefined && !this.acceptValue(duration, durationSeconds)) return;
    const cell = this.cellFor(requests, requests.store.lookup(provider, model, status));
    if (cell === undefined) return;
    if (durationSeconds !== undefined) {
      const durationCell = this.cellFor(duration, duration.store.lookup(provider, model));
      if (durationCell === undefined) return;
      this.observe(duration, durationSeconds, durationCell);
    }
    cell.value += 1;
  },

  /** Observe the time to the first streamed content chunk (`gatewayz_time_to_first_token_seconds`). */
  recordTimeToFirstToken(provider: string, model: string, seconds: number): void {
    const state = this.states.timeToFirstToken;
    if (!this.acceptValue(state, seconds)) return;
    const cell = this.cellFor(state, state.store.lookup(provider, model));
    if (cell !== undefined) this.observe(state, seconds, cell);
  },
});

/** The model helpers of a `GatewayTelemetry`. */
export type ModelMetrics = typeof modelMetrics;
