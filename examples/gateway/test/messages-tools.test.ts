import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * Tool use on /v1/messages (Anthropic Messages translated to an OpenAI chat upstream), with the
 * official Anthropic SDK against the gateway and a loopback upstream.
 */

const CHAT = '/v1/chat/completions';
const model = 'gpt-tools';

let gw: ScriptedGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  gw = await startScriptedGateway({ name: 'openai', models: [model] });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('tool use on /v1/messages', () => {
  it('refuses a request with tools in Anthropic error shape, without calling the upstream', async () => {
    gw.upstream.scriptJson(CHAT, { id: 'x', choices: [] });
    const error = await anthropic.messages
      .create({ model, max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Paris?' }] })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as {
      type: string;
      error: { type: string; message: string };
    };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('tools');
    expect(gw.upstream.lastBody(CHAT)).toBeUndefined();
  });
});
