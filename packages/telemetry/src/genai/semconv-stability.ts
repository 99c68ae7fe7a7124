import { ATTR_GEN_AI_OUTPUT_TYPE } from './semconv.js';

/**
 * Which GenAI conventions the helpers emit, as `OTEL_SEMCONV_STABILITY_OPT_IN` chooses:
 * `default` keeps the names this package has always emitted; `latest_experimental`
 * (`gen_ai_latest_experimental` in the variable) emits the latest experimental conventions this
 * package supports (v1.41.0) and drops the names they do not define. The seed metrics
 * (`tokens_used_total`, `gatewayz_time_to_first_token_seconds`, ...) are the same in both modes.
 *
 * @example
 * ```ts
 * const mode: GenAiSemconvMode = genAiSemconvModeFrom(process.env.OTEL_SEMCONV_STABILITY_OPT_IN);
 * ```
 */
export type GenAiSemconvMode = 'default' | 'latest_experimental';

/**
 * The `OTEL_SEMCONV_STABILITY_OPT_IN` value that opts in to the latest experimental GenAI conventions.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ semconvStabilityOptIn: GEN_AI_LATEST_EXPERIMENTAL_OPT_IN });
 * ```
 */
export const GEN_AI_LATEST_EXPERIMENTAL_OPT_IN = 'gen_ai_latest_experimental';

/**
 * The GenAI mode an `OTEL_SEMCONV_STABILITY_OPT_IN` value asks for: a comma-separated list of
 * category values (the specification's format, e.g. `http,gen_ai_latest_experimental`); values
 * for other categories are ignored, as other instrumentations read them.
 *
 * @example
 * ```ts
 * genAiSemconvModeFrom('http/dup, gen_ai_latest_experimental'); // 'latest_experimental'
 * genAiSemconvModeFrom(undefined); // 'default'
 * ```
 */
export function genAiSemconvModeFrom(optIn: string | undefined): GenAiSemconvMode {
  if (optIn === undefined) return 'default';
  const values = optIn.split(',').map((value) => value.trim().toLowerCase());
  return values.includes(GEN_AI_LATEST_EXPERIMENTAL_OPT_IN) ? 'latest_experimental' : 'default';
}

/**
 * `gen_ai.operation.name` (and, where the mode adds one, `gen_ai.output.type`) for an operation:
 * under `latest_experimental`, `image_generation`, which the v1.41 conventions do not define,
 * becomes their `generate_content` with `gen_ai.output.type="image"`; every other name is kept.
 *
 * @example
 * ```ts
 * genAiOperation('image_generation', 'latest_experimental'); // { name: 'generate_content', attributes: { 'gen_ai.output.type': 'image' } }
 * genAiOperation('chat', 'latest_experimental'); // { name: 'chat', attributes: {} }
 * ```
 */
export function genAiOperation(
  operationName: string,
  mode: GenAiSemconvMode,
): { name: string; attributes: Record<string, string> } {
  if (mode === 'latest_experimental' && operationName === 'image_generation') {
    return { name: 'generate_content', attributes: { [ATTR_GEN_AI_OUTPUT_TYPE]: 'image' } };
  }
  return { name: operationName, attributes: {} };
}
