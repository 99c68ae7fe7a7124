import { badRequest } from './openai-errors.js';

/**
 * What an image's price depends on besides its model: the `size` and `quality` of an image
 * generation request, or of its answer (GPT image models say what they made, `auto` resolved).
 * Absent when not given: the price table then reads OpenAI's defaults (see `imagePriceOf`).
 */
export interface ImageOptions {
  readonly size?: string;
  readonly quality?: string;
}

/** A validated `POST /v1/images/generations` request. */
export interface ImagesRequest {
  model: string;
  /** Images asked for: `n`, 1 when absent. */
  n: number;
  /** The request as sent upstream. */
  body: Record<string, unknown>;
}

/**
 * Validate an OpenAI image generation request: `model`, `prompt` and `n` (an integer from 1 to
 * 10, default 1). `size` and `quality` are the provider's to check (see `imageOptionsOf` for the price).
 * Throws a 400 `ApiError` in OpenAI's shape.
 */
export function validateImagesRequest(body: Record<string, unknown>): ImagesRequest {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  const prompt = body['prompt'];
  if (typeof prompt !== 'string' || prompt.trim() === '')
    throw badRequest('prompt: field required (a non-empty string)', 'prompt');
  const n = body['n'] ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10)
    throw badRequest('n must be an integer from 1 to 10', 'n');
  return { model, n, body };
}

/**
 * The size and quality an image answer reports (GPT image models send both, DALL·E neither), each
 * falling back to what the request asked for: the answer says what was made, and billed.
 */
export function answeredImageOptions(answer: Record<string, unknown>, requested: ImageOptions): ImageOptions {
  const answered = imageOptionsOf(answer);
  return options(answered.size ?? requested.size, answered.quality ?? requested.quality);
}

/** `size` and `quality` of an image request or answer; `null` is absent, as OpenAI reads it. */
export function imageOptionsOf(body: Record<string, unknown>): ImageOptions {
  return options(optionOf(body['size']), optionOf(body['quality']));
}

/** The options given (no field for one left out). */
function options(size: string | undefined, quality: string | undefined): ImageOptions {
  const given: { size?: string; quality?: string } = {};
  if (size !== undefined) given.size = size;
  if (quality !== undefined) given.quality = quality;
  return given;
}

/** A value that is not a string is still given (the provider refuses it), so it names no listed price. */
const optionOf = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
