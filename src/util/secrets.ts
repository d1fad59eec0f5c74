/**
 * Masking of secrets in what people and logs see: one rule for which keys hold a secret, one set
 * of token patterns for free text, and a deep masker built from both. Views (ops, alerts, triage)
 * and the logger (src/log.ts) use these, so a credential hidden in one place is hidden in all.
 *
 * @example
 * maskSecrets({ url: 'https://x.io', headers: { authorization: 'Bearer abc123' } })
 * // → { url: 'https://x.io', headers: { authorization: '[redacted]' } }
 * maskText('HTTP 401 for xoxb-1-2-abcdef') // → 'HTTP 401 for xox-[redacted]'
 */

/** What a masked value is replaced by; the same word in logs, audit entries and views. */
export const MASK = '[redacted]';

/**
 * A key holds a secret when, lower-cased without separators, it ends with one of these (an
 * optional number after it: `x-hub-signature-256`). Suffixes, so `x-api-key`, `clientSecret`,
 * `SLACK_BOT_TOKEN` and `set-cookie` match; `tokens` or `maxTokens` (counts) and `key` (dedupe
 * and config keys) do not.
 */
const SECRET_KEY =
  /(?:authorization|cookies?|token|secret|password|passwd|pwd|passphrase|apikey|privatekey|secretkey|accesskey|signature|credentials?|sessionid)\d*$/;

/** True for a key whose value is a secret, whatever its case or separators (`X-Api-Key`, `api_key`). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/**
 * `key=value`, `key: value` and `"key": "value"` in free text (query strings, header dumps, JSON
 * in error messages); the value is masked when isSecretKey(key). A value may start with an auth
 * scheme ("Authorization: Bearer …"), which is then masked with it.
 */
const KEY_VALUE =
  /(?<![\w.-])(["']?)([\w.-]+)\1(\s*[:=]\s*)(?:"((?:[^"\\]|\\.)*)"|'([^'\\]*)'|((?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s"'&,;{}()[\]<>]+))/gi;

/** Token formats that are secret wherever they appear, in the order they are tried. */
const TOKEN_PATTERNS: Array<[RegExp, string]> = [
  // Credentials in a URL: scheme://user:pass@host, and MongoDB's user@ without a password.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, `$1${MASK}@`],
  [/\b(mongodb(?:\+srv)?:\/\/)[^@/\s]+@/g, `$1${MASK}@`],
  // Telegram bot tokens, in API URLs and bare.
  [/\/bot\d+:[A-Za-z0-9_-]+/g, `/bot${MASK}`],
  [/\b\d{6,12}:[A-Za-z0-9_-]{30,}/g, MASK],
  // An auth scheme and its credential. The credential must look random (a digit, or 20+
  // characters), so prose like "basic validation failed" stays readable.
  [/\b(Bearer|Basic|Token|Digest)\s+(?=[A-Za-z0-9\-._~+/]*\d|[A-Za-z0-9\-._~+/]{20})[A-Za-z0-9\-._~+/]{8,}=*/gi, `$1 ${MASK}`],
  [/\bxox[a-z]-[A-Za-z0-9-]{6,}/gi, `xox-${MASK}`],
  [/\bxapp-[A-Za-z0-9-]{6,}/g, `xapp-${MASK}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, `sk-${MASK}`],
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]{8,}/g, MASK],
  [/\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{16,}/g, MASK],
  [/\bAKIA[0-9A-Z]{16}\b/g, MASK],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, MASK],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, MASK],
];

/** The text with secret values after secret keys, and known token formats, replaced. */
export function maskText(text: string): string {
  let out = maskKeyValues(text);
  for (const [re, by] of TOKEN_PATTERNS) out = out.replace(re, by);
  return out;
}

function maskKeyValues(text: string): string {
  return text.replace(KEY_VALUE, (whole: string, q: string, key: string, sep: string, dq?: string, sq?: string) => {
    const head = `${q}${key}${q}${sep}`;
    if (isSecretKey(key)) return head + (dq !== undefined ? `"${MASK}"` : sq !== undefined ? `'${MASK}'` : MASK);
    // Not a secret, but its value may hold one (`url=https://x.io/?token=…`): look inside it.
    return head + maskKeyValues(whole.slice(head.length));
  });
}

export interface MaskOptions {
  /**
   * More values to mask, as dotted key paths from the root (`headers.x-partner-sig`,
   * `credentials`); matched case-insensitively, `*` matches any one key, and array positions
   * are not part of a path (`items.pin` masks `pin` in every element of `items`).
   */
  secretPaths?: readonly string[];
}

/** Past this depth a value is replaced, not walked: no view needs it, and a cycle cannot hang us. */
const MAX_DEPTH = 32;

/**
 * A copy of `value` fit to show: values under secret keys (any depth, inside arrays too) and
 * under `secretPaths` become MASK, and every string goes through maskText. The input is not
 * changed. Dates, ObjectIds, Errors and other class instances are kept as they are (their
 * owners serialise them); null and booleans under a secret key are kept (they hide nothing).
 * The declared type is the input's, though masked fields hold the MASK string.
 */
export function maskSecrets<T>(value: T, opts: MaskOptions = {}): T {
  const paths = (opts.secretPaths ?? []).map((p) => p.toLowerCase().split('.'));
  return walk(value, [], paths, new Set()) as T;
}

function walk(value: unknown, path: string[], paths: string[][], ancestors: Set<object>): unknown {
  if (typeof value === 'string') return maskText(value);
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[circular]';
  if (path.length >= MAX_DEPTH) return '[too deep]';
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) return value;
  ancestors.add(value);
  try {
    if (isArray) return value.map((v) => walk(v, path, paths, ancestors));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const at = [...path, key];
      out[key] = hidden(v) && (isSecretKey(key) || paths.some((p) => samePath(p, at))) ? MASK : walk(v, at, paths, ancestors);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** Whether a value under a secret key would reveal anything (null, undefined and booleans do not). */
function hidden(v: unknown): boolean {
  return v !== null && v !== undefined && typeof v !== 'boolean';
}

function samePath(pattern: string[], at: string[]): boolean {
  return pattern.length === at.length && pattern.every((seg, i) => seg === '*' || seg === at[i].toLowerCase());
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
