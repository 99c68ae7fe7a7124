/**
 * The OpenTelemetry GenAI semantic conventions and LLM pricing: GenAI client spans, the
 * `gen_ai.client.*` metrics, a pricing table that turns token usage into USD, and the convention
 * strings in one place (`semconv`).
 *
 * - `genai-span.ts`: `startGenAiSpan()` / `endGenAiSpan()`
 * - `genai-metrics.ts` / `genai-helpers.ts`: `recordGenAiOperation()` on an instance and on the shared one
 * - `pricing.ts`: `PricingTable`
 * - `semconv.ts`: attribute and metric names, operation names, buckets
 *
 * @example
 * ```ts
 * import { PricingTable, startGenAiSpan, endGenAiSpan } from '@gatewayz/telemetry/genai';
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry/genai
 */
export { startGenAiSpan, endGenAiSpan } from './genai-span.js';
export type { GenAiSpanStart, GenAiSpanEnd } from './genai-span.js';
export { PricingTable } from './pricing.js';
export type { ModelPrice, PricingTableInput, UsageForPricing } from './pricing.js';
export { recordGenAiOperation } from './genai-helpers.js';
export type { GenAiOperationRecord } from './genai-metrics.js';
export * as semconv from './semconv.js';
