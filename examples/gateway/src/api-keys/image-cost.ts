import type { ProviderConfig } from '../config.js';
import { imageOptionsOf } from '../protocol/images.js';
import { pricedByTokens, pricedImages } from '../provider-pricing.js';
import type { CostBound } from './cost-estimate.js';

/**
 * Output tokens held per image for an image model priced by tokens: the most GPT Image 1 bills for
 * one image (6,240 at `high` quality and 1024x1536; 4,160 at 1024x1024, 272 at `low`). A model
 * that bills more per image (a larger size, streamed partial images at 100 tokens each) can cost
 * more than its hold.
 */
export const IMAGE_OUTPUT_TOKENS_BOUND = 6240;

/**
 * The bound of an image generation request for `n` images (`body`: the request, read for its
 * `size` and `quality`, and its UTF-8 bytes as the input tokens of a model priced by tokens: every
 * token of the prompt is at least one byte, and the rest of the body covers its framing). Priced
 * per provider by `ImageCosts`.
 *
 * @example
 * ```ts
 * imagesBound('dall-e-3', 1, { model: 'dall-e-3', prompt: 'a lighthouse', size: '1792x1024', quality: 'hd' });
 * ```
 */
export function imagesBound(model: string, n: number, body: Record<string, unknown> = {}): CostBound {
  return {
    operation: 'image_generation',
    model,
    inputTokens: Buffer.byteLength(JSON.stringify(body), 'utf8'),
    outputTokens: n * IMAGE_OUTPUT_TOKENS_BOUND,
    images: n,
    imageOptions: imageOptionsOf(body),
  };
}

/**
 * How an image request's bound (`imagesBound`) is priced at each provider: its images at the price
 * the provider's `pricing` selects by size and quality (`pricedImages`) and, when the provider
 * prices the model by tokens, its tokens, whichever costs more, since the answer is charged one or
 * the other (its token usage when it reports one, else its images).
 */
export class ImageCosts {
  private readonly providers = new Map<string, ProviderConfig>();

  constructor(providers: readonly ProviderConfig[]) {
    for (const provider of providers) this.providers.set(provider.name, provider);
  }

  /**
   * The bounds without image options that one attempt within `bound` at `provider` may cost: the
   * most of their prices at `provider` is what the attempt can cost at most.
   */
  boundsAt(bound: CostBound, provider: string): CostBound[] {
    const { operation, model, inputTokens, outputTokens } = bound;
    const config = this.providers.get(provider);
    const images =
      config === undefined ? bound.images : pricedImages(config, model, bound.images, bound.imageOptions ?? {});
    const byImages: CostBound = { operation, model, inputTokens: 0, outputTokens: 0, images };
    if (config === undefined || !pricedByTokens(config, model)) return [byImages];
    return [byImages, { operation, model, inputTokens, outputTokens, images: 0 }];
  }
}
