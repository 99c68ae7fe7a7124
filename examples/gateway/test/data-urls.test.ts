import { afterEach, describe, expect, it } from 'vitest';
import { chatContent, mediaPart } from '../src/protocol/chat-content.js';
import { SpanRecorder } from './harness.js';
import { chatCompletionAnswer, startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * `data:` URLs in captured content, read as the URL standard reads them: a `%` that does not start
 * an escape is a `%`, an escape may be any byte (not only UTF-8), the MIME type may carry
 * parameters, and `base64` is case-insensitive. None of them may fail the request: content capture
 * only observes it.
 */

const base64 = (bytes: string | Buffer): string => Buffer.from(bytes).toString('base64');

describe('a chat file part', () => {
  const captured = (file: unknown): unknown =>
    chatContent({ messages: [{ role: 'user', content: [{ type: 'file', file }] }] }).inputMessages?.[0]?.parts;

  it('with inline file_data is a blob part (the conventions keep file parts for uploaded files), MIME type from its data: URL', () => {
    expect(captured({ filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' })).toEqual([
      { type: 'blob', modality: 'document', mime_type: 'application/pdf', content: 'JVBERi0x' },
    ]);
    expect(captured({ file_data: 'JVBERi0x' })).toEqual([{ type: 'blob', modality: 'document', content: 'JVBERi0x' }]);
  });

  it('with a file_id is a file part, and without either is left out', () => {
    expect(captured({ file_id: 'file-123' })).toEqual([{ type: 'file', modality: 'document', file_id: 'file-123' }]);
    expect(captured({ filename: 'a.pdf' })).toEqual([]);
    expect(captured('not an object')).toEqual([]);
  });
});

describe('a data: URL recorded as a blob part', () => {
  it('keeps a % that starts no escape as it is', () => {
    expect(mediaPart('data:text/plain,100%', 'image')).toEqual({
      type: 'blob',
      modality: 'image',
      mime_type: 'text/plain',
      content: base64('100%'),
    });
    expect(mediaPart('data:,50%25%2', 'image')).toMatchObject({ content: base64('50%%2') });
  });

  it('decodes escapes to bytes, UTF-8 or not', () => {
    expect(mediaPart('data:application/octet-stream,%FF%fe%00', 'image')).toMatchObject({
      content: base64(Buffer.from([0xff, 0xfe, 0x00])),
    });
    expect(mediaPart('data:text/plain,caf%C3%A9%20%E2%82%AC', 'image')).toMatchObject({ content: base64('café €') });
  });

  it('takes a MIME type with parameters, without them, and base64 in any case', () => {
    expect(mediaPart('data:text/plain;charset=utf-8,a%20b', 'image')).toEqual({
      type: 'blob',
      modality: 'image',
      mime_type: 'text/plain',
      content: base64('a b'),
    });
    expect(mediaPart('DATA:image/png;name=x.png;BASE64,iVBORw0KGgo=', 'image')).toEqual({
      type: 'blob',
      modality: 'image',
      mime_type: 'image/png',
      content: 'iVBORw0KGgo=',
    });
  });

  it('leaves other URLs as URI parts', () => {
    expect(mediaPart('https://example.com/cat.png', 'image')).toEqual({
      type: 'uri',
      modality: 'image',
      uri: 'https://example.com/cat.png',
    });
  });

  it('does not throw from chatContent for any of them', () => {
    const urls = ['data:text/plain,100%', 'data:,%E0%A4%A', 'data:image/png;base64,%%%'];
    const { inputMessages } = chatContent({
      messages: [{ role: 'user', content: urls.map((url) => ({ type: 'image_url', image_url: { url } })) }],
    });
    expect(inputMessages?.[0]?.parts).toHaveLength(3);
  });
});

describe('a request with a data: URL that decodeURIComponent cannot read, content capture on', () => {
  let running: ScriptedGateway | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('is answered, on /v1/chat/completions and /v1/responses, and its content recorded', async () => {
    const spans = new SpanRecorder();
    running = await startScriptedGateway({ name: 'p', models: ['m'] }, [spans], {
      telemetryEnv: { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true', OTEL_TRACES_SAMPLER: 'always_on' },
    });
    const url = 'data:text/plain,100%';
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${running!.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    running.upstream.scriptJson('/v1/chat/completions', chatCompletionAnswer('c1', 'm', 'ok', usage));
    const chat = await post('/v1/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
    });
    expect(chat.status).toBe(200);
    running.upstream.scriptJson('/v1/chat/completions', chatCompletionAnswer('c2', 'm', 'ok', usage));
    const responses = await post('/v1/responses', {
      model: 'm',
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }],
    });
    expect(responses.status).toBe(200);

    const recorded = spans.spans
      .map((span) => span.attributes['gen_ai.input.messages'])
      .filter((value): value is string => typeof value === 'string');
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    for (const messages of recorded) expect(messages).toContain(`"content":"${base64('100%')}"`);
  });
});
