import { readFileSync } from 'node:fs';
import { findJsonSyntaxError } from './json-syntax-error.js';
import { GatewayConfigError } from '../config-error.js';

/** What a gateway API key's holder pays for: `paid` counts in `subscription_count`, `trial` in `trial_active`. */
export type ApiKeyPlan = 'paid' | 'trial';

/** One entry of `GATEWAY_API_KEYS_FILE`. */
export interface ApiKeyEntry {
  /** Label value in metrics and spans (`api_key_name`): a lowercase identifier, never the secret. */
  readonly name: string;
  /** The secret a client sends as `Authorization: Bearer <key>`. Never logged, never exported. */
  readonly key: string;
  readonly plan: ApiKeyPlan;
  /** Spending limit in USD; once the key's spend reaches it, requests are refused with 429. */
  readonly budgetUsd?: number;
}

/** The gateway's API keys, and whether inference requests must present one of them. */
export interface ApiKeysConfig {
  readonly keys: readonly ApiKeyEntry[];
  /**
   * True when the keys come from `GATEWAY_API_KEYS_FILE`: a request without a known key is refused
   * (401). False for the demo's keys: a request without one is served as `anonymous`.
   */
  readonly required: boolean;
}

/** Why `GATEWAY_API_KEYS_FILE` was refused. */
export type ApiKeysFileErrorCode =
  | 'unreadable'
  | 'invalid_json'
  | 'not_an_array'
  | 'invalid_entry'
  | 'unknown_field'
  | 'invalid_name'
  | 'reserved_name'
  | 'duplicate_name'
  | 'empty_key'
  | 'invalid_key'
  | 'duplicate_key'
  | 'invalid_plan'
  | 'invalid_budget';

/**
 * `GATEWAY_API_KEYS_FILE` cannot be used: the message says which entry and how to fix it, and never
 * repeats a key. A `GatewayConfigError`, so the gateway refuses to start.
 */
export class ApiKeysFileError extends GatewayConfigError {
  override readonly name = 'ApiKeysFileError';
  constructor(
    /** Machine-readable reason. */
    readonly code: ApiKeysFileErrorCode,
    message: string,
    /** Index of the entry at fault, when one is. */
    readonly entry?: number,
  ) {
    super(message);
  }
}

/** The name requests without a key are attributed to when keys are optional (the demo). */
export const ANONYMOUS_API_KEY_NAME = 'anonymous';

const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const FIELDS = new Set(['name', 'key', 'plan', 'budget_usd']);
const MAX_KEY_LENGTH = 512;

/** Read and validate `GATEWAY_API_KEYS_FILE` (a JSON array of `{ name, key, plan, budget_usd? }`). */
export function loadApiKeysFile(path: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ApiKeysFileError(
      'unreadable',
      `GATEWAY_API_KEYS_FILE ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses (Node's own JSON
  // loading skips it too).
  return parseApiKeys(text.replace(/^\uFEFF/, ''), `GATEWAY_API_KEYS_FILE ${path}`);
}

/**
 * Validate the JSON text of an API keys file (`source` names it in errors). Throws an
 * `ApiKeysFileError` for bad JSON, a value that is not a non-empty array, an entry that is not an
 * object or has unknown fields, a name that is not a lowercase identifier (or is `anonymous` or
 * `other`, which metrics reserve), duplicate names or keys, an empty or over-long key or one with
 * characters other than printable ASCII, a plan other than `paid` or `trial`, or a budget that is not a
 * finite number of USD at least 0.
 */
export function parseApiKeys(file: string, source: string): ApiKeyEntry[] {
  // A byte-order mark, as some editors save UTF-8, is not part of the JSON.
  const text = file.charCodeAt(0) === 0xfeff ? file.slice(1) : file;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiKeysFileError('invalid_json', `${source} is not valid JSON: ${jsonSyntaxProblem(text, error)}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ApiKeysFileError(
      'not_an_array',
      `${source} must hold a non-empty JSON array such as [{"name":"team-a","key":"…","plan":"paid","budget_usd":100}]`,
    );
  }
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  return parsed.map((raw: unknown, index): ApiKeyEntry => {
    const where = `${source}, entry ${index}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ApiKeysFileError('invalid_entry', `${where} must be an object with "name", "key" and "plan"`, index);
    }
    const entry = raw as Record<string, unknown>;
    const unknown = Object.keys(entry).filter((field) => !FIELDS.has(field));
    if (unknown.length > 0) {
      throw new ApiKeysFileError(
        'unknown_field',
        `${where}: unknown field(s) ${unknown.map((field) => `"${field}"`).join(', ')}; expected name, key, plan, budget_usd`,
        index,
      );
    }
    const name = entry['name'];
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new ApiKeysFileError(
        'invalid_name',
        `${where}: "name" must be a lowercase identifier of up to 64 characters such as "team-search" (it becomes the api_key_name label)`,
        index,
      );
    }
    if (name === ANONYMOUS_API_KEY_NAME || name === 'other') {
      throw new ApiKeysFileError(
        'reserved_name',
        `${where}: the name "${name}" is reserved (requests without a key, metric overflow); choose another`,
        index,
      );
    }
    const sameName = names.get(name);
    if (sameName !== undefined) {
      throw new ApiKeysFileError(
        'duplicate_name',
        `${where}: the name "${name}" is already used by entry ${sameName}`,
        index,
      );
    }
    names.set(name, index);
    const key = entry['key'];
    if (typeof key !== 'string' || key === '') {
      throw new ApiKeysFileError('empty_key', `${where} ("${name}"): "key" must be a non-empty string`, index);
    }
    if (key.length > MAX_KEY_LENGTH || !/^[!-~]+$/.test(key)) {
      throw new ApiKeysFileError(
        'invalid_key',
        `${where} ("${name}"): "key" must be at most ${MAX_KEY_LENGTH} printable ASCII characters without spaces (clients send it in a header)`,
        index,
      );
    }
    const sameKey = keys.get(key);
    if (sameKey !== undefined) {
      throw new ApiKeysFileError(
        'duplicate_key',
        `${where} ("${name}"): has the same key as entry ${sameKey}; every key must be unique`,
        index,
      );
    }
    keys.set(key, index);
    const plan = entry['plan'];
    if (plan !== 'paid' && plan !== 'trial') {
      throw new ApiKeysFileError('invalid_plan', `${where} ("${name}"): "plan" must be "paid" or "trial"`, index);
    }
    const budget = entry['budget_usd'];
    if (budget !== undefined && (typeof budget !== 'number' || !Number.isFinite(budget) || budget < 0)) {
      throw new ApiKeysFileError(
        'invalid_budget',
        `${where} ("${name}"): "budget_usd" must be a number of USD of at least 0, got ${JSON.stringify(budget)}; leave it out for no budget`,
        index,
      );
    }
    return { name, key, plan, ...(budget !== undefined ? { budgetUsd: budget } : {}) };
  });
}

/**
 * What is wrong with `text`, which `JSON.parse` refused, at which line and column, without quoting
 * the text: V8 puts a piece of the input in some of its messages (`Unexpected token 's', ..."key":
 * sk-live-…"... is not valid JSON`), and in a keys file that piece can be a key; its messages give a
 * position for a few mistakes only, so the place is found by {@link findJsonSyntaxError}.
 */
function jsonSyntaxProblem(text: string, error: unknown): string {
  const found = findJsonSyntaxError(text);
  if (found !== undefined) return `${found.problem} at line ${found.line}, column ${found.column}`;
  // Nothing found by the grammar (JSON.parse refused for another reason): its message when it
  // quotes nothing.
  const message = error instanceof Error ? error.message : '';
  if (message !== '' && !message.includes('"')) return message;
  return 'an unexpected character (check the quotes and commas; the file is not quoted here because it holds keys)';
}

/**
 * The gateway's API keys: those of `GATEWAY_API_KEYS_FILE`, required on every inference endpoint,
 * or, without it, the demo's keys, optional (requests without one are served as `anonymous`).
 */
export function loadApiKeys(env: NodeJS.ProcessEnv = process.env): ApiKeysConfig {
  const path = env['GATEWAY_API_KEYS_FILE']?.trim();
  if (path === undefined || path === '') return { keys: DEMO_API_KEYS, required: false };
  return { keys: loadApiKeysFile(path), required: true };
}

/**
 * Keys the gateway knows without `GATEWAY_API_KEYS_FILE`; the demo traffic uses them, so the
 * per-key metrics and the Business dashboard show data. The trial key's budget runs out after some
 * minutes of demo traffic (its requests are refused once what is left no longer covers what they
 * may cost), which shows the 429 `insufficient_quota` answer and the budget alerts.
 * They are not secrets: without the file, keys are optional anyway.
 */
export const DEMO_API_KEYS: readonly ApiKeyEntry[] = [
  { name: 'demo-team-search', key: 'gwz-demo-team-search', plan: 'paid' },
  { name: 'demo-team-support', key: 'gwz-demo-team-support', plan: 'paid', budgetUsd: 100 },
  { name: 'demo-trial', key: 'gwz-demo-trial', plan: 'trial', budgetUsd: 2 },
];
