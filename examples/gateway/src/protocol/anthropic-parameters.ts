import { badRequest } from './openai-errors.js';
import { isObject, type Json } from './json.js';

/*
 * The generation parameters of an Anthropic Messages request as OpenAI chat parameters: sampling
 * (`temperature`, `top_p`), `stop_sequences`, `metadata.user_id`, `thinking` and `output_config`
 * (effort, JSON schema output). What would change the answer and has no OpenAI counterpart
 * (`top_k`, Anthropic's containers and MCP servers) is refused with a 400, never dropped. The
 * messages and tools are in anthropic-request.ts.
 */

const isSet = (value: unknown): boolean => value !== undefined && value !== null;

/**
 * The `anthropic-version` that removed the sampling parameters: from it on, Anthropic answers a
 * request carrying `temperature`, `top_p` or `top_k` with a 400 (`Extra inputs are not
 * permitted`), whatever their value. The official SDKs send it by default since their 2026-10-21
 * majors (TypeScript 1.0.0), whose request types no longer have the three fields.
 */
const SAMPLING_REMOVED_IN = '2026-10-21';

/** API versions that still take `temperature`, `top_p` and `top_k`; a request without the header is read as one of them. */
const SAMPLING_VERSIONS: ReadonlySet<string> = new Set(['2023-01-01', '2023-06-01']);

/**
 * Anthropic's `output_config.effort` values as OpenAI's `reasoning_effort` levels: the same words,
 * except `max` (Anthropic's highest), which OpenAI does not take; its highest is `xhigh`.
 */
const EFFORTS: ReadonlyMap<string, string> = new Map([
  ['low', 'low'],
  ['medium', 'medium'],
  ['high', 'high'],
  ['xhigh', 'xhigh'],
  ['max', 'xhigh'],
]);

/**
 * `reasoning_effort` for a manual thinking budget (`thinking.budget_tokens`): OpenAI takes a
 * level, not a number of tokens. Below 4,096 tokens `low`, below 16,384 `medium`, else `high`:
 * Anthropic's minimum budget is 1,024 and it suggests 16k and more for complex tasks; the presets
 * of gateways that map the other way put `low` at 1k–4k, `medium` at 8k–10k, `high` at 20k–24k.
 */
function effortOfThinkingBudget(budgetTokens: number): 'low' | 'medium' | 'high' {
  if (budgetTokens < 4096) return 'low';
  if (budgetTokens < 16_384) return 'medium';
  return 'high';
}

/** A number in [0, 1], or a 400 naming `param`. */
function unitInterval(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
    throw badRequest(`${param} must be a number between 0 and 1`, param);
  return value;
}

/**
 * The sampling parameters: `temperature` and `top_p` carried over (Anthropic's ranges, 0 to 1,
 * are within OpenAI's); `top_k`, which OpenAI chat has no counterpart for, refused. On an API
 * version without them, any of the three is refused as Anthropic refuses it.
 */
function samplingOf(body: Json, apiVersion: string | undefined): Json {
  const sent = (['temperature', 'top_p', 'top_k'] as const).filter((name) => isSet(body[name]));
  if (sent.length === 0) return {};
  if (apiVersion !== undefined && !SAMPLING_VERSIONS.has(apiVersion)) {
    const name = sent[0] as string;
    throw badRequest(
      `${name}: Extra inputs are not permitted (anthropic-version ${apiVersion} has no temperature, top_p or top_k; they were removed in ${SAMPLING_REMOVED_IN}). Send anthropic-version: 2023-06-01 to use them.`,
      name,
    );
  }
  if (isSet(body['top_k'])) {
    throw badRequest(
      'top_k is not supported: the OpenAI-compatible providers behind this gateway have no top_k. Leave it out (temperature and top_p are passed on).',
      'top_k',
    );
  }
  return Object.assign(
    {},
    isSet(body['temperature']) ? { temperature: unitInterval(body['temperature'], 'temperature') } : {},
    isSet(body['top_p']) ? { top_p: unitInterval(body['top_p'], 'top_p') } : {},
  );
}

/** `stop_sequences` as OpenAI's `stop` (left out when empty). */
function stopOf(stopSequences: unknown): Json {
  if (!isSet(stopSequences)) return {};
  if (!Array.isArray(stopSequences) || !stopSequences.every((item) => typeof item === 'string' && item !== ''))
    throw badRequest('stop_sequences must be an array of non-empty strings', 'stop_sequences');
  return stopSequences.length > 0 ? { stop: stopSequences } : {};
}

/** `metadata.user_id` as OpenAI's `user` (the end user's opaque id, for the provider's abuse detection). */
function userOf(metadata: unknown): Json {
  if (!isSet(metadata)) return {};
  if (!isObject(metadata)) throw badRequest('metadata must be an object', 'metadata');
  const unknown = Object.keys(metadata).find((key) => key !== 'user_id');
  if (unknown !== undefined)
    throw badRequest(
      `metadata.${unknown}: Extra inputs are not permitted (metadata has user_id only)`,
      `metadata.${unknown}`,
    );
  const userId = metadata['user_id'];
  if (!isSet(userId)) return {};
  if (typeof userId !== 'string' || userId.length > 256)
    throw badRequest('metadata.user_id must be a string of at most 256 characters', 'metadata.user_id');
  return { user: userId };
}

/**
 * `thinking` as a `reasoning_effort` (see `effortOfThinkingBudget`) when it is `enabled` with a
 * budget; `adaptive`, `between_tools` and `disabled` send nothing: the model decides, as an
 * OpenAI-compatible model does by default. The budget is checked as Anthropic checks it.
 */
function thinkingEffort(thinking: unknown, maxTokens: number): string | undefined {
  if (!isSet(thinking)) return undefined;
  if (!isObject(thinking)) throw badRequest('thinking must be an object', 'thinking');
  switch (thinking['type']) {
    case 'enabled': {
      const budget = thinking['budget_tokens'];
      if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024)
        throw badRequest('thinking.budget_tokens must be an integer of at least 1024', 'thinking.budget_tokens');
      if (budget >= maxTokens)
        throw badRequest('thinking.budget_tokens must be less than max_tokens', 'thinking.budget_tokens');
      return effortOfThinkingBudget(budget);
    }
    case 'adaptive':
    case 'between_tools':
    case 'disabled':
      return undefined;
    default:
      throw badRequest('thinking.type must be one of enabled, adaptive, between_tools, disabled', 'thinking.type');
  }
}

/**
 * `output_config`: `effort` as `reasoning_effort` (see `EFFORTS`), `format` (a JSON schema) as a
 * strict `json_schema` response format, as Anthropic's structured outputs hold the answer to it.
 */
function outputConfigOf(config: unknown): { effort?: string; responseFormat?: Json } {
  if (!isSet(config)) return {};
  if (!isObject(config)) throw badRequest('output_config must be an object', 'output_config');
  const result: { effort?: string; responseFormat?: Json } = {};
  const effort = config['effort'];
  if (isSet(effort)) {
    const level = typeof effort === 'string' ? EFFORTS.get(effort) : undefined;
    if (level === undefined)
      throw badRequest(`output_config.effort must be one of ${[...EFFORTS.keys()].join(', ')}`, 'output_config.effort');
    result.effort = level;
  }
  const format = config['format'];
  if (isSet(format)) {
    if (!isObject(format) || format['type'] !== 'json_schema' || !isObject(format['schema']))
      throw badRequest('output_config.format must be {"type":"json_schema","schema":{...}}', 'output_config.format');
    result.responseFormat = {
      type: 'json_schema',
      json_schema: { name: 'output', schema: format['schema'], strict: true },
    };
  }
  return result;
}

/** The top-level request fields read (or refused) here. */
export const GENERATION_PARAMETER_FIELDS: readonly string[] = [
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'metadata',
  'thinking',
  'output_config',
  'container',
  'mcp_servers',
];

/** Request fields for Anthropic's own runtime (code execution containers and skills, MCP connectors), refused. */
const ANTHROPIC_RUNTIME_FIELDS: ReadonlyArray<[string, string]> = [
  ['container', 'code execution containers and skills run on Anthropic'],
  ['mcp_servers', 'MCP servers are connected by Anthropic'],
];

/**
 * The OpenAI chat parameters of an Anthropic Messages request, besides its model, messages,
 * `max_tokens` and tools. `apiVersion` is the request's `anthropic-version` header (undefined
 * without one). Throws a 400 `ApiError` for what cannot be honoured.
 *
 * @example
 * ```ts
 * generationParameters({ max_tokens: 8000, temperature: 0.2, stop_sequences: ['END'], metadata: { user_id: 'u-1' },
 *   thinking: { type: 'enabled', budget_tokens: 2048 } }, 8000, '2023-06-01');
 * // { temperature: 0.2, stop: ['END'], user: 'u-1', reasoning_effort: 'low' }
 * ```
 */
export function generationParameters(body: Json, maxTokens: number, apiVersion: string | undefined): Json {
  for (const [field, why] of ANTHROPIC_RUNTIME_FIELDS) {
    if (isSet(body[field]))
      throw badRequest(
        `${field} is not supported by this gateway: ${why}, not on its OpenAI-compatible providers`,
        field,
      );
  }
  const output = outputConfigOf(body['output_config']);
  const thinking = thinkingEffort(body['thinking'], maxTokens);
  // An explicit effort is the client's own choice; a thinking budget is mapped to one.
  const effort = output.effort ?? thinking;
  const parameters: Json = Object.assign(
    {},
    samplingOf(body, apiVersion),
    stopOf(body['stop_sequences']),
    userOf(body['metadata']),
  );
  if (effort !== undefined) parameters['reasoning_effort'] = effort;
  if (output.responseFormat !== undefined) parameters['response_format'] = output.responseFormat;
  return parameters;
}
