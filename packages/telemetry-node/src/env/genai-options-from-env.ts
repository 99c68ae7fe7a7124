import { TelemetryConfigurationError, type GatewayTelemetryOptions } from '@gatewayz/telemetry';
import { GEN_AI_CONTENT_CAPTURE_MODES, type GenAiContentCapture } from '@gatewayz/telemetry/genai';
import { readEnvEnum, readEnvString, warnConfiguration } from './standard-variables.js';

/** The variable OpenTelemetry's GenAI instrumentations (Python, JavaScript) read to opt in to message content. */
export const CAPTURE_MESSAGE_CONTENT_VARIABLE = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';
/** The variable OpenTelemetry's GenAI utilities read to emit (or not) `gen_ai.client.inference.operation.details` events. */
export const EMIT_EVENT_VARIABLE = 'OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT';
/** This package's limit on the length of each captured text content or tool argument string. */
export const CONTENT_MAX_LENGTH_VARIABLE = 'GATEWAYZ_GENAI_CONTENT_MAX_LENGTH';

/** The GenAI options of `GatewayTelemetry` that `startTelemetry()` reads from `env`. */
export type GenAiOptionsFromEnv = Pick<
  GatewayTelemetryOptions,
  'semconvStabilityOptIn' | 'captureGenAiContent' | 'emitGenAiEvents' | 'genAiContentMaxLength'
>;

/**
 * The GenAI options of the shared `GatewayTelemetry`, read once from `env` (options given in code
 * win over them):
 *
 * - `OTEL_SEMCONV_STABILITY_OPT_IN`, passed as it is (the core parses the comma list);
 * - `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (any case): `true` puts message content
 *   on the GenAI spans and `false` keeps it off, as OpenTelemetry's JavaScript GenAI
 *   instrumentations read it; `span_only`, `event_only`, `span_and_event` and `no_content` say
 *   where it goes, as OpenTelemetry's Python GenAI utilities read it. Any other value is warned
 *   about once, at start-up, and means off. Unset or blank: off.
 * - `OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT`: `true`/`false` (any case), whether the
 *   `gen_ai.client.inference.operation.details` events are emitted; unset: when the capture mode
 *   puts content in events. Another value is warned about and ignored.
 * - `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH`: a positive integer, the longest text content or tool
 *   argument string kept; anything else throws a `TelemetryConfigurationError` naming it, as this
 *   package's own variables do.
 *
 * @example
 * ```ts
 * genAiOptionsFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'TRUE', GATEWAYZ_GENAI_CONTENT_MAX_LENGTH: '4096' });
 * // { captureGenAiContent: true, genAiContentMaxLength: 4096 }
 * genAiOptionsFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'EVENT_ONLY' });
 * // { captureGenAiContent: 'event_only' }
 * ```
 */
export function genAiOptionsFromEnv(env: NodeJS.ProcessEnv): GenAiOptionsFromEnv {
  const options: GenAiOptionsFromEnv = {};
  const optIn = env['OTEL_SEMCONV_STABILITY_OPT_IN'];
  if (optIn !== undefined) options.semconvStabilityOptIn = optIn;
  const capture = readEnvEnum(
    env,
    CAPTURE_MESSAGE_CONTENT_VARIABLE,
    ['true', 'false', ...GEN_AI_CONTENT_CAPTURE_MODES],
    'not capturing message content',
  );
  if (capture === 'true' || capture === 'false') options.captureGenAiContent = capture === 'true';
  else if (capture !== undefined) options.captureGenAiContent = capture;
  const emitEvents = readEnvEnum(env, EMIT_EVENT_VARIABLE, ['true', 'false'], 'as the capture mode says');
  if (emitEvents !== undefined) options.emitGenAiEvents = emitEvents === 'true';
  const maxLength = readEnvString(env, CONTENT_MAX_LENGTH_VARIABLE);
  if (maxLength !== undefined) {
    const value = /^\d+$/.test(maxLength) ? Number(maxLength) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1)
      throw new TelemetryConfigurationError(
        CONTENT_MAX_LENGTH_VARIABLE,
        `expected a positive integer (characters per text content or tool argument string), got "${maxLength}"`,
      );
    options.genAiContentMaxLength = value;
  }
  return options;
}

/**
 * Warn once, at start-up, when GenAI events are asked for but no log exporter would carry them:
 * `OTEL_LOGS_EXPORTER` (or an OTLP endpoint) decides where log records, and so events, go.
 */
export function warnWhenGenAiEventsGoNowhere(content: GenAiContentCapture, logsExported: boolean): void {
  if (!content.events || logsExported) return;
  warnConfiguration(
    `@gatewayz/telemetry-node: GenAI events (${EMIT_EVENT_VARIABLE}, ${CAPTURE_MESSAGE_CONTENT_VARIABLE}=${content.mode}) are on, ` +
      'but no log exporter is configured (OTEL_LOGS_EXPORTER, or an OTLP endpoint): they are not exported.',
  );
}
