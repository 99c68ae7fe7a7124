import { DEMO_API_KEYS } from './api-keys/api-keys-file.js';

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'o4-mini', 'claude-3-5-haiku', 'claude-3-5-sonnet', 'llama-3.1-8b-instruct'];
/** Distinct prompts the demo cycles through: repeats are answered from the providers' prompt caches. */
const PROMPTS = 13;
/** A system prompt long enough (~1100 tokens) for the simulated anthropic provider to report cache writes. */
const LONG_SYSTEM_PROMPT = 'You are the gateway assistant. Answer briefly and cite the provider health. '.repeat(60);
/** Each demo key in turn, then a request without one (served as `anonymous`). */
const DEMO_CALLERS = [...DEMO_API_KEYS.map((entry) => entry.key), undefined];

export interface DemoTraffic {
  /** Stop sending: no demo request starts after this. The requests in flight go on. */
  stop(): void;
  /**
   * Stop sending, abort the demo requests still in flight and resolve once every one has settled.
   * Call it after the gateway has drained: a request whose connection was lost (a cluster worker
   * killed while the primary handed it the connection) would otherwise never settle.
   */
  close(): Promise<void>;
  readonly sent: number;
}

/**
 * Send a steady mix of requests to the gateway so `npm run demo` shows live metrics: chat
 * completions (a third streamed, asking for usage in the final chunk), Anthropic messages and the
 * odd image, at `ratePerSecond`, sent with the demo's API keys in turn (and some without a key), so
 * per-key metrics move. Prompts repeat, so cached tokens show; `o4-mini` reasons.
 */
export function startDemoTraffic(
  baseUrl: string,
  ratePerSecond: number,
  /** API keys to send in turn; `undefined` sends none. Default the demo's keys and no key. */
  callers: ReadonlyArray<string | undefined> = DEMO_CALLERS,
): DemoTraffic {
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const aborted = new AbortController();
  const send = async (index: number): Promise<void> => {
    const model = MODELS[index % MODELS.length] as string;
    const messages = [
      { role: 'user', content: `Demo request ${index % PROMPTS}: summarise the provider health of the gateway.` },
    ];
    let path = '/v1/chat/completions';
    const stream = index % 3 === 0;
    let body: Record<string, unknown> = {
      model,
      messages,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    };
    const key = callers[index % callers.length];
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== undefined) headers['authorization'] = `Bearer ${key}`;
    if (index % 7 === 0) {
      path = '/v1/messages';
      // Anthropic's clients send their key as x-api-key.
      if (key !== undefined) {
        delete headers['authorization'];
        headers['x-api-key'] = key;
      }
      body = { model: 'claude-3-5-haiku', max_tokens: 64, system: LONG_SYSTEM_PROMPT, messages };
    } else if (index % 11 === 0) {
      path = '/v1/images/generations';
      body = { model: 'gpt-image-1', prompt: 'a lighthouse at dusk' };
    }
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: aborted.signal,
      });
      await response.arrayBuffer();
    } catch {
      // The gateway is shutting down (its drain cut the request) or `close()` aborted it.
    }
  };
  const timer = setInterval(
    () => {
      const request = send(sent++);
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    },
    Math.max(10, Math.round(1000 / ratePerSecond)),
  );
  timer.unref();
  return {
    get sent() {
      return sent;
    },
    stop: () => clearInterval(timer),
    close: async () => {
      clearInterval(timer);
      aborted.abort();
      await Promise.all(inFlight);
    },
  };
}
