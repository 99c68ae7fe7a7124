import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type OpenAI from 'openai';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type RunningTelemetry } from '@gatewayz/telemetry-node';
import { createGateway, loadContextManagerChoice, loadGatewaySettings, type Gateway } from '../src/index.js';
import type { ApiKeysConfig } from '../src/api-keys/api-keys-file.js';
import type { ProviderConfig } from '../src/config.js';

/*
 * A loopback upstream that answers every streamed request with a script: SSE events written after
 * known delays, so a test can compare what the gateway records with the timing it was given. The
 * gateway runs in this process with a real OpenTelemetry SDK and the scripted upstream as its only
 * provider.
 */

/** One step of a script: wait `afterMs` (after the previous step), then write `data` as one SSE event. */
export interface ScriptStep {
  afterMs: number;
  /** The event's data: an object is JSON-encoded; a string (e.g. `[DONE]`) is written as is. */
  data?: Record<string, unknown> | string;
  /** The SSE `event:` name (Responses API). */
  event?: string;
  /** Destroy the connection instead of writing (an upstream that dies mid-stream). */
  destroy?: boolean;
  /** The data as several `data:` lines (joined by line feeds on reading), instead of `data`. */
  dataLines?: string[];
  /** Line ending of the event (SSE allows CRLF, LF and CR); default LF. */
  lineEnding?: string;
  /** Write the event in two writes, split after this many characters (a chunk boundary inside it). */
  splitAt?: number;
}

export interface ScriptedUpstream {
  url: string;
  /** The script the next requests get (per path: `/v1/chat/completions` or `/v1/responses`). */
  script(path: string, steps: ScriptStep[]): void;
  /** Answer the next requests on `path` with `body` as one JSON response instead, after `afterMs`. */
  scriptJson(path: string, body: Record<string, unknown>, afterMs?: number): void;
  /** The steps last scripted for `path` (empty when none or a JSON answer). */
  lastScript(path: string): ScriptStep[];
  /** The JSON body of the last request received on `path`. */
  lastBody(path: string): Record<string, unknown> | undefined;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function bodyOf(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const piece of request) text += String(piece);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts = new Map<string, ScriptStep[] | { json: Record<string, unknown>; afterMs: number }>();
  const bodies = new Map<string, Record<string, unknown>>();
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = request.url ?? '';
      bodies.set(path, await bodyOf(request));
      const steps = scripts.get(path);
      if (steps === undefined) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no script"}}');
        return;
      }
      if (!Array.isArray(steps)) {
        if (steps.afterMs > 0) await sleep(steps.afterMs);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(steps.json));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.flushHeaders();
      for (const step of steps) {
        if (step.afterMs > 0) await sleep(step.afterMs);
        if (response.destroyed) return;
        if (step.destroy) {
          response.destroy();
          return;
        }
        const data = typeof step.data === 'string' ? step.data : JSON.stringify(step.data);
        const end = step.lineEnding ?? '\n';
        const lines = (step.dataLines ?? [data]).map((line) => `data: ${line}${end}`).join('');
        const text = `${step.event !== undefined ? `event: ${step.event}${end}` : ''}${lines}${end}`;
        if (step.splitAt === undefined) response.write(text);
        else {
          response.write(text.slice(0, step.splitAt));
          // A separate TCP segment: let the first part reach the gateway on its own.
          await sleep(5);
          response.write(text.slice(step.splitAt));
        }
      }
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script: (path, steps) => void scripts.set(path, steps),
    scriptJson: (path, body, afterMs = 0) => void scripts.set(path, { json: body, afterMs }),
    lastBody: (path) => bodies.get(path),
    lastScript: (path) => {
      const steps = scripts.get(path);
      return Array.isArray(steps) ? steps : [];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ScriptedGateway {
  url: string;
  gateway: Gateway;
  otel: RunningTelemetry;
  upstream: ScriptedUpstream;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The example gateway in this process with the scripted upstream as provider `provider` (its only
 * one, unless `options.providers` adds others, e.g. another scripted upstream) and, with
 * `options.apiKeys`, the gateway's API keys. `options.telemetryEnv` is what `startTelemetry()`
 * reads as its environment (a sampler, the GenAI event switch), and its log records go to
 * `options.logExporter` when given.
 */
export async function startScriptedGateway(
  provider: Omit<ProviderConfig, 'baseUrl'>,
  spanProcessors: SpanProcessor[] = [],
  options: {
    apiKeys?: ApiKeysConfig;
    providers?: ProviderConfig[];
    env?: Record<string, string>;
    telemetryEnv?: Record<string, string>;
    logExporter?: LogRecordExporter;
  } = {},
): Promise<ScriptedGateway> {
  const upstream = await startScriptedUpstream();
  const env = {
    PORT: '0',
    HEALTH_TRACKER_INTERVAL_MS: '3600000',
    ATTEMPT_TIMEOUT_MS: '5000',
    STREAM_IDLE_TIMEOUT_MS: '5000',
    ...options.env,
  };
  const otel = startTelemetry({
    serviceName: 'gateway-under-test',
    hostMetrics: false,
    traces: spanProcessors.length > 0 ? { spanProcessors } : false,
    logStream: null,
    contextManager: loadContextManagerChoice(env),
    ...(options.logExporter !== undefined ? { logs: { exporter: options.logExporter } } : {}),
    env: options.telemetryEnv ?? {},
  });
  const settings = loadGatewaySettings(env);
  const gateway = createGateway({
    config: {
      ...settings,
      providers: [{ ...provider, baseUrl: `${upstream.url}/v1` }, ...(options.providers ?? [])],
      apiKeys: options.apiKeys ?? settings.apiKeys,
    },
    otel,
  });
  const url = await gateway.listen();
  return {
    url,
    gateway,
    otel,
    upstream,
    scrape: async () => (await fetch(`${url}/metrics`)).text(),
    close: async () => {
      await gateway.close();
      await otel.shutdown();
      await upstream.close();
    },
  };
}

/** A chat completion as OpenAI answers one: a single choice saying `content`, with `usage`. */
export function chatCompletionAnswer(
  id: string,
  model: string,
  content: string,
  usage: Record<string, unknown>,
): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  };
}

/** Stream a chat with the official OpenAI SDK and leave (abort) at the first content delta. */
export async function leaveChatStreamAtFirstContent(openai: OpenAI, model: string): Promise<void> {
  const abort = new AbortController();
  const stream = await openai.chat.completions.create(
    { model, messages: [{ role: 'user', content: 'hi' }], stream: true },
    { signal: abort.signal },
  );
  try {
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) abort.abort();
  } catch {
    // The SDK raises the abort.
  }
}
