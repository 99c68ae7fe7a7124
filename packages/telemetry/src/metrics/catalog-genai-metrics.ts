import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  GEN_AI_DURATION_BUCKETS,
  GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN_BUCKETS,
  GEN_AI_SERVER_TIME_TO_FIRST_TOKEN_BUCKETS,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_SERVER_REQUEST_DURATION,
  METRIC_GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN,
  METRIC_GEN_AI_SERVER_TIME_TO_FIRST_TOKEN,
} from '../genai/semconv.js';
import { define, nonNegative } from './metric-definition.js';

/** The attributes every GenAI metric of the v1.41 conventions carries (`metric_attributes.gen_ai`, without `server.*`). */
const GEN_AI_ATTRIBUTES = [
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
] as const;

/**
 * Catalog entries of the GenAI streaming and server metrics of the OpenTelemetry conventions
 * (v1.41.0): the client's chunk timing per streamed provider attempt, and the gateway's own
 * latency as the GenAI server its clients call. Buckets are the conventions' recommendations.
 * `gen_ai.response.model` is optional where a failed call can be recorded: one that got no
 * response has none. The server's token timing is recorded for successful answers only.
 */
export const GENAI_METRICS = {
  genAiTimeToFirstChunk: define({
    name: METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description:
      'Time from issuing a streamed GenAI request to the first chunk of its response (OpenTelemetry GenAI semantic conventions)',
    labels: GEN_AI_ATTRIBUTES,
    optionalLabels: [ATTR_GEN_AI_RESPONSE_MODEL],
    categories: ['models', 'performance'],
    range: nonNegative,
    buckets: GEN_AI_DURATION_BUCKETS,
  }),
  genAiTimePerOutputChunk: define({
    name: METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description:
      'Time between consecutive chunks of a streamed GenAI response, one observation per chunk after the first (OpenTelemetry GenAI semantic conventions)',
    labels: GEN_AI_ATTRIBUTES,
    optionalLabels: [ATTR_GEN_AI_RESPONSE_MODEL],
    categories: ['models', 'performance'],
    range: nonNegative,
    buckets: GEN_AI_DURATION_BUCKETS,
  }),
  genAiServerRequestDuration: define({
    name: METRIC_GEN_AI_SERVER_REQUEST_DURATION,
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description:
      'GenAI server request duration: time to the last byte of the answer the gateway sends (OpenTelemetry GenAI semantic conventions)',
    labels: [...GEN_AI_ATTRIBUTES, ATTR_ERROR_TYPE],
    optionalLabels: [ATTR_GEN_AI_RESPONSE_MODEL, ATTR_ERROR_TYPE],
    categories: ['performance', 'models'],
    range: nonNegative,
    buckets: GEN_AI_DURATION_BUCKETS,
  }),
  genAiServerTimeToFirstToken: define({
    name: METRIC_GEN_AI_SERVER_TIME_TO_FIRST_TOKEN,
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description:
      'Time to the first token the gateway streams to its client (the first chunk with generated output: text, reasoning or a tool call), for successful streamed responses (OpenTelemetry GenAI semantic conventions)',
    labels: GEN_AI_ATTRIBUTES,
    categories: ['performance', 'models'],
    range: nonNegative,
    buckets: GEN_AI_SERVER_TIME_TO_FIRST_TOKEN_BUCKETS,
  }),
  genAiServerTimePerOutputToken: define({
    name: METRIC_GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN,
    prefixed: false,
    kind: 'histogram',
    unit: 's',
    description:
      'Time per output token after the first, (duration - time to first token) / (output tokens - 1), for successful streamed responses (OpenTelemetry GenAI semantic conventions)',
    labels: GEN_AI_ATTRIBUTES,
    categories: ['performance', 'models'],
    range: nonNegative,
    buckets: GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN_BUCKETS,
  }),
} as const;
