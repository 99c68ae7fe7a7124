import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startGatewayProcess } from './gateway-process.js';
import { sampleSum } from './harness.js';

/*
 * What clients get from a gateway shutting down: the answer its telemetry records for a request the
 * drain deadline cut, and no kept-alive connection to send more requests on.
 */

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** POST `body` as JSON to `path` through `agent`; resolves with the answer, or rejects with the connection's error. */
function post(url: string, path: string, body: Record<string, unknown>, agent?: Agent): Promise<Answer> {
  return send(url, path, body, agent).answer;
}

/** `post`, also saying when the first bytes of the answer's body came. */
function send(
  url: string,
  path: string,
  body: Record<string, unknown>,
  agent?: Agent,
): { answer: Promise<Answer>; firstBytes: Promise<void> } {
  let started: () => void = () => {};
  const firstBytes = new Promise<void>((resolve) => (started = resolve));
  const answer = new Promise<Answer>((resolve, reject) => {
    const sent = request(
      new URL(path, url),
      { method: 'POST', headers: { 'content-type': 'application/json' }, ...(agent !== undefined ? { agent } : {}) },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          started();
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, body: text }),
        );
        response.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(JSON.stringify(body));
  });
  return { answer, firstBytes };
}

/** Polls the gateway's /metrics until `count` requests to `path` are in progress (10 s at most). */
async function waitForInProgress(url: string, path: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (sampleSum(text, 'fastapi_requests_in_progress', { path }) >= count) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} ${path} requests in progress after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const messages = [{ role: 'user', content: 'hello' }];
const openAiShutdownError = {
  error: { message: expect.any(String), type: 'server_error', param: null, code: 'server_shutdown' },
};

describe('what clients of a gateway shutting down get', () => {
  it("answers a request the drain deadline cut 503 in its API's error shape, then closes its connection", async () => {
    const gateway = await startGatewayProcess({
      OTEL_METRICS_EXPORTER: 'prometheus',
      SHUTDOWN_TIMEOUT_MS: '300',
      // No answer starts before the deadline: every request is cut waiting for its provider.
      DEMO_LATENCY_MS: '5000',
      DEMO_ERROR_RATE: '0',
    });
    const answers = Promise.all([
      post(gateway.url, '/v1/chat/completions', { model: 'gpt-4o', messages }),
      // A stream whose provider had not answered yet: nothing was sent, so it is answered 503 too.
      post(gateway.url, '/v1/chat/completions', { model: 'gpt-4o', stream: true, messages }),
      post(gateway.url, '/v1/messages', { model: 'claude-3-5-haiku', max_tokens: 64, messages }),
      post(gateway.url, '/v1/responses', { model: 'gpt-4o', input: 'hello' }),
    ]);
    await waitForInProgress(gateway.url, '/v1/chat/completions', 2);
    await waitForInProgress(gateway.url, '/v1/messages', 1);
    await waitForInProgress(gateway.url, '/v1/responses', 1);
    expect(await gateway.terminate()).toBe(0);
    const [chat, stream, anthropic, responses] = await answers;
    for (const answer of [chat, stream, anthropic, responses]) {
      expect(answer?.status, answer?.body).toBe(503);
      expect(answer?.connection).toBe('close');
    }
    expect(JSON.parse(chat?.body ?? '')).toEqual(openAiShutdownError);
    expect(JSON.parse(stream?.body ?? '')).toEqual(openAiShutdownError);
    expect(JSON.parse(responses?.body ?? '')).toEqual(openAiShutdownError);
    expect(JSON.parse(anthropic?.body ?? '')).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: expect.any(String) },
    });
  }, 60_000);

  it("ends a stream the drain deadline cut midway with its API's last error event", async () => {
    const gateway = await startGatewayProcess({
      OTEL_METRICS_EXPORTER: 'prometheus',
      SHUTDOWN_TIMEOUT_MS: '300',
      // First chunk after 2 s, then 12 chunks 100 ms apart: the streams outlive the deadline.
      DEMO_LATENCY_MS: '2000',
      DEMO_ERROR_RATE: '0',
    });
    const anthropic = send(gateway.url, '/v1/messages', {
      model: 'claude-3-5-haiku',
      max_tokens: 64,
      stream: true,
      messages,
    });
    const responses = send(gateway.url, '/v1/responses', { model: 'gpt-4o', input: 'hello', stream: true });
    await Promise.all([anthropic.firstBytes, responses.firstBytes]);
    expect(await gateway.terminate()).toBe(0);
    const [messagesStream, responsesStream] = await Promise.all([anthropic.answer, responses.answer]);
    expect(messagesStream.status).toBe(200);
    expect(messagesStream.body).toContain('event: content_block_delta');
    expect(messagesStream.body).not.toContain('event: message_stop');
    expect(messagesStream.body.trim().split('\n\n').at(-1)).toMatch(/^event: error\ndata: /);
    expect(responsesStream.status).toBe(200);
    expect(responsesStream.body).toContain('event: response.output_text.delta');
    expect(responsesStream.body).not.toContain('event: response.completed');
    // The provider speaks the Responses API: its events are passed on, then the gateway's `error`.
    expect(responsesStream.body.trim().split('\n\n').at(-1)).toMatch(/^event: error\ndata: .*"code":"server_shutdown"/);
  }, 60_000);

  it('closes a kept-alive connection once its answer is out, so no new request comes in on it', async () => {
    const gateway = await startGatewayProcess({
      OTEL_METRICS_EXPORTER: 'prometheus',
      // First chunk after 1 s, then 12 chunks 100 ms apart: the stream keeps the drain going
      // after the JSON answer is out.
      DEMO_LATENCY_MS: '1000',
      DEMO_ERROR_RATE: '0',
    });
    const pooled = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const stream = post(gateway.url, '/v1/chat/completions', { model: 'gpt-4o', stream: true, messages });
      const json = post(gateway.url, '/v1/chat/completions', { model: 'gpt-4o', messages }, pooled);
      await waitForInProgress(gateway.url, '/v1/chat/completions', 2);
      const exit = gateway.terminate();
      const answered = await json;
      expect(answered.status).toBe(200);
      expect(answered.connection).toBe('close');
      // The gateway still drains the stream, but takes no new request: not on a new connection,
      // nor on the one the JSON answer came on.
      await expect(post(gateway.url, '/v1/chat/completions', { model: 'gpt-4o', messages }, pooled)).rejects.toThrow(
        /ECONNREFUSED/,
      );
      expect((await stream).body.trim().endsWith('data: [DONE]')).toBe(true);
      expect(await exit).toBe(0);
    } finally {
      pooled.destroy();
    }
  }, 60_000);
});
