import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Lint `code` as if it were the file at `filePath` (repository-relative), with the repository's config, one rule only. */
async function lint(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    // Type information is not needed for import rules, and a virtual file is in no tsconfig.
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'fatal'}: ${message.message}`);
}

describe('ESLint: @gatewayz/telemetry imports @opentelemetry/api only', () => {
  it('rejects an SDK import in the core package', async () => {
    const messages = await lint(
      'packages/telemetry/src/probe.ts',
      "import { MeterProvider } from '@opentelemetry/sdk-metrics';\nexport const provider = new MeterProvider();\n",
    );
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((message) => message.startsWith('no-restricted-imports: '))).toBe(true);
    expect(messages.some((message) => message.includes('SDK wiring belongs in @gatewayz/telemetry-node'))).toBe(true);
  });

  it('rejects any other @opentelemetry package in the core package', async () => {
    const messages = await lint(
      'packages/telemetry/src/probe.ts',
      "import { W3CTraceContextPropagator } from '@opentelemetry/core';\nexport const p = new W3CTraceContextPropagator();\n",
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^no-restricted-imports: '@opentelemetry\/core' import is restricted.*@opentelemetry\/api only\.$/,
    );
  });

  it('accepts @opentelemetry/api in the core package, and the SDK in the Node package', async () => {
    expect(
      await lint(
        'packages/telemetry/src/probe.ts',
        "import { metrics } from '@opentelemetry/api';\nexport const m = metrics;\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'packages/telemetry-node/src/probe.ts',
        "import { MeterProvider } from '@opentelemetry/sdk-metrics';\nexport const provider = new MeterProvider();\n",
      ),
    ).toEqual([]);
  });
});
