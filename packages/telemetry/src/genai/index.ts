/**
 * The OpenTelemetry GenAI semantic conventions and LLM pricing: GenAI client spans, the
 * `gen_ai.client.*` metrics, a pricing table that turns token usage into USD, and the convention
 * strings in one place (`semconv`).
 *
 * - `genai-span.ts`: `startGenAiSpan()` / `endGenAiSpan()`
 * - `genai-metrics.ts` / `genai-helpers.ts`: `recordGenAiOperation()` and `recordGenAiServerRequest()`
 *   on an instance and on the shared one
 * - `pricing.ts`: `PricingTable` (input, output, cached-input, cache-write and audio prices)
 * - `usage.ts`: `usageFromOpenAi()` / `usageFromAnthropic()`, token usage from either wire shape
 * - `request-parameters.ts`: `requestParametersFromOpenAi()` / `requestParametersFromAnthropic()`,
 *   the `gen_ai.request.*` span attributes from either request shape
 * - `messages.ts`: `GenAiInputMessage`, `GenAiOutputMessage`, `GenAiSystemInstructionPart` and their
 *   parts, the v1.41 shapes of the opt-in content attributes
 * - `content-capture.ts`: `GenAiContentCapture`, `GenAiContentCaptureMode` (where content goes)
 * - `message-content.ts`: `GEN_AI_CONTENT_TRUNCATION_MARKER` (the content's JSON serialisation,
 *   truncation and counted drops)
 * - `operation-details.ts`: `emitGenAiOperationDetails()` and `emitGenAiOperationException()`, the
 *   opt-in `gen_ai.client.inference.operation.details` and `gen_ai.client.operation.exception` events
 * - `semconv.ts`: attribute, metric and event names, operation names, buckets (pinned to v1.41.0)
 * - `semconv-stability.ts`: `OTEL_SEMCONV_STABILITY_OPT_IN` (`gen_ai_latest_experimental`)
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
export { emitGenAiOperationDetails, emitGenAiOperationException } from './operation-details.js';
export type {
  GenAiEventLogger,
  GenAiEventRecord,
  GenAiEventValue,
  GenAiOperationDetails,
} from './operation-details.js';
export { PricingTable } from './pricing.js';
export type { ModelPrice, PricingTableInput, PricingTableOptions, UsageForPricing } from './pricing.js';
export { recordGenAiOperation, recordGenAiServerRequest } from './genai-helpers.js';
export type { GenAiOperationRecord, GenAiServerRequestRecord } from './genai-metrics.js';
export { genAiSemconvModeFrom, genAiOperation, GEN_AI_LATEST_EXPERIMENTAL_OPT_IN } from './semconv-stability.js';
export type { GenAiSemconvMode } from './semconv-stability.js';
export { usageFromOpenAi, usageFromAnthropic } from './usage.js';
export type { GenAiUsage } from './usage.js';
export { requestParametersFromOpenAi, requestParametersFromAnthropic } from './request-parameters.js';
export type { GenAiRequestParameters } from './request-parameters.js';
export { GEN_AI_CONTENT_TRUNCATION_MARKER } from './message-content.js';
export { GEN_AI_CONTENT_CAPTURE_MODES } from './content-capture.js';
export type { GenAiContentCapture, GenAiContentCaptureMode } from './content-capture.js';
export type {
  GenAiBlobPart,
  GenAiFilePart,
  GenAiFinishReason,
  GenAiFunctionToolDefinition,
  GenAiGenericPart,
  GenAiGenericToolDefinition,
  GenAiInputMessage,
  GenAiMessagePart,
  GenAiModality,
  GenAiOutputMessage,
  GenAiReasoningPart,
  GenAiRole,
  GenAiServerToolCallPart,
  GenAiServerToolCallResponsePart,
  GenAiSystemInstructionPart,
  GenAiTextPart,
  GenAiToolCallRequestPart,
  GenAiToolCallResponsePart,
  GenAiToolDefinition,
  GenAiUriPart,
} from './messages.js';
export * as semconv from './semconv.js';
export { GEN_AI_SEMCONV_SCHEMA_URL } from './semconv.js';
