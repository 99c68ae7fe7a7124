/**
 * Where a JSON text first breaks the grammar (RFC 8259), found without `JSON.parse`'s messages: V8
 * gives a position for some mistakes only (a missing comma), and for others (a trailing comma, an
 * unquoted value) it quotes a piece of the input instead, which in a keys file can be a key.
 */
export interface JsonSyntaxError {
  /** What is wrong, quoting nothing of the text. */
  readonly problem: string;
  /** 1-based line of the first character that breaks the grammar (or of the end of the text). */
  readonly line: number;
  /** 1-based column on that line, counted in UTF-16 code units as editors do for most text. */
  readonly column: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON strings may not hold control characters (U+0000 to U+001F) unescaped.
// eslint-disable-next-line no-control-regex
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;

/** The first syntax error of `text`, or `undefined` when `text` is one valid JSON value. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  // What the parser expects next; containers are a stack of '{' and '['.
  const stack: Array<'{' | '['> = [];
  let at = 0;
  const fail = (problem: string, offset: number): JsonSyntaxError => locate(text, problem, offset);
  let expect: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'after-value' = 'value';
  for (;;) {
    at = skipWhitespace(text, at);
    const char = text[at];
    if (expect === 'after-value') {
      const open = stack[stack.length - 1];
      if (open === undefined) return at < text.length ? fail('more text after the JSON value', at) : undefined;
      if (char === ',') {
        expect = open === '{' ? 'key' : 'value';
        at += 1;
        const next = skipWhitespace(text, at);
        if (text[next] === '}' || text[next] === ']') return fail('a closing bracket right after a comma', next);
        continue;
      }
      if (char === (open === '{' ? '}' : ']')) {
        stack.pop();
        at += 1;
        continue;
      }
      if (char === undefined) return fail('the text ends inside an object or array', at);
      return fail(`an unexpected character where a comma or "${open === '{' ? '}' : ']'}" belongs`, at);
    }
    if (char === undefined) return fail('the text ends where a value belongs', at);
    if (expect === 'key' || expect === 'key-or-close') {
      if (expect === 'key-or-close' && char === '}') {
        stack.pop();
        at += 1;
        expect = 'after-value';
        continue;
      }
      if (char !== '"') return fail('an unexpected character where a quoted property name belongs', at);
      const end = stringEnd(text, at);
      if (end < 0) return fail('a property name that is not a valid string', at);
      at = skipWhitespace(text, end);
      if (text[at] !== ':') return fail('a missing colon after a property name', at);
      at += 1;
      expect = 'value';
      continue;
    }
    if (expect === 'value-or-close' && char === ']') {
      stack.pop();
      at += 1;
      expect = 'after-value';
      continue;
    }
    if (char === '{' || char === '[') {
      stack.push(char);
      at += 1;
      expect = char === '{' ? 'key-or-close' : 'value-or-close';
      continue;
    }
    const end = valueEnd(text, at);
    if (end < 0) return fail('an unexpected character where a value belongs (strings need double quotes)', at);
    at = end;
    expect = 'after-value';
  }
}

function skipWhitespace(text: string, at: number): number {
  while (at < text.length && WHITESPACE.has(text[at] as string)) at += 1;
  return at;
}

/** Where the string starting at `at` (a quote) ends, past its closing quote; −1 when it is not one. */
function stringEnd(text: string, at: number): number {
  STRING_BODY.lastIndex = at + 1;
  STRING_BODY.exec(text);
  return text[STRING_BODY.lastIndex] === '"' ? STRING_BODY.lastIndex + 1 : -1;
}

/** Where the string, number or literal starting at `at` ends; −1 when none starts there. */
function valueEnd(text: string, at: number): number {
  if (text[at] === '"') return stringEnd(text, at);
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, at)) return at + literal.length;
  }
  NUMBER.lastIndex = at;
  return NUMBER.exec(text) !== null ? NUMBER.lastIndex : -1;
}

function locate(text: string, problem: string, offset: number): JsonSyntaxError {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { problem, line: before.split('\n').length, column: offset - lineStart + 1 };
}
