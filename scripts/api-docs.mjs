#!/usr/bin/env node
// Generates the API reference in docs/api/ from the TSDoc comments of the three packages
// (typedoc + typedoc-plugin-markdown, configured in typedoc.json) and checks the comments:
//
// - every exported symbol has a summary and at least one `@example`;
// - every public member of an exported class or interface (property, method, accessor,
//   constructor) and every member of an exported namespace has a summary;
// - typedoc itself reports no warnings (unresolved `{@link}`s, unexported referenced types).
//
//   node scripts/api-docs.mjs           write docs/api/
//   node scripts/api-docs.mjs --check   check the comments and that docs/api/ is up to date
//                                       (exit 1 with a list of problems otherwise)
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, LogLevel, ReflectionKind } from 'typedoc';

const MEMBER_KINDS =
  ReflectionKind.Property |
  ReflectionKind.Method |
  ReflectionKind.Accessor |
  ReflectionKind.Constructor |
  ReflectionKind.EnumMember |
  ReflectionKind.Variable |
  ReflectionKind.Function;

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const OUT = join(ROOT, 'docs/api');
const check = process.argv.includes('--check');

process.chdir(ROOT);
const out = check ? mkdtempSync(join(tmpdir(), 'gatewayz-api-docs-')) : OUT;
// The entry points of typedoc.json plus the core's subpath entry points (`@gatewayz/telemetry/…`).
const typedocConfig = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8'));
const coreSubpaths = ['metrics', 'model-health', 'provider-health', 'genai', 'scheduling', 'rate-limits'].map(
  (subpath) => `packages/telemetry/src/${subpath}/index.ts`,
);
const entryPoints = [typedocConfig.entryPoints[0], ...coreSubpaths, ...typedocConfig.entryPoints.slice(1)];
const app = await Application.bootstrapWithPlugins({ out, logLevel: LogLevel.Warn, entryPoints });
const project = await app.convert();
if (project === undefined) fail(['typedoc could not convert the packages (see the errors above)']);

const problems = [];
for (const module of project.children ?? []) checkModule(module);

app.validate(project);
if (app.logger.hasWarnings() || app.logger.hasErrors()) {
  problems.push(`typedoc reported ${app.logger.warningCount} warning(s) and ${app.logger.errorCount} error(s) (above)`);
}

await app.generateOutputs(project);
if (check) {
  const stale = compareTrees(out, OUT);
  rmSync(out, { recursive: true, force: true });
  if (stale.length > 0) {
    problems.push(
      `docs/api/ is out of date (${stale.length} file(s) differ: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}); run \`npm run docs:api\``,
    );
  }
}

if (problems.length > 0) fail(problems);
const exported = (project.children ?? []).reduce((n, m) => n + (m.children?.length ?? 0), 0);
console.log(
  `${check ? 'checked' : 'wrote'} the API reference of ${project.children?.length ?? 0} packages, ${exported} exports${check ? '' : ` → ${relative(ROOT, OUT)}/`}`,
);

// ---------------------------------------------------------------------------------------------

function checkModule(module) {
  if (!hasSummary(module.comment))
    problems.push(`${module.name}: the package entry point has no @packageDocumentation summary`);
  for (const symbol of module.children ?? []) {
    // A name exported from several entry points (the root and a subpath) is documented where it is declared.
    if (symbol.kindOf(ReflectionKind.Reference)) continue;
    const where = `${module.name}: ${symbol.name}`;
    const comments = commentsOf(symbol);
    if (!comments.some(hasSummary))
      problems.push(`${where} (${ReflectionKind.singularString(symbol.kind)}) has no summary`);
    if (!comments.some(hasExample))
      problems.push(`${where} (${ReflectionKind.singularString(symbol.kind)}) has no @example`);
    checkMembers(symbol, where);
  }
}

function checkMembers(symbol, where) {
  if (
    !symbol.kindOf(ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.Namespace | ReflectionKind.Enum)
  ) {
    return;
  }
  for (const member of symbol.children ?? []) {
    if (!member.kindOf(MEMBER_KINDS)) continue;
    // Documented where they are declared (another export of ours, or a library type).
    if (member.inheritedFrom !== undefined || member.implementationOf !== undefined) continue;
    if (member.flags.isPrivate || member.flags.isProtected) continue;
    if (!commentsOf(member).some(hasSummary)) problems.push(`${where}.${member.name} has no summary`);
  }
}

function commentsOf(reflection) {
  const comments = [reflection.comment];
  for (const signature of reflection.signatures ?? []) comments.push(signature.comment);
  if (reflection.getSignature) comments.push(reflection.getSignature.comment);
  if (reflection.setSignature) comments.push(reflection.setSignature.comment);
  return comments.filter((comment) => comment !== undefined);
}

function hasSummary(comment) {
  return comment !== undefined && comment.summary.some((part) => part.text.trim() !== '');
}

function hasExample(comment) {
  return comment !== undefined && comment.blockTags.some((tag) => tag.tag === '@example');
}

function compareTrees(actualDir, expectedDir) {
  const actual = listFiles(actualDir);
  const expected = listFiles(expectedDir);
  const differing = [];
  for (const file of new Set([...actual, ...expected])) {
    const a = actual.has(file) ? readFileSync(join(actualDir, file)) : undefined;
    const e = expected.has(file) ? readFileSync(join(expectedDir, file)) : undefined;
    if (a === undefined || e === undefined || !a.equals(e)) differing.push(file);
  }
  return differing.sort();
}

function listFiles(dir, base = dir, files = new Set()) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return files;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) listFiles(path, base, files);
    else files.add(relative(base, path));
  }
  return files;
}

function fail(lines) {
  if (check) rmSync(out, { recursive: true, force: true });
  console.error(`API documentation check failed (${lines.length} problem(s)):`);
  for (const line of lines) console.error(`  - ${line}`);
  process.exit(1);
}
