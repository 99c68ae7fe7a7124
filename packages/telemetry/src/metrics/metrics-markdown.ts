import { catalogEntries } from './catalog.js';
import { METRIC_CATEGORIES, type MetricCategory } from './metric-definition.js';
import { DEFAULT_METRIC_PREFIX, prometheusName, prometheusType } from './naming.js';
import { GEN_AI_SEMCONV_VERSION } from '../genai/semconv.js';

/**
 * Options of `renderMetricsMarkdown()`.
 *
 * @example
 * ```ts
 * const options: MetricsMarkdownOptions = { prefix: 'acme_', baseUrl: 'https://gateway.example.com' };
 * const markdown = renderMetricsMarkdown(options);
 * ```
 */
export interface MetricsMarkdownOptions {
  /** Prefix of prefixed metrics. Default `gatewayz_`. */
  prefix?: string;
  /** Base URL used in the curl examples. Default `http://localhost:8080`. */
  baseUrl?: string;
}

const CATEGORY_TITLES: Record<MetricCategory, string> = {
  system: 'System (HTTP server, runtime, self-monitoring)',
  providers: 'Providers',
  models: 'Models',
  business: 'Business',
  performance: 'Performance (latency metrics from every category)',
  health_service: 'Health service',
};

const QUERY_EXAMPLES: ReadonlyArray<[string, string]> = [
  ['Provider health score', 'gatewayz_provider_health_score'],
  ['Average error rate by provider', 'avg by (provider) (provider_error_rate)'],
  [
    'p95 provider latency',
    'histogram_quantile(0.95, sum by (provider, le) (rate(provider_response_time_seconds_bucket[5m])))',
  ],
  ['Cost per provider per hour (USD)', 'sum by (provider) (increase(gatewayz_cost_by_provider_total[1h]))'],
  ['Open circuit breakers', 'gatewayz_circuit_breaker_state{state="open"} == 1'],
  ['Inference requests per second by model', 'sum by (model) (rate(model_inference_requests_total[5m]))'],
  ['Token usage by model', 'sum by (model, token_type) (rate(tokens_used_total[5m]))'],
  [
    'Cache hit ratio',
    'sum(rate(cache_hits_total[5m])) / (sum(rate(cache_hits_total[5m])) + sum(rate(cache_misses_total[5m])))',
  ],
];

/**
 * Markdown reference of every catalog metric (exposed name, type, labels, unit, description) by
 * category, with curl and PromQL examples. Served at `/prometheus/metrics/docs` and written to
 * `docs/metrics.md`.
 *
 * @example
 * ```ts
 * const markdown = renderMetricsMarkdown({ prefix: 'gatewayz_' });
 * ```
 */
export function renderMetricsMarkdown(options: MetricsMarkdownOptions = {}): string {
  const prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
  const baseUrl = options.baseUrl ?? 'http://localhost:8080';
  const lines: string[] = [
    '# Metrics reference',
    '',
    // Where the catalog lives (a test checks that these files exist).
    'Generated from the metric catalog of `@gatewayz/telemetry` (`packages/telemetry/src/metrics/catalog*.ts`). Do not edit by hand: run `npm run docs:metrics`.',
    '',
    'Counters are exposed with a `_total` suffix. Units are part of the name where Prometheus expects them (`_seconds`); the exporter does not append units. Label values outside the listed sets are dropped and counted in `gatewayz_telemetry_dropped_total{reason,metric}`, and so are fractions given to a metric whose unit says `(integer)` (counts of tokens, requests and events: reason `not_an_integer`); once a metric holds its maximum number of label sets, new values are folded into `other` and counted in `gatewayz_telemetry_label_overflow_total{metric}`.',
    '',
    '`subscription_count` keeps the name the existing GatewayZ dashboards use. `promtool check metrics` warns that a gauge should not end in `_count` (it reads like a histogram or summary component); that one warning is expected and allowed by our tests.',
    '',
    '## Endpoints',
    '',
    '| Path | Content |',
    '| --- | --- |',
    '| `/metrics` | every metric, Prometheus text format |',
    '| `/prometheus/metrics/all` | every metric |',
    ...METRIC_CATEGORIES.map((category) => `| \`/prometheus/metrics/${category}\` | ${CATEGORY_TITLES[category]} |`),
    '| `/prometheus/metrics/summary` | JSON summary (`?category=providers` or `business`); configured providers count from start-up, as available and healthy until their first call gives them gauges |',
    '| `/prometheus/metrics/docs` | this document |',
    '',
    'Metrics from outside the catalog (Node.js runtime and host metrics) are served under `system`.',
    '',
    '```sh',
    `curl ${baseUrl}/prometheus/metrics/providers`,
    `curl ${baseUrl}/prometheus/metrics/summary?category=providers`,
    `curl -H "Authorization: Bearer $METRICS_TOKEN" ${baseUrl}/metrics   # when METRICS_TOKEN is set`,
    '```',
    '',
  ];
  const entries = catalogEntries();
  for (const category of METRIC_CATEGORIES) {
    const inCategory = entries.filter(([, definition]) => definition.categories.includes(category));
    if (inCategory.length === 0) continue;
    lines.push(
      `## ${CATEGORY_TITLES[category]}`,
      '',
      '| Metric | Type | Labels | Unit | Description |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [key, definition] of inCategory) {
      const labels = definition.labels
        .map((label) => {
          const values = definition.labelValues?.[label];
          const optional = definition.optionalLabels?.includes(label) ? ' (optional)' : '';
          return `\`${label}\`${values ? ` (${values.join(' \\| ')})` : ''}${optional}`;
        })
        .join(', ');
      const unit = definition.integer === true ? `${definition.unit} (integer)` : definition.unit;
      lines.push(
        `| \`${prometheusName(definition, prefix)}\` | ${prometheusType(definition)} | ${labels || '-'} | ${unit} | ${definition.description} (helper key \`${key}\`) |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Names over OTLP',
    '',
    'Pushed over OTLP (`OTEL_METRICS_EXPORTER=otlp`), each metric carries its OpenTelemetry instrument name: the Prometheus name above without the `_total` that the exposition adds to counters (`model_inference_requests_total` is the instrument `model_inference_requests`); the GenAI metrics keep their dotted names (`gen_ai.client.operation.duration`).',
    '',
    '## GenAI semantic conventions',
    '',
    `The \`gen_ai.*\` metrics and the GenAI span attributes follow the OpenTelemetry semantic conventions release v${GEN_AI_SEMCONV_VERSION} (its GenAI conventions are unchanged in v1.41.1, the last release before they moved to their own repository), pinned in \`packages/telemetry/src/genai/semconv.ts\` with the bucket boundaries the conventions recommend. The \`gen_ai.client.*\` metrics time each provider attempt (\`time_to_first_chunk\` and \`time_per_output_chunk\` only for streamed attempts); the \`gen_ai.server.*\` metrics time each request the gateway answers as the GenAI server its clients call (\`time_to_first_token\` to the first chunk with generated output sent to the client: text, reasoning or a tool call, and \`time_per_output_token\`, only for successful streamed answers). The Prometheus names are the instrument names with dots as underscores and no unit suffix, as for \`gen_ai_client_operation_duration\`.`,
    '',
    '`OTEL_SEMCONV_STABILITY_OPT_IN` (a comma list, read once when telemetry starts): without `gen_ai_latest_experimental` the helpers emit the names this package has always emitted; with it, the latest experimental conventions this package supports (v' +
      GEN_AI_SEMCONV_VERSION +
      '), which today renames the one value the conventions do not define: `gen_ai.operation.name="image_generation"` becomes `generate_content` with the span attribute `gen_ai.output.type="image"`. The seed metric names (`tokens_used_total`, `gatewayz_time_to_first_token_seconds`, ...) are the same in both modes.',
    '',
    'Why v' +
      GEN_AI_SEMCONV_VERSION +
      ' and not a later version: the GenAI conventions have since moved to the `open-telemetry/semantic-conventions-genai` repository, whose first releases rename the client metrics (`gen_ai.client.inference.duration`, one usage metric per token type) while its main branch still documents `gen_ai.client.operation.duration` and `gen_ai.client.token.usage`. Following a moving target would rename the series every dashboard selects; the conventions themselves say an instrumentation SHOULD NOT change the version it emits by default, and `OTEL_SEMCONV_STABILITY_OPT_IN` is where a newer version will be offered. `gen_ai.system` (replaced by `gen_ai.provider.name` in v1.37.0) was never emitted by this package; a backend that still reads it can copy `gen_ai.provider.name` into it in the Collector (`transform` or `attributes` processor).',
    '',
    'Attributes, against the requirement levels of v' +
      GEN_AI_SEMCONV_VERSION +
      ': the metrics carry the required `gen_ai.operation.name` and `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.response.model` (left out of a failed operation that got no response, as on its span: no model generated one), `gen_ai.token.type` on token usage and `error.type` on the duration histograms when the operation failed. They leave out the recommended `server.address` and `server.port`: a gateway calls each provider at one address, so they would split no series that `gen_ai.provider.name` does not already split, and an address change would break every series in two; the attempt spans carry both. The spans (`startGenAiSpan()`) are CLIENT spans named `{gen_ai.operation.name} {gen_ai.request.model}` (the operation alone, without `gen_ai.request.model`, when the request names no model) with the request parameters the client sent (`gen_ai.request.max_tokens`, `temperature`, `top_p`, `top_k`, `frequency_penalty`, `presence_penalty`, `stop_sequences`, `seed`, `choice.count` when not 1, `gen_ai.output.type` for a JSON response format, `encoding_formats` and `gen_ai.embeddings.dimension.count` for embeddings), `gen_ai.conversation.id` when the application gives one (`conversationId`), and the response attributes. Spans of the provider `openai` also carry the attributes of the OpenAI page of the conventions: `openai.request.service_tier` (conditionally required: the `service_tier` of the request unless it is `auto`), `openai.response.service_tier` (conditionally required: that of the answer) and the recommended `openai.response.system_fingerprint`, from `openAiRequestServiceTier`, `openAiResponseServiceTier` and `openAiSystemFingerprint`; v1.41 defines them for `gen_ai.provider.name="openai"` alone. The metrics leave out the two the OpenAI page recommends on them (`openai.response.service_tier`, `openai.response.system_fingerprint`): the fingerprint changes with each backend update of OpenAI and would split every series. `gen_ai.request.stream` is set on every attempt, `false` on non-streamed ones: the conventions only require it on streamed requests and read its absence as not streamed, so both readings agree, and queries on `false` written against earlier releases keep working.',
    '',
    "Message content (`gen_ai.input.messages`, `gen_ai.system_instructions`, `gen_ai.output.messages`, `gen_ai.tool.definitions`) is off by default, as the conventions ask, since it may hold personal data: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` (or `captureGenAiContent: true`) turns it on for the spans of code that reads `GatewayTelemetry.genAiContent`, as the example gateway's attempt spans do. Each is a JSON string following the v1.41.0 JSON schemas, set on recording spans only; `GATEWAYZ_GENAI_CONTENT_MAX_LENGTH` cuts each text content and tool argument string, keeping the JSON whole (a cut string ends with `…[truncated]`). `event_only` or `span_and_event` puts it, structured, in the opt-in `gen_ai.client.inference.operation.details` events (log records, one per inference call, sampled or not; `OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT` switches them). The same switch turns on the `gen_ai.client.operation.exception` events (`emitGenAiOperationException()`: severity WARN, `exception.type` and `exception.message`, no content), which the example gateway emits for each failed provider attempt. None of it is ever a metric label.",
    '',
    '`tokens_used_total{token_type}` has `input` and `output` (every token of the call) and three subsets, as the conventions define `gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_creation.input_tokens` and `gen_ai.usage.reasoning.output_tokens`: `cache_read` and `cache_write` are part of `input`, `reasoning` is part of `output`. A sum over every `token_type` counts them twice: sum `token_type=~"input|output"` for the total (the summary does).',
    '',
    '## Gauges in cluster mode',
    '',
    'In node:cluster mode one scrape answers the aggregate of every worker: counters, up-down counters and histograms add up; each gauge merges by its rule: `max` (the highest worker value: the same figure derived from shared state, or any worker being in a state), `sum` (each worker holds a part) or `min`.',
    '',
    '| Gauge | Merge |',
    '| --- | --- |',
  );
  for (const [, definition] of entries) {
    if (definition.kind !== 'gauge') continue;
    lines.push(`| \`${prometheusName(definition, prefix)}\` | ${definition.clusterMerge ?? 'max'} |`);
  }
  lines.push('');
  lines.push('## PromQL examples', '', '| Question | Query |', '| --- | --- |');
  for (const [question, query] of QUERY_EXAMPLES) {
    const forPrefix = query.split(DEFAULT_METRIC_PREFIX).join(prefix);
    lines.push(`| ${question} | \`${forPrefix.replace(/\|/g, '\\|')}\` |`);
  }
  lines.push('');
  return lines.join('\n');
}
