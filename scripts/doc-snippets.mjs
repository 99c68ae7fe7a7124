// The TypeScript examples of the documentation, ready to typecheck against the installed packages
// (scripts/check-packs.mjs compiles them as ESM and as CommonJS in its scratch project).
//
// Every ```ts block of the READMEs and docs/*.md is one program. A block that shows a fragment
// (it uses `otel`, `provider` or `message` from the text around it) gets a prelude below that
// declares those names and nothing else; the block itself is compiled as written.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The documents whose ```ts blocks are checked, relative to the repository. */
export function documentedFiles(repository) {
  const packages = readdirSync(join(repository, 'packages')).map((folder) => `packages/${folder}/README.md`);
  const docs = readdirSync(join(repository, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`);
  return ['README.md', ...packages, 'examples/gateway/README.md', 'examples/integrations/README.md', ...docs];
}

const otel = "import { startTelemetry } from '@gatewayz/telemetry-node';\nconst otel = startTelemetry();\n";

/**
 * Declarations for the fragments: the document, a line of the block that identifies it, and the
 * prelude. A prelude that matches no block fails the check, so none outlives its example.
 */
export const PRELUDES = [
  {
    file: 'docs/deployment.md',
    line: 'const poller = process.env.HEALTH_SERVICE_URL',
    prelude: otel,
  },
  {
    file: 'docs/deployment.md',
    line: 'const anomalies = new AnomalyDetector({ telemetry: otel.telemetry });',
    prelude: `${otel}declare const provider: string;\ndeclare const latencySeconds: number;\ndeclare const status: 'success' | 'error';\n`,
  },
  {
    file: 'packages/telemetry/README.md',
    line: 'const pricing = new PricingTable({',
    prelude:
      "import { PricingTable, usageFromAnthropic } from '@gatewayz/telemetry/genai';\n" +
      'declare const message: { usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null } };\n',
  },
  {
    file: 'packages/telemetry/README.md',
    line: 'providerHealthScore({ availability: 1, errorRate: 0.05, responseTimeSeconds: 0.8 });',
    prelude: "import { providerHealthScore } from '@gatewayz/telemetry';\n",
  },
  {
    file: 'packages/telemetry/README.md',
    line: "const response = await fetch('https://api.openai.com/v1/chat/completions', init);",
    prelude: 'declare const init: RequestInit;\ndeclare function pauseUntil(epochMs: number): void;\n',
  },
  {
    file: 'packages/telemetry/README.md',
    line: 'const { capture, maxLength } = telemetry.genAiContent;',
    prelude: 'declare const prompt: string;\ndeclare const answer: string;\n',
  },
  {
    file: 'packages/telemetry/README.md',
    line: 'const { collect, capture, events: emitEvents, eventContent, maxLength } = telemetry.genAiContent;',
    prelude: 'declare const prompt: string;\n',
  },
];

/**
 * The ```ts blocks of `files`: `{ file, line, source, prelude }` with `line` the 1-based line of the
 * block's first code line and `source` unindented (blocks inside list items are indented).
 */
export function docSnippets(repository, files = documentedFiles(repository)) {
  const snippets = [];
  for (const file of files) {
    const lines = readFileSync(join(repository, file), 'utf8').split('\n');
    for (let index = 0; index < lines.length; index++) {
      const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[index]);
      if (!open) continue;
      const indent = open[1];
      const start = index + 1;
      let end = start;
      while (end < lines.length && lines[end].trim() !== '```') end++;
      const source = lines
        .slice(start, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n');
      const preludes = PRELUDES.filter((entry) => entry.file === file && source.includes(entry.line));
      snippets.push({ file, line: start + 1, source, prelude: preludes.map((entry) => entry.prelude).join('') });
      index = end;
    }
  }
  const unused = PRELUDES.filter(
    (entry) => !snippets.some((snippet) => snippet.file === entry.file && snippet.source.includes(entry.line)),
  );
  if (unused.length > 0) {
    throw new Error(
      `scripts/doc-snippets.mjs: no \`\`\`ts block contains ${unused.map((entry) => `${entry.file}: "${entry.line}"`).join(', ')}; update or remove its prelude`,
    );
  }
  return snippets;
}

/**
 * One compilable module per snippet: its prelude, then the block. CommonJS has no top-level
 * `await`, so there the statements after the imports run inside an async function. `docLine`
 * turns a line of the module (1-based) into the line of the document it came from.
 */
export function snippetModule(snippet, format) {
  const lines = snippet.source.split('\n');
  const preludeLines = snippet.prelude === '' ? 0 : snippet.prelude.split('\n').length - 1;
  let body = lines;
  let wrapAfter = Infinity;
  if (format === 'commonjs' && /\bawait\b/.test(snippet.source)) {
    wrapAfter = lines.reduce((last, line, index) => (/^import\s/.test(line) ? index : last), -1) + 1;
    body = [...lines.slice(0, wrapAfter), 'void (async () => {', ...lines.slice(wrapAfter), '})();'];
  }
  const docLine = (moduleLine) => {
    const bodyIndex = moduleLine - 1 - preludeLines;
    if (bodyIndex < 0) return `${snippet.line} (prelude line ${moduleLine})`;
    return snippet.line + (bodyIndex > wrapAfter ? bodyIndex - 1 : bodyIndex);
  };
  return { text: `${snippet.prelude}${body.join('\n')}\nexport {};\n`, docLine };
}
