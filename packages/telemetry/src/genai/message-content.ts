import { diag, type Span } from '@opentelemetry/api';
import { peekTelemetry } from '../metrics/shared-telemetry.js';

/**
 * What ends a string that `contentMaxLength` cut: the first `contentMaxLength` characters (UTF-16
 * code units; one fewer when the cut would split a surrogate pair) are kept and this marker is
 * appended, so a cut value reads as cut and the JSON around it stays whole.
 *
 * @example
 * ```ts
 * startGenAiSpan(tracer, { ...start, inputMessages, contentMaxLength: 5 });
 * // a text part "Hello, world" is recorded as "Hello…[truncated]"
 * ```
 */
export const GEN_AI_CONTENT_TRUNCATION_MARKER = '…[truncated]';

/** Fields of messages and parts that say what a part is or where it points: never cut. */
const STRUCTURAL_FIELDS = new Set([
  'type',
  'role',
  'name',
  'id',
  'finish_reason',
  'mime_type',
  'modality',
  'uri',
  'file_id',
]);

/** Thrown inside the walk for a value JSON cannot hold; caught before it leaves this module. */
class NotSerialisable extends Error {}

/** Why a content attribute was left out: the `reason` label of `gatewayz_telemetry_genai_content_dropped_total`. */
type ContentDropReason = 'unserialisable' | 'not_an_array' | 'invalid_max_length';

/** Attributes already warned about (one warning per attribute and reason for the process). */
const warned = new Set<string>();

/**
 * Count a content attribute left out in the shared telemetry instance's
 * `gatewayz_telemetry_genai_content_dropped_total` (the span helpers take no instance), and warn
 * once per attribute and reason.
 */
function dropContent(attribute: string, reason: ContentDropReason, detail: string): void {
  peekTelemetry()?.add('telemetryGenAiContentDropped', 1, { attribute, reason });
  const key = `${attribute}:${detail}`;
  if (warned.has(key)) return;
  warned.add(key);
  diag.warn(
    `@gatewayz/telemetry: ${attribute} not recorded: ${detail}. Further ones are dropped without a warning (counted by reason in the telemetry_genai_content_dropped self-metric).`,
  );
}

function cut(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = maxLength;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + GEN_AI_CONTENT_TRUNCATION_MARKER;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A copy of `value` with every string cut to `maxLength`; throws `NotSerialisable` for a cycle or a bigint. */
function cutDeep(value: unknown, maxLength: number, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return cut(value, maxLength);
  if (typeof value === 'bigint') throw new NotSerialisable('a BigInt value');
  if (typeof value !== 'object' || value === null) return value;
  // As JSON.stringify does: a Date (or any toJSON) becomes what its toJSON returns.
  const toJson = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJson === 'function') return cutDeep(toJson.call(value), maxLength, ancestors);
  if (ancestors.has(value)) throw new NotSerialisable('a cyclic value');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => cutDeep(item, maxLength, ancestors));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = cutDeep(item, maxLength, ancestors);
    return copy;
  } finally {
    ancestors.delete(value);
  }
}

/** A message or part with its content fields cut (`parts` walked part by part), structural fields as they are. */
function cutEntries(value: unknown, maxLength: number): unknown {
  if (!isRecord(value)) return cutDeep(value, maxLength, new Set());
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (STRUCTURAL_FIELDS.has(key)) copy[key] = item;
    else if (key === 'parts' && Array.isArray(item)) copy[key] = item.map((part) => cutEntries(part, maxLength));
    else copy[key] = cutDeep(item, maxLength, new Set([value]));
  }
  return copy;
}

/**
 * `value` (messages or system instruction parts) as the JSON string the attribute holds, every
 * text content and tool argument string cut to `maxLength`; `undefined`, with one warning per
 * attribute and reason, when it cannot be (not an array, a cyclic or BigInt value, a bad
 * `maxLength`). Never throws.
 */
function contentJson(attribute: string, value: unknown, maxLength: number | undefined): string | undefined {
  if (!Array.isArray(value)) {
    dropContent(attribute, 'not_an_array', `expected an array, got ${value === null ? 'null' : typeof value}`);
    return undefined;
  }
  if (maxLength !== undefined && (!Number.isSafeInteger(maxLength) || maxLength < 1)) {
    dropContent(
      attribute,
      'invalid_max_length',
      `contentMaxLength must be a positive integer, got ${String(maxLength)}`,
    );
    return undefined;
  }
  try {
    return JSON.stringify(maxLength === undefined ? value : value.map((item) => cutEntries(item, maxLength)));
  } catch (error) {
    const reason =
      error instanceof NotSerialisable
        ? error.message
        : error instanceof RangeError
          ? 'it is nested too deeply'
          : 'a cyclic or BigInt value';
    dropContent(attribute, 'unserialisable', `its value cannot be serialised to JSON (${reason})`);
    return undefined;
  }
}

/**
 * @internal `value` as the plain structured value an event attribute holds: exactly what the span
 * attribute's JSON string parses to (cut alike); `undefined`, warned about, when it cannot be.
 */
export function genAiContentValue(attribute: string, value: unknown, maxLength: number | undefined): unknown {
  const json = contentJson(attribute, value, maxLength);
  return json === undefined ? undefined : (JSON.parse(json) as unknown);
}

/**
 * @internal Set the content attributes on `span` as JSON strings, only when it is recording (an
 * unsampled span costs no serialisation). A value that cannot be serialised is left out.
 */
export function setGenAiContentAttributes(
  span: Span,
  content: ReadonlyArray<readonly [attribute: string, value: unknown]>,
  maxLength: number | undefined,
): void {
  if (!span.isRecording()) return;
  for (const [attribute, value] of content) {
    if (value === undefined) continue;
    const json = contentJson(attribute, value, maxLength);
    if (json !== undefined) span.setAttribute(attribute, json);
  }
}
