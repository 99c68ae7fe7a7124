import { TelemetryConfigurationError, type GatewayTelemetryOptions } from '@gatewayz/telemetry';
import { readEnvEnum, readEnvString } from './standard-variables.js';

/** The variable OpenTelemetry's GenAI instrumentations (Python, JavaScript) read to opt in to message content. */
export const CAPTURE_MESSAGE_CONTENT_VARIABLE = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';
/** This package's limit on the length of each captured text content or tool argument string. */
export const CONTENT_MAX_LENGTH_VARIABLE = 'GATEWAYZ_GENAI_CONTENT_MAX_LENGTH';

/** The GenAI options of `GatewayTelemetry` that `startTelemetry()` reads from `env`. */
export type GenAiOptionsFromEnv = Pick<
  GatewayTelemetryOptions,
  'semconvStabilityOptIn' | 'captureGenAiContent' | 'genAiContentMaxLength'
>;

/**
 * The GenAI options of the shared `GatewayTelemetry`, read once from `env` (options given in code
 * win over them):
 *
 * - `OTEL_SEMCONV_STABILITY_OPT_IN`, passed as it is (the core parses the comma list);
 * - `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`: `true` (any case) turns message content
 *   capture on, `false` keeps it off; any other value is warned about once, at start-up, and means
 *   off, as OpenTelemetry's JavaScript GenAI instrumentations read it. Unset or blank: off.
 * - `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH`: a positive integer, the longest text content or tool
 *   argument string kept; anything else throws a `TelemetryConfigurationError` naming it, as this
 *   package's own variables do.
 *
 * @example
 * ```ts
 * genAiOptionsFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'TRUE', GATEWAYZ_GENAI_CONTENT_MAX_LENGTH: '4096' });
 * // { captureGenAiContent: true, genAiContentMaxLength: 4096 }
 * ```
 */
export function genAiOptionsFromEnv(env: NodeJS.ProcessEnv): GenAiOptionsFromEnv {
  const options: GenAiOptionsFromEnv = {};
  const optIn = env['OTEL_SEMCONV_STABILITY_OPT_IN'];
  if (optIn !== undefined) options.semconvStabilityOptIn = optIn;
  const capture = readEnvEnum(
    env,
    CAPTURE_MESSAGE_CONTENT_VARIABLE,
    ['true', 'false'],
    'not capturing message content',
  );
  if (capture !== undefined) options.captureGenAiContent = capture === 'true';
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
