/**
 * The deterministic cause classifier: status codes, error classes and codes, then message patterns
 * give a cause class with no network at all; a short runbook gives the next step per class.
 */

/** Every cause class triage reports. */
export const CAUSE_CLASSES = ['auth', 'rate_limit', 'payload', 'provider_outage', 'timeout', 'code_bug', 'unknown'] as const;
/** One cause class. */
export type CauseClass = (typeof CAUSE_CLASSES)[number];

/** What we know of one failure (an ErrorInfo from jobRuns or deadLetters, or a raw error). */
export interface ErrorLike {
  message?: string;
  class?: string;
  code?: string | number;
  status?: number;
}

/** The class of one failure and the signal that decided it. */
export interface Classification {
  cls: CauseClass;
  /** The HTTP status found, if any. */
  status?: number;
  /** Which signal decided: 'status 429', 'code ECONNRESET', 'class TypeError', 'message'. */
  by: string;
}

const STATUS_CLASS: Array<[(s: number) => boolean, CauseClass]> = [
  [(s) => s === 401 || s === 403 || s === 407, 'auth'],
  [(s) => s === 429, 'rate_limit'],
  [(s) => s === 408 || s === 504 || s === 524, 'timeout'],
  [(s) => s === 400 || s === 404 || s === 409 || s === 410 || s === 413 || s === 415 || s === 422, 'payload'],
  [(s) => s >= 500 && s <= 599, 'provider_outage'],
];

const CODE_CLASS: Record<string, CauseClass> = {
  timeout: 'timeout',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ECONNRESET: 'provider_outage',
  ECONNREFUSED: 'provider_outage',
  ECONNABORTED: 'provider_outage',
  EPIPE: 'provider_outage',
  EHOSTUNREACH: 'provider_outage',
  ENETUNREACH: 'provider_outage',
  ENOTFOUND: 'provider_outage',
  EAI_AGAIN: 'provider_outage',
  UND_ERR_SOCKET: 'provider_outage',
  payload_invalid: 'payload',
  ERR_INVALID_ARG_TYPE: 'code_bug',
  invalid_api_key: 'auth',
  rate_limit_exceeded: 'rate_limit',
  insufficient_quota: 'rate_limit',
};

const CLASS_CLASS: Record<string, CauseClass> = {
  TimeoutError: 'timeout',
  APIConnectionTimeoutError: 'timeout',
  PayloadError: 'payload',
  ZodError: 'payload',
  ValidationError: 'payload',
  AuthenticationError: 'auth',
  PermissionDeniedError: 'auth',
  RateLimitError: 'rate_limit',
  InternalServerError: 'provider_outage',
  APIConnectionError: 'provider_outage',
};

/** Message patterns, in order; the first match decides. */
const MESSAGE_PATTERNS: Array<[RegExp, CauseClass]> = [
  [/\btimed?[ -]?out\b|\btimeout\b|deadline exceeded/i, 'timeout'],
  [/rate[ _-]?limit|too many requests|quota (?:exceeded|exhausted)|throttl|slow down/i, 'rate_limit'],
  [/unauthori[sz]ed|forbidden|invalid[ _](?:api[ _])?(?:key|token)|invalid_auth|not_authed|token[_ ](?:expired|revoked)|invalid_grant|access denied|permission denied|authentication failed|bad credentials/i, 'auth'],
  [/invalid payload|validation (?:failed|error)|required (?:field|property)|is required\b|expected \w+, received|schema|unprocessable|malformed|bad request/i, 'payload'],
  [/econnreset|econnrefused|socket hang up|service unavailable|bad gateway|internal server error|upstream|overloaded|fetch failed|network error|connection (?:reset|refused|closed)|temporarily unavailable|enotfound|eai_again/i, 'provider_outage'],
  [/cannot read propert|is not a function|is not defined|is not iterable|undefined is not|null is not|cannot destructure|maximum call stack|unexpected token|assertion/i, 'code_bug'],
];

const BUG_CLASSES = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError', 'AssertionError']);

const STATUS_IN_MESSAGE = [
  /\b(?:status(?:\s*code)?|http(?:\/\d(?:\.\d)?)?|returned|responded(?:\s+with)?|got|error|code)\s*[:=]?\s*([1-5]\d\d)\b/i,
  /^\s*([1-5]\d\d)\b/,
  /\b([1-5]\d\d)\s+(?:unauthori[sz]ed|forbidden|too many requests|internal server error|bad gateway|service unavailable|gateway time-?out|not found|bad request|unprocessable|request timeout|conflict)/i,
];

/** The HTTP status of an error: its `status`, a three-digit code, or one named in the message. */
export function statusOf(e: ErrorLike): number | undefined {
  if (typeof e.status === 'number' && e.status >= 100 && e.status <= 599) return e.status;
  if (e.code !== undefined && /^[1-5]\d\d$/.test(String(e.code))) return Number(e.code);
  const msg = e.message ?? '';
  for (const re of STATUS_IN_MESSAGE) {
    const m = re.exec(msg);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The cause class of one failure; never throws, never calls out. */
export function classifyError(e: ErrorLike): Classification {
  const cls = e.class ?? '';
  const code = e.code === undefined ? '' : String(e.code);
  if (CLASS_CLASS[cls] && cls !== 'APIConnectionError') return { cls: CLASS_CLASS[cls], by: `class ${cls}` };
  if (code === 'payload_invalid' || code === 'timeout') return { cls: CODE_CLASS[code], by: `code ${code}` };
  const status = statusOf(e);
  if (status !== undefined) {
    for (const [test, c] of STATUS_CLASS) if (test(status)) return { cls: c, status, by: `status ${status}` };
  }
  if (CODE_CLASS[code]) return { cls: CODE_CLASS[code], by: `code ${code}` };
  const msg = e.message ?? '';
  for (const [re, c] of MESSAGE_PATTERNS) if (re.test(msg)) return { cls: c, ...(status ? { status } : {}), by: 'message' };
  if (CLASS_CLASS[cls]) return { cls: CLASS_CLASS[cls], by: `class ${cls}` };
  if (BUG_CLASSES.has(cls)) return { cls: 'code_bug', by: `class ${cls}` };
  return { cls: 'unknown', ...(status ? { status } : {}), by: 'none' };
}

/** The next step for a cause class, naming the commands to run. */
export function runbookStep(cls: CauseClass, job: string): string {
  switch (cls) {
    case 'auth':
      return `Credentials were rejected: reconnect or rotate ${job}'s provider token, then \`dlq retry --all --job ${job}\`.`;
    case 'rate_limit':
      return `The provider is throttling: lower the rate (\`config set ${job}.rpm N\`) or wait for the quota window; retries back off on their own.`;
    case 'payload':
      return `Retrying cannot fix bad input: inspect \`dlq list --job ${job}\`, fix the producer, then delete or re-run the entries.`;
    case 'provider_outage':
      return `The provider is failing: check its status page; \`jobs pause ${job}\` if it lasts, and retry the DLQ once it recovers.`;
    case 'timeout':
      return `Calls are timing out: check the provider's latency; consider a longer timeoutMs or less concurrency for ${job}.`;
    case 'code_bug':
      return `Looks like a bug in ${job}'s handler: read the stack (\`dlq show ID\`), fix and deploy, then \`dlq retry --all --job ${job}\`.`;
    default:
      return `Read a few samples (\`dlq list --job ${job}\`) to find the common cause.`;
  }
}
