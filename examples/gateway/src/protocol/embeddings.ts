import { badRequest } from './openai-errors.js';
import { withFields } from '../with-fields.js';

/** A validated `POST /v1/embeddings` request. */
export interface EmbeddingsRequest {
  model: string;
  encodingFormat: 'float' | 'base64';
  /** The request as sent upstream (`encoding_format` as the client asked). */
  body: Record<string, unknown>;
}

const MAX_INPUTS = 2048;

/**
 * Validate an OpenAI embeddings request: `model`, `input` (a string, an array of strings, or
 * token arrays), `encoding_format` (`float` or `base64`, default `float`) and `dimensions`.
 * Throws a 400 `ApiError` in OpenAI's shape.
 */
export function validateEmbeddingsRequest(body: Record<string, unknown>): EmbeddingsRequest {
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '')
    throw badRequest('model: field required (a non-empty string)', 'model');
  const input = body['input'];
  const isTokens = (value: unknown): boolean =>
    Array.isArray(value) && value.length > 0 && value.every((token) => Number.isInteger(token) && token >= 0);
  const valid =
    (typeof input === 'string' && input !== '') ||
    isTokens(input) ||
    (Array.isArray(input) &&
      input.length > 0 &&
      input.length <= MAX_INPUTS &&
      input.every((item) => (typeof item === 'string' && item !== '') || isTokens(item)));
  if (!valid) {
    throw badRequest(
      `input: field required (a non-empty string, or an array of at most ${MAX_INPUTS} non-empty strings or token arrays)`,
      'input',
    );
  }
  const encodingFormat = body['encoding_format'] ?? 'float';
  if (encodingFormat !== 'float' && encodingFormat !== 'base64')
    throw badRequest('encoding_format must be float or base64', 'encoding_format');
  const dimensions = body['dimensions'];
  if (
    dimensions !== undefined &&
    dimensions !== null &&
    (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)
  ) {
    throw badRequest('dimensions must be a positive integer', 'dimensions');
  }
  return { model, encodingFormat, body: withFields(body, { encoding_format: encodingFormat }) };
}

/** Float32 values as base64 (little-endian), the encoding OpenAI's `encoding_format: "base64"` uses. */
export function base64OfFloats(values: readonly number[]): string {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/** The floats of a base64 embedding (little-endian Float32). */
export function floatsOfBase64(text: string): number[] {
  // A copy: Buffer.from may hand out a slice of its pool at an offset Float32Array cannot start at.
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  const floats = new Float32Array(bytes.buffer, 0, Math.floor(bytes.byteLength / 4));
  return Array.from(floats);
}

/**
 * The upstream's embeddings in the encoding the client asked for: an upstream that ignored
 * `encoding_format` is converted, so the client always gets what it asked for.
 */
export function inEncoding(
  result: Record<string, unknown>,
  encodingFormat: 'float' | 'base64',
): Record<string, unknown> {
  const data = result['data'];
  if (!Array.isArray(data)) return result;
  return withFields(result, {
    data: data.map((item: unknown) => {
      const entry = item as { embedding?: unknown } | null;
      if (entry === null || typeof entry !== 'object') return item;
      const embedding = entry.embedding;
      if (encodingFormat === 'base64' && Array.isArray(embedding))
        return withFields(entry, { embedding: base64OfFloats(embedding as number[]) });
      if (encodingFormat === 'float' && typeof embedding === 'string')
        return withFields(entry, { embedding: floatsOfBase64(embedding) });
      return entry;
    }),
  });
}
