import type { PricingTable, UsageForPricing } from '@gatewayz/telemetry/genai';
import type { ProviderConfig } from '../config.js';
import type { ImageOptions } from '../protocol/images.js';
import type { Operation } from '../request/attempt.js';
import { modelsServed } from '../request/provider-chain.js';
import { ImageCosts, imagesBound } from './image-cost.js';

/**
 * Output tokens a chat request that sets no output limit is held for against its key's budget
 * (`GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS`): what such a request can spend beyond its hold is its
 * output past this many tokens.
 */
export const DEFAULT_BUDGET_HOLD_OUTPUT_TOKENS = 4096;

/**
 * Tokens held for each content part that is not text (an image, audio or file part): about the
 * most one image costs at OpenAI's high detail (1,105 to 1,445 tokens for the largest tilings) and
 * at Anthropic (about 1,600 tokens at 1.15 megapixels). Long audio or large files can cost more.
 */
export const MEDIA_PART_TOKENS = 2000;

/** Tokens held per object or array of a request (a message's role and separators, a tool's framing). */
const STRUCTURE_TOKENS = 4;

/** Content part types that are text: their strings are counted like any other. */
const TEXT_PART_TYPES = new Set(['text', 'input_text', 'output_text', 'refusal']);

/**
 * The most a request can use, in the units it is priced by: what `CostEstimator` prices at the
 * dearest provider to hold it, and at one provider for one attempt.
 */
export interface CostBound {
  readonly operation: Operation;
  readonly model: string;
  /** Input tokens, bounded from above (UTF-8 bytes of the prompt, see `promptTokens`). */
  readonly inputTokens: number;
  /** Output tokens: `n` × the output limit, or the configured hold when the request sets none. */
  readonly outputTokens: number;
  /** Images (image generation). */
  readonly images: number;
  /** Image generation: the size and quality its images are priced by, per provider (see image-cost.ts). */
  readonly imageOptions?: ImageOptions;
}

/**
 * What a request can cost at most, held against its key's budget when it is admitted (see
 * `ApiKeyAccount.hold`): the most any provider serving the model charges for it, priced by the
 * gateway's `PricingTable` with the same arithmetic as the charge, so a request whose cost is
 * known in advance (an image) is held for exactly what it is then charged.
 *
 * - Images: `n` × the price per image the provider's `pricing` selects by the request's size and
 *   quality (plus any per-request price); for a model priced by tokens too, the request's UTF-8
 *   bytes as input and `n` × `IMAGE_OUTPUT_TOKENS_BOUND` output tokens, if that costs more (see
 *   image-cost.ts).
 * - Embeddings: the input's tokens, bounded from above by its UTF-8 bytes (token arrays: their length).
 * - Chat (chat completions, Responses, Messages): the prompt's tokens bounded the same way (every
 *   string of the messages and tool definitions, keys included, plus {@link STRUCTURE_TOKENS} per
 *   object and {@link MEDIA_PART_TOKENS} per image, audio or file part), and `n` × the output
 *   limit (`max_completion_tokens`, else `max_tokens`) at the dearest output price, or the configured
 *   hold (`GATEWAY_BUDGET_HOLD_OUTPUT_TOKENS`) when the request sets none.
 *
 * UTF-8 bytes bound the text's tokens for the byte-level BPE tokenizers of OpenAI's, Anthropic's and
 * Llama 3's models (every token is at least one byte); ordinary English text has about four bytes
 * a token, so the hold of a text prompt is some four times its cost, and is released at completion.
 * Input priced at the dearest of the model's input, cache-read, cache-write, one-hour cache-write
 * and audio input prices, output at the dearer of its output and audio output prices.
 */
export class CostEstimator {
  private readonly providers: Record<Operation, Map<string, string[]>> = {
    chat: new Map(),
    embeddings: new Map(),
    image_generation: new Map(),
  };
  /** One pricing question reused for every estimate (the table reads it synchronously). */
  private readonly usage: UsageForPricing = { provider: '', model: '' };
  /** How an image request's bound is priced at each provider. */
  private readonly imageCosts: ImageCosts;

  constructor(
    providers: readonly ProviderConfig[],
    private readonly pricing: PricingTable,
    /** Output tokens held for a chat request that sets no output limit. */
    private readonly holdOutputTokens: number = DEFAULT_BUDGET_HOLD_OUTPUT_TOKENS,
  ) {
    this.imageCosts = new ImageCosts(providers);
    for (const provider of providers) {
      for (const operation of Object.keys(this.providers) as Operation[]) {
        for (const model of modelsServed(provider, operation)) {
          const serving = this.providers[operation].get(model) ?? [];
          serving.push(provider.name);
          this.providers[operation].set(model, serving);
        }
      }
    }
  }

  /** An image request for `n` images (`body`: the request, for its size, quality and prompt). */
  images(model: string, n: number, body: Record<string, unknown> = {}): number {
    return this.maximum(this.imagesBound(model, n, body));
  }

  /** An embeddings request's input (a string, strings, token arrays). */
  embeddings(model: string, input: unknown): number {
    return this.maximum(this.embeddingsBound(model, input));
  }

  /**
   * A chat request in OpenAI's chat shape (chat completions, and Responses and Messages as sent
   * upstream); `tools` are the tool definitions when the body does not carry them (a Responses
   * request's, which a provider serving that API is sent).
   */
  chat(model: string, body: Record<string, unknown>, tools: unknown = body['tools']): number {
    return this.maximum(this.chatBound(model, body, tools));
  }

  /** The bound of an image request for `n` images (see `images`). */
  imagesBound(model: string, n: number, body: Record<string, unknown> = {}): CostBound {
    return imagesBound(model, n, body);
  }

  /** The bound of an embeddings request (see `embeddings`). */
  embeddingsBound(model: string, input: unknown): CostBound {
    return { operation: 'embeddings', model, inputTokens: embeddingTokens(input), outputTokens: 0, images: 0 };
  }

  /** The bound of a chat request (see `chat`). */
  chatBound(model: string, body: Record<string, unknown>, tools: unknown = body['tools']): CostBound {
    const inputTokens =
      promptTokens(body['messages']) +
      promptTokens(tools) +
      promptTokens(body['functions']) +
      promptTokens(body['response_format']);
    // A request carrying both limits is held for the larger: the body goes upstream as it came, and
    // a provider may read either one (many OpenAI-compatible servers know only max_tokens).
    const limits = [positiveInteger(body['max_completion_tokens']), positiveInteger(body['max_tokens'])].filter(
      (value): value is number => value !== undefined,
    );
    const limit = limits.length === 0 ? undefined : Math.max(...limits);
    const choices = positiveInteger(body['n']) ?? 1;
    return {
      operation: 'chat',
      model,
      inputTokens,
      outputTokens: (limit ?? this.holdOutputTokens) * choices,
      images: 0,
    };
  }

  /** What a request within `bound` can cost at most at the dearest provider serving its model: its hold. */
  maximum(bound: CostBound): number {
    const serving = this.providers[bound.operation].get(bound.model);
    if (serving === undefined) return 0;
    let most = 0;
    for (const provider of serving) most = Math.max(most, this.atProvider(bound, provider));
    return most;
  }

  /**
   * What one attempt within `bound` can cost at most at `provider`'s prices: its input all of the
   * kind of input token the provider prices dearest (uncached, cache-read, cache-write, one-hour
   * cache-write or audio), its output all of the dearer kind of output token (text or audio);
   * `outputTokens` replaces the bound's output when fewer can have been generated (a cancelled
   * stream's output received so far).
   */
  atProvider(bound: CostBound, provider: string, outputTokens: number = bound.outputTokens): number {
    if (bound.imageOptions !== undefined)
      return Math.max(...this.imageCosts.boundsAt(bound, provider).map((plain) => this.atProvider(plain, provider)));
    // A priced model whose table refuses the bound (a count past `Number.MAX_SAFE_INTEGER`:
    // `max_tokens` × `n` past what a double holds exactly) cannot be held for: Infinity, so the
    // request is refused rather than held for nothing. A model without a price costs nothing, as it
    // is charged (a gateway whose keys file gives a key a budget does not start with one:
    // priced-budgets.ts).
    const unpriceable = this.pricing.has(provider, bound.model) ? Infinity : 0;
    // Checked here, not by the table: a bound is not usage, and the table counts the usage it refuses.
    if (![bound.inputTokens, outputTokens, bound.images].every((count) => count <= Number.MAX_SAFE_INTEGER)) {
      return unpriceable;
    }
    const usage = this.usage;
    usage.provider = provider;
    usage.model = bound.model;
    usage.images = bound.images;
    usage.inputTokens = bound.inputTokens;
    usage.outputTokens = outputTokens;
    for (const kind of INPUT_KINDS) for (const subset of kind) usage[subset] = 0;
    usage.audioOutputTokens = 0;
    let most = this.pricing.cost(usage) ?? unpriceable;
    // Input and output are priced apart and summed: the dearest output kind, then each input kind with it.
    if (outputTokens > 0) {
      usage.audioOutputTokens = outputTokens;
      const audio = this.pricing.cost(usage) ?? unpriceable;
      if (audio > most) most = audio;
      else usage.audioOutputTokens = 0;
    }
    if (bound.inputTokens === 0) return most;
    for (const kind of INPUT_KINDS) {
      for (const subset of kind) usage[subset] = bound.inputTokens;
      most = Math.max(most, this.pricing.cost(usage) ?? unpriceable);
      for (const subset of kind) usage[subset] = 0;
    }
    return most;
  }
}

/** The subsets of the input a price table prices apart from uncached text. */
type InputSubset =
  'cacheReadInputTokens' | 'cacheCreationInputTokens' | 'cacheCreation1hInputTokens' | 'audioInputTokens';

/** Each kind of input token as the subsets a whole input of that kind sets (a one-hour write is a cache write). */
const INPUT_KINDS: readonly (readonly InputSubset[])[] = [
  ['cacheReadInputTokens'],
  ['cacheCreationInputTokens'],
  ['cacheCreationInputTokens', 'cacheCreation1hInputTokens'],
  ['audioInputTokens'],
];

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Embeddings input tokens: UTF-8 bytes of each string, the length of each token array (walked without recursion). */
function embeddingTokens(input: unknown): number {
  let tokens = 0;
  const pending: unknown[] = [input];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') tokens += Buffer.byteLength(value, 'utf8');
    else if (!Array.isArray(value)) continue;
    else if (value.every((item) => typeof item === 'number')) tokens += value.length;
    else for (const item of value) pending.push(item);
  }
  return tokens;
}

/**
 * An upper bound of the tokens of a prompt's messages or tool definitions (see `CostEstimator`):
 * UTF-8 bytes of every key and string, digits of numbers, {@link STRUCTURE_TOKENS} per object or
 * array, and {@link MEDIA_PART_TOKENS} for a content part that is not text (an item of a `content`
 * array: its URL or base64 data is not counted). Only a content part is taken for media: a message
 * or a tool definition with a `type` or `image_url` field of its own is counted whole. Walked with
 * a stack rather than recursion, so no nesting depth can overflow the call stack.
 */
export function promptTokens(value: unknown): number {
  let tokens = 0;
  const pending: unknown[] = [value];
  // For each pending value, whether it is an item of a `content` array, which may be media.
  const parts: boolean[] = [false];
  while (pending.length > 0) {
    const item = pending.pop();
    const part = parts.pop() as boolean;
    if (typeof item === 'string') tokens += Buffer.byteLength(item, 'utf8');
    else if (typeof item === 'number') tokens += String(item).length;
    else if (typeof item !== 'object' || item === null) tokens += item === undefined ? 0 : 1;
    else if (Array.isArray(item)) {
      tokens += STRUCTURE_TOKENS;
      for (const element of item) {
        pending.push(element);
        parts.push(part);
      }
    } else if (part && isMediaPart(item as Record<string, unknown>)) tokens += MEDIA_PART_TOKENS;
    else {
      tokens += STRUCTURE_TOKENS;
      for (const key in item) {
        const field = (item as Record<string, unknown>)[key];
        tokens += Buffer.byteLength(key, 'utf8');
        pending.push(field);
        // The items of a `content` array are content parts (text, image, audio, file).
        parts.push(key === 'content' && Array.isArray(field));
      }
    }
  }
  return tokens;
}

/** A content part that is not text: an image, audio or file (by its type, or its payload field). */
function isMediaPart(part: Record<string, unknown>): boolean {
  const type = part['type'];
  if (typeof type !== 'string' || TEXT_PART_TYPES.has(type)) return false;
  return (
    type === 'image_url' ||
    type === 'input_image' ||
    type === 'input_audio' ||
    type === 'input_file' ||
    type === 'file' ||
    type === 'image' ||
    type === 'document' ||
    'image_url' in part ||
    'input_audio' in part
  );
}
