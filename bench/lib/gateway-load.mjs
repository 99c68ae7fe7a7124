// Shared by the gateway and traces sections (3 and 8): what a saturating autocannon run served,
// and the start-up probe that every gateway answers a chat completion before it is measured.

/**
 * Served requests of one autocannon run: 2xx answers only. autocannon's `requests.total` and
 * `requests.average` count every response, 5xx included (a gateway answering 500 at once would read
 * as the fastest), while `errors` (timeouts included) are requests that got no response and are in
 * neither. So req/s is the per-second average scaled by the share of responses that were 2xx
 * (autocannon's own figure when all were), and `failures` counts the rest: non-2xx and errors.
 *
 * @example
 * servedLoad({ requests: { average: 1000, total: 1000 }, non2xx: 250, errors: 3 });
 * // → { requestsPerSec: 750, served: 750, responses: 1000, failures: 253 }
 */
export function servedLoad(result) {
  const responses = result.requests.total;
  const served = Math.max(0, responses - result.non2xx);
  return {
    requestsPerSec: responses > 0 ? result.requests.average * (served / responses) : 0,
    served,
    responses,
    failures: result.non2xx + result.errors,
  };
}

/**
 * One chat completion to `gateway` (`body` as sent by the load): throws unless it answers 200 (and,
 * streamed, a complete SSE stream), so a misconfigured gateway stops the section instead of being
 * measured answering errors.
 */
export async function probeChatCompletion(gateway, body, label) {
  const probe = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await probe.text();
  if (probe.status !== 200)
    throw new Error(`${label} probe of ${gateway.name} answered ${probe.status}: ${text.slice(0, 200)}`);
  if (body.stream && !text.includes('data: [DONE]'))
    throw new Error(`${label} probe of ${gateway.name} is not a complete SSE stream`);
}
