/*
 * Where GenAI content goes and whether GenAI events are emitted: the capture modes, the decision
 * `GatewayTelemetry.genAiContent` holds, and how a mode and the event switch make it. A module of
 * its own, which the telemetry options import without the content serialisation.
 */

/**
 * Where GenAI message content goes, as `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` names it
 * in OpenTelemetry's GenAI instrumentations: nowhere (`no_content`, the default), on the GenAI spans
 * (`span_only`, what `true` means), in the `gen_ai.client.inference.operation.details` events
 * (`event_only`), or both (`span_and_event`).
 *
 * @example
 * ```ts
 * new GatewayTelemetry({ captureGenAiContent: 'event_only' });
 * ```
 */
export type GenAiContentCaptureMode = 'no_content' | 'span_only' | 'event_only' | 'span_and_event';

/**
 * The capture modes, in the order the variable's documentation lists them.
 *
 * @example
 * ```ts
 * GEN_AI_CONTENT_CAPTURE_MODES.includes(value.toLowerCase() as GenAiContentCaptureMode);
 * ```
 */
export const GEN_AI_CONTENT_CAPTURE_MODES: readonly GenAiContentCaptureMode[] = [
  'no_content',
  'span_only',
  'event_only',
  'span_and_event',
];

/**
 * Whether GenAI message content is recorded, where, and how long a string of it may be; whether
 * the `gen_ai.client.inference.operation.details` event is emitted: `GatewayTelemetry.genAiContent`,
 * from the `captureGenAiContent`, `emitGenAiEvents` and `genAiContentMaxLength` options
 * (`startTelemetry()` reads `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`,
 * `OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT` and `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH`). Off by default:
 * content may hold personal data.
 *
 * @example
 * ```ts
 * const { collect, capture, eventContent, maxLength } = telemetry.genAiContent;
 * if (collect) content = { inputMessages: messagesOf(body), toolDefinitions: toolsOf(body) };
 * if (capture) start = { ...start, ...content, contentMaxLength: maxLength }; // on the span
 * ```
 */
export interface GenAiContentCapture {
  /** The mode asked for (see `GenAiContentCaptureMode`). */
  readonly mode: GenAiContentCaptureMode;
  /**
   * Record `gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions` and
   * `gen_ai.tool.definitions` on the GenAI spans (`span_only`, `span_and_event`).
   */
  readonly capture: boolean;
  /** Emit a `gen_ai.client.inference.operation.details` event per inference call (see `emitGenAiOperationDetails()`). */
  readonly events: boolean;
  /** Put the content in those events (`event_only`, `span_and_event`, when events are emitted). */
  readonly eventContent: boolean;
  /** Whether content goes anywhere: `capture || eventContent`. Nothing needs collecting when false. */
  readonly collect: boolean;
  /** Longest text content or tool argument string kept (see `GEN_AI_CONTENT_TRUNCATION_MARKER`); `undefined`: no limit. */
  readonly maxLength: number | undefined;
}

/**
 * @internal What a capture mode and the event switch mean. Events default to on when the mode puts
 * content in them, as OpenTelemetry's Python GenAI utilities read `OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT`.
 */
export function genAiContentCaptureOf(
  mode: GenAiContentCaptureMode,
  emitEvents: boolean | undefined,
  maxLength: number | undefined,
): GenAiContentCapture {
  const capture = mode === 'span_only' || mode === 'span_and_event';
  const contentInEvents = mode === 'event_only' || mode === 'span_and_event';
  const events = emitEvents ?? contentInEvents;
  const eventContent = events && contentInEvents;
  return { mode, capture, events, eventContent, collect: capture || eventContent, maxLength };
}
