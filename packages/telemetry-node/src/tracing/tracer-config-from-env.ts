import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import { readEnvEnum, readEnvInteger, readEnvString, warnIgnoredVariable } from '../env/standard-variables.js';

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers: a probability in [0, 1], default 1. */
function ratioFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = readEnvString(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    warnIgnoredVariable('OTEL_TRACES_SAMPLER_ARG', raw, 'a probability between 0 and 1', 'sampling with ratio 1');
    return 1;
  }
  return ratio;
}

/**
 * The sampler of `OTEL_TRACES_SAMPLER` (names case-insensitive) and `OTEL_TRACES_SAMPLER_ARG`;
 * unset, unknown or unsupported (`jaeger_remote`, `xray`) gives the specification's default,
 * `parentbased_always_on`, the last two with a warning.
 *
 * @example
 * ```ts
 * samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
 * ```
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = readEnvEnum(env, 'OTEL_TRACES_SAMPLER', SAMPLERS, 'using parentbased_always_on');
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratioFromEnv(env));
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioFromEnv(env)) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * The span limits of the standard variables, each a non-negative integer: `OTEL_SPAN_ATTRIBUTE_*`
 * falling back to the general `OTEL_ATTRIBUTE_*`, `OTEL_SPAN_EVENT_COUNT_LIMIT`,
 * `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT` and
 * `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`; unset or invalid ones take the specification's defaults (no
 * length limit, 128 for every count). Every limit is given, so the SDK does not read `process.env`
 * again behind `env`'s back.
 *
 * @example
 * ```ts
 * spanLimitsFromEnv({ OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '16' }).attributePerEventCountLimit; // 16
 * ```
 */
export function spanLimitsFromEnv(env: NodeJS.ProcessEnv): Required<SpanLimits> {
  const count = (name: string): number => readEnvInteger(env, name, 0) ?? 128;
  return {
    attributeValueLengthLimit:
      readEnvInteger(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0) ??
      readEnvInteger(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0) ??
      Infinity,
    attributeCountLimit:
      readEnvInteger(env, 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 0) ??
      readEnvInteger(env, 'OTEL_ATTRIBUTE_COUNT_LIMIT', 0) ??
      128,
    eventCountLimit: count('OTEL_SPAN_EVENT_COUNT_LIMIT'),
    linkCountLimit: count('OTEL_SPAN_LINK_COUNT_LIMIT'),
    attributePerEventCountLimit: count('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT'),
    attributePerLinkCountLimit: count('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT'),
  };
}
