import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from './gateway-process.js';

/*
 * A gateway shutting down while its requests read their upstream's body: the provider sent its
 * headers, then its body stalls or trickles. At the drain deadline each request must let that body
 * go and answer the cut's 503 on its still-open connection, and record its attempt before the
 * gateway flushes. Before, the cut only stopped the body's idle timer from being refreshed: the read
 * went on for up to STREAM_IDLE_TIMEOUT_MS, the client got an empty reply when the connections were
 * closed, and the log said `requests still recording at shutdown; their telemetry is lost`.
 */

const SHUTDOWN_TIMEOUT_MS = 1000;
/** Far beyond the shutdown: only the cut can end these reads in time. */
const STREAM_IDLE_TIMEOUT_MS = 20_000;
/** What the cut requests get to answer, from the cut (`CUT_ANSWERS_GRACE_MS`). */
const CUT_ANSWERS_GRACE_MS = 1000;

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-slow',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'never whole' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});

/** How the provider answers, named by the request's message: its headers at once, then its body never ends. */
const BEHAVIOURS: Record<string, (response: ServerResponse) => void> = {
  'answer-stalls': (response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write(COMPLETION.slice(0, 40));
  },
  'answer-trickles': (response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write(COMPLETION.slice(0, 40));
    const trickle = setInterval(() => response.write(' '), 50);
    response.once('close', () => clearInterval(trickle));
  },
  'error-body-stalls': (response) => {
    response.writeHead(503, { 'content-type': 'application/json' });
    response.write('{"error":');
  },
};

let upstream: Server;
/** Requests whose headers the provider has sent. */
let answering = 0;
let directory: string;

beforeAll(async () => {
  upstream = createServer((incoming, response) => {
    let text = '';
    incoming.setEncoding('utf8').on('data', (piece: string) => (text += piece));
    incoming.on('end', () => {
      const { messages } = JSON.parse(text) as { messages: Array<{ content: string }> };
      BEHAVIOURS[messages[0]?.content ?? '']?.(response);
      response.flushHeaders();
      answering++;
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  directory = mkdtempSync(join(tmpdir(), 'gateway-shutdown-body-reads-'));
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

/** POST a chat request; resolves with the answer, or with the error of a connection closed without one. */
function chat(url: string, mode: string, stream: boolean): Promise<{ status: number; body: string } | Error> {
  return new Promise((resolve) => {
    const sent = request(
      new URL('/v1/chat/completions', url),
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', resolve);
      },
    );
    sent.on('error', resolve);
    sent.end(JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: mode }] }));
  });
}

describe('a request reading its upstream body at the drain deadline', () => {
  it('lets the body go and answers 503 server_shutdown, its attempt recorded before the flush', async () => {
    const providersFile = join(directory, 'providers.json');
    const { port } = upstream.address() as AddressInfo;
    writeFileSync(
      providersFile,
      JSON.stringify([{ name: 'slow', baseUrl: `http://127.0.0.1:${port}/v1`, models: ['m'] }]),
    );
    const gateway = await startGatewayProcess({
      GATEWAY_PROVIDERS_FILE: providersFile,
      OTEL_METRICS_EXPORTER: 'prometheus',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ATTEMPT_TIMEOUT_MS: '20000',
      STREAM_IDLE_TIMEOUT_MS: String(STREAM_IDLE_TIMEOUT_MS),
    });
    const cases = [
      { mode: 'answer-stalls', stream: false },
      { mode: 'answer-trickles', stream: false },
      { mode: 'error-body-stalls', stream: false },
      // The stream's error body, and a JSON chat completion answering a request for a stream.
      { mode: 'error-body-stalls', stream: true },
      { mode: 'answer-stalls', stream: true },
      { mode: 'answer-trickles', stream: true },
    ];
    const before = answering;
    const answers = cases.map(({ mode, stream }) => chat(gateway.url, mode, stream));
    await expect.poll(() => answering - before, { timeout: 10_000, interval: 20 }).toBe(cases.length);
    const signalledAt = performance.now();
    const exited = gateway.terminate();
    const answeredIn = await Promise.all(answers.map((answer) => answer.then(() => performance.now() - signalledAt)));
    expect(await exited).toBe(0);
    const got = (await Promise.all(answers)).map((answer, index) => ({
      ...cases[index],
      answer: answer instanceof Error ? `no answer (${answer.message})` : answer.status,
      code:
        answer instanceof Error ? undefined : (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code,
      // The grace, and a margin for a loaded machine; before, no answer came at all.
      inTime: (answeredIn[index] as number) < SHUTDOWN_TIMEOUT_MS + CUT_ANSWERS_GRACE_MS + 1500,
    }));
    expect(got).toEqual(cases.map((sent) => ({ ...sent, answer: 503, code: 'server_shutdown', inTime: true })));
    expect(gateway.output()).not.toContain('telemetry is lost');
  }, 60_000);
});
