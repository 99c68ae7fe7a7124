/**
 * What the GenAI semantic conventions (v1.41.0, `docs/gen-ai/gen-ai-spans.md` and the input, output,
 * system-instruction and tool-definition schemas it points to) ask of `gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.system_instructions` and `gen_ai.tool.definitions`, written as JSON Schemas of our own for
 * ajv, so tests can check what the helpers and the gateway record:
 *
 * - input messages: an array of `{ role, parts, name? }`; output messages also need `finish_reason`;
 *   system instructions: an array of parts;
 * - a part needs a string `type`; each part type the conventions define needs its own fields
 *   (`text` and `reasoning` a `content`, `tool_call` a `name`, `blob` a `modality` and `content`, ...);
 *   a part of another type carries whatever it wants, as the conventions' generic part allows;
 * - tool definitions: an array of `{ type, name }`, a function's `description` a string and its
 *   `parameters` an object when present.
 *
 * Stricter than the conventions' own documents in one way: there, a known type missing its fields
 * still passes as a generic part; here it fails.
 */
import { expect } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';

/** The fields each part type of the conventions requires besides `type`, and their JSON types. */
const PART_FIELDS: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>> = {
  text: { content: 'string' },
  reasoning: { content: 'string' },
  tool_call: { name: 'string' },
  tool_call_response: { response: ['object', 'array', 'string', 'number', 'boolean', 'null'] },
  server_tool_call: { name: 'string', server_tool_call: 'object' },
  server_tool_call_response: { server_tool_call_response: 'object' },
  blob: { modality: 'string', content: 'string' },
  file: { modality: 'string', file_id: 'string' },
  uri: { modality: 'string', uri: 'string' },
};

/** Optional fields whose type is fixed when they are present. */
const OPTIONAL_STRINGS = ['id', 'mime_type'];

const part = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string' },
    ...Object.fromEntries(OPTIONAL_STRINGS.map((name) => [name, { type: ['string', 'null'] }])),
  },
  allOf: Object.entries(PART_FIELDS).map(([type, fields]) => ({
    if: { properties: { type: { const: type } }, required: ['type'] },
    then: {
      required: Object.keys(fields),
      properties: Object.fromEntries(Object.entries(fields).map(([name, json]) => [name, { type: json }])),
    },
  })),
};

const message = (required: string[]) => ({
  type: 'object',
  required,
  properties: {
    role: { type: 'string' },
    name: { type: ['string', 'null'] },
    parts: { type: 'array', items: part },
    finish_reason: { type: 'string' },
  },
});

/** A tool definition: a `type` and a `name`; a function's description and parameters, when present, a string and a JSON Schema object. */
const toolDefinition = {
  type: 'object',
  required: ['type', 'name'],
  properties: { type: { type: 'string' }, name: { type: 'string' } },
  if: { properties: { type: { const: 'function' } }, required: ['type'] },
  then: { properties: { description: { type: ['string', 'null'] }, parameters: { type: ['object', 'null'] } } },
};

const SCHEMAS: Readonly<Record<string, object>> = {
  'gen_ai.input.messages': { type: 'array', items: message(['role', 'parts']) },
  'gen_ai.output.messages': { type: 'array', items: message(['role', 'parts', 'finish_reason']) },
  'gen_ai.system_instructions': { type: 'array', items: part },
  'gen_ai.tool.definitions': { type: 'array', items: toolDefinition },
};

const ajv = new Ajv({ allErrors: true });

/** A validator per content attribute name (`gen_ai.input.messages`, ...). */
export const genAiContentValidators: Readonly<Record<string, ValidateFunction>> = Object.fromEntries(
  Object.entries(SCHEMAS).map(([attribute, schema]) => [attribute, ajv.compile(schema)]),
);

/**
 * The content attribute `attribute` of `attributes`, parsed from its JSON string after checking that
 * it is one and that it has the shape the conventions give it; fails the test otherwise.
 */
export function parsedGenAiContent(attributes: Record<string, unknown> | undefined, attribute: string): unknown {
  const json = attributes?.[attribute];
  expect(typeof json, attribute).toBe('string');
  return checkedGenAiContent(JSON.parse(json as string), attribute);
}

/**
 * `value`, the structured content attribute `attribute` (as events hold it), after checking that it
 * has the shape the conventions give it; fails the test otherwise.
 */
export function checkedGenAiContent(value: unknown, attribute: string): unknown {
  const validate = genAiContentValidators[attribute];
  expect(validate, `a schema for ${attribute}`).toBeDefined();
  expect(validate!(value), `${attribute}: ${JSON.stringify(validate!.errors)}`).toBe(true);
  return value;
}
