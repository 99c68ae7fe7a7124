/**
 * The tools of a request as `gen_ai.tool.definitions` (v1.41 tool definitions schema): OpenAI chat
 * `tools` (functions and custom tools) and legacy `functions`, Anthropic client tools; entries of
 * an unexpected shape are left out, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { anthropicToolDefinitions, chatToolDefinitions } from '../src/protocol/tool-definitions.js';
import { checkedGenAiContent } from '../../../test-support/genai-content-shapes.js';

const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

describe('chatToolDefinitions', () => {
  it('maps function tools (name, description, parameters) and custom tools (their settings, named)', () => {
    const tools = chatToolDefinitions({
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather now', parameters: schema, strict: true },
        },
        { type: 'function', function: { name: 'ping' } },
        { type: 'custom', custom: { name: 'sql', description: 'Run SQL', format: { type: 'text' } } },
      ],
    });
    expect(tools).toEqual([
      { type: 'function', name: 'get_weather', description: 'Weather now', parameters: schema },
      { type: 'function', name: 'ping' },
      { type: 'custom', name: 'sql', description: 'Run SQL', format: { type: 'text' } },
    ]);
    checkedGenAiContent(tools, 'gen_ai.tool.definitions');
  });

  it('reads the legacy functions list when there are no tools', () => {
    expect(chatToolDefinitions({ functions: [{ name: 'lookup', parameters: schema }] })).toEqual([
      { type: 'function', name: 'lookup', parameters: schema },
    ]);
  });

  it('leaves out entries it cannot read, and is undefined without any', () => {
    expect(
      chatToolDefinitions({
        tools: [
          null,
          'x',
          { type: 'function' },
          { type: 'function', function: { name: '' } },
          { function: { name: 'f' } },
        ],
      }),
    ).toBeUndefined();
    expect(chatToolDefinitions({ tools: [] })).toBeUndefined();
    expect(chatToolDefinitions({ tools: 'all' })).toBeUndefined();
    expect(chatToolDefinitions({})).toBeUndefined();
    // A parameters value that is not an object is left out, the tool kept.
    expect(
      chatToolDefinitions({ tools: [{ type: 'function', function: { name: 'f', parameters: 'x', description: 3 } }] }),
    ).toEqual([{ type: 'function', name: 'f' }]);
  });
});

describe('anthropicToolDefinitions', () => {
  it('maps client tools to functions, input_schema as parameters', () => {
    const tools = anthropicToolDefinitions({
      tools: [
        { name: 'get_weather', description: 'Weather now', input_schema: schema },
        { type: 'custom', name: 'ping', input_schema: { type: 'object' } },
        { description: 'no name', input_schema: schema },
      ],
    });
    expect(tools).toEqual([
      { type: 'function', name: 'get_weather', description: 'Weather now', parameters: schema },
      { type: 'function', name: 'ping', parameters: { type: 'object' } },
    ]);
    checkedGenAiContent(tools, 'gen_ai.tool.definitions');
    expect(anthropicToolDefinitions({})).toBeUndefined();
  });
});
