/**
 * The `gen_ai.provider.name` the OpenTelemetry GenAI conventions (v1.41.0) give the API at a URL:
 * "If one of [the well-known values] applies, then the respective value MUST be used". A provider
 * configured by URL alone (`UPSTREAM_BASE_URL` without `UPSTREAM_NAME`) is named by its host, so
 * its spans and `gen_ai.*` metrics carry `openai` for `api.openai.com` rather than a made-up name.
 */

/** Hosts of the APIs the conventions name (exact, a suffix starting with `.`, or a pattern), with their names. */
const WELL_KNOWN_HOSTS: ReadonlyArray<readonly [host: string | RegExp, name: string]> = [
  ['api.openai.com', 'openai'],
  ['.openai.azure.com', 'azure.ai.openai'],
  ['.services.ai.azure.com', 'azure.ai.inference'],
  ['.inference.ai.azure.com', 'azure.ai.inference'],
  ['api.anthropic.com', 'anthropic'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
  [/^(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com$/, 'gcp.vertex_ai'],
  [/^bedrock-runtime(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com$/, 'aws.bedrock'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.x.ai', 'x_ai'],
  ['api.deepseek.com', 'deepseek'],
  ['api.groq.com', 'groq'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.cohere.com', 'cohere'],
  ['api.cohere.ai', 'cohere'],
  // Not a name of the conventions; the one this gateway's demo and providers files use for it.
  ['openrouter.ai', 'openrouter'],
];

/**
 * The provider name for `baseUrl`'s host (see above), or `fallback` for a host the conventions do
 * not name (a self-hosted model server, a proxy).
 *
 * @example
 * ```ts
 * providerNameForUrl('https://api.openai.com/v1', 'upstream'); // 'openai'
 * providerNameForUrl('http://10.0.0.7:8000/v1', 'upstream'); // 'upstream'
 * ```
 */
export function providerNameForUrl(baseUrl: string, fallback: string): string {
  if (!URL.canParse(baseUrl)) return fallback;
  const host = new URL(baseUrl).hostname.toLowerCase();
  for (const [pattern, name] of WELL_KNOWN_HOSTS) {
    if (
      typeof pattern !== 'string'
        ? pattern.test(host)
        : pattern.startsWith('.')
          ? host.endsWith(pattern)
          : host === pattern
    )
      return name;
  }
  return fallback;
}
