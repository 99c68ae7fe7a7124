export { createSpanProcessorsFromEnv, type SpanProcessorsFromEnvOptions } from './create-span-processors-from-env.js';
export { createSpanDropMeterProvider, type SpanDropReason } from './span-drop-meter-provider.js';
