/**
 * The command-line grammar shared by every chat front end (Slack, Telegram, console, CLI):
 * words, `--options` anywhere, shell-like quotes (typographic ones too) and one JSON payload.
 * A single linear scan; it never throws.
 */

export interface ParsedCommand {
  words: string[];
  options: Record<string, string | true | string[]>;
  payload?: unknown;
}
export type ParseResult = { ok: true; value: ParsedCommand } | { ok: false; error: string };
export interface ParseOptions {
  /** Flags that never take a value, e.g. wait, all, json, help (compared case-insensitively). */
  booleanFlags?: ReadonlySet<string>;
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'flag'; name: string; value?: string }
  | { kind: 'payload'; value: unknown }
  | { kind: 'end' };

class GrammarError extends Error {}

const OPTION_NAME = /^[a-z][a-z0-9-]*$/i;
const EXTRA_SPACE = new Set(['\u0085']); // Unicode White_Space that JS `\s` misses
/** Closing characters for each opening quote. */
const DOUBLE_CLOSERS: Record<string, string> = { '"': '"', '“': '”“', '„': '”“', '”': '”' };
const SINGLE_CLOSERS: Record<string, string> = { "'": "'", '‘': '’‘', '‚': '’‘', '’': '’' };
/** Characters a backslash escapes inside double quotes. */
const ESCAPABLE = '\\"“”„';
const QUOTE_CHARS = '"“”„\'‘’‚';
/** Dashes phones substitute for `--` (smart punctuation). */
const LONG_DASHES = '—–';

function isSpace(ch: string): boolean {
  return /\s/.test(ch) || EXTRA_SPACE.has(ch);
}

function isAlnum(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
}

/** A short, printable excerpt of the input from `pos`, for error messages. */
function fragment(input: string, pos: number, max = 40): string {
  let s = input.slice(pos, pos + max);
  const cut = /[\uD800-\uDBFF]$/.test(s);
  if (cut) s = s.slice(0, -1);
  s = s.replace(/[\u0000-\u001F\u007F]+/g, ' ');
  return pos + max < input.length || cut ? `${s}…` : s;
}

/** Finds the end (exclusive) of the balanced JSON value at `start`; `fancy` accepts typographic string quotes. */
function scanJson(input: string, start: number, fancy: boolean): number {
  const stack: string[] = [];
  let i = start;
  while (i < input.length) {
    const c = input[i];
    if (c === '"' || (fancy && (c === '“' || c === '”' || c === '„'))) {
      i++;
      while (i < input.length && !(input[i] === '"' || (fancy && (input[i] === '“' || input[i] === '”')))) {
        i += input[i] === '\\' ? 2 : 1;
      }
      if (i >= input.length) {
        throw new GrammarError(`Unterminated string in JSON payload starting at ${fragment(input, start)}`);
      }
    } else if (c === '{' || c === '[') {
      stack.push(c === '{' ? '}' : ']');
    } else if (c === '}' || c === ']') {
      if (stack.pop() !== c) {
        throw new GrammarError(`Unbalanced JSON payload: unexpected "${c}" in ${fragment(input, start)}`);
      }
      if (stack.length === 0) return i + 1;
    }
    i++;
  }
  throw new GrammarError(`Unbalanced JSON payload starting at ${fragment(input, start)}`);
}

/** Reads the JSON payload at `start`, retrying with typographic quotes read as `"`; returns its value and end. */
function readPayload(input: string, start: number): { value: unknown; end: number } {
  let firstError: GrammarError | undefined;
  for (const fancy of [false, true]) {
    try {
      const end = scanJson(input, start, fancy);
      let text = input.slice(start, end);
      if (fancy) text = text.replace(/[“”„]/g, '"');
      try {
        return { value: JSON.parse(text), end };
      } catch (err) {
        const reason = err instanceof Error ? err.message.replace(/\.\s*$/, '') : 'not valid JSON';
        throw new GrammarError(`Invalid JSON payload starting at ${fragment(input, start)} (${reason})`);
      }
    } catch (err) {
      if (!(err instanceof GrammarError)) throw err;
      firstError ??= err;
      if (!/[“”„]/.test(input.slice(start))) break;
    }
  }
  throw firstError ?? new GrammarError(`Invalid JSON payload starting at ${fragment(input, start)}`);
}

/** Turns a bare (non-payload) token into a word, an option or the `--` marker. */
function classify(text: string, firstQuote: number, eq: number, afterEnd: boolean): Token {
  if (afterEnd) return { kind: 'word', text };
  let rest: string | undefined;
  if (text.startsWith('--') && firstQuote >= 2) {
    if (text.length === 2 && firstQuote === Infinity) return { kind: 'end' };
    rest = text.slice(2);
    eq = eq - 2;
  } else if (text.length > 1 && LONG_DASHES.includes(text[0]) && firstQuote >= 1 && /^[a-z]/i.test(text[1])) {
    rest = text.slice(1);
    eq = eq - 1;
  }
  if (rest === undefined) return { kind: 'word', text };
  const name = eq >= 0 ? rest.slice(0, eq) : rest;
  if (!OPTION_NAME.test(name)) {
    throw new GrammarError(
      `Invalid option name "--${fragment(name, 0, 30)}": option names start with a letter and contain only letters, digits and dashes`,
    );
  }
  return eq >= 0 ? { kind: 'flag', name: name.toLowerCase(), value: rest.slice(eq + 1) } : { kind: 'flag', name: name.toLowerCase() };
}

/** Splits the input into tokens (words, options, the payload, the `--` marker). */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  const lastAscii = input.lastIndexOf("'");
  let afterEnd = false;
  let payloadSeen = false;
  let i = 0;
  while (true) {
    while (i < n && isSpace(input[i])) i++;
    if (i >= n) break;
    const start = i;
    if (!afterEnd && (input[i] === '{' || input[i] === '[')) {
      if (payloadSeen) {
        throw new GrammarError(`Only one JSON payload is allowed, but a second one starts at ${fragment(input, i)}`);
      }
      const { value, end } = readPayload(input, i);
      if (end < n && !isSpace(input[end])) {
        throw new GrammarError(`Unexpected text right after the JSON payload at ${fragment(input, end)}`);
      }
      payloadSeen = true;
      tokens.push({ kind: 'payload', value });
      i = end;
      continue;
    }
    let text = '';
    let firstQuote = Infinity; // index in `text` where the first quoted part starts
    let eq = -1; // index in `text` of the first unquoted "="
    let plainFrom = i; // start of the current run of plain characters
    while (i < n && !isSpace(input[i])) {
      const ch = input[i];
      const double: string | undefined = DOUBLE_CLOSERS[ch];
      let single: string | undefined = SINGLE_CLOSERS[ch];
      // An apostrophe inside a word ("don’t", or "don't" with no closing quote later) is literal.
      if (single && i > start && isAlnum(input[i - 1]) && (ch === '’' || (ch === "'" && lastAscii <= i))) {
        single = undefined;
      }
      if (!double && !single) {
        if (ch === '=' && eq < 0) eq = text.length + (i - plainFrom);
        i++;
        continue;
      }
      text += input.slice(plainFrom, i);
      if (firstQuote === Infinity) firstQuote = text.length;
      const closers = (double ?? single) as string;
      let j = i + 1;
      let from = j;
      while (j < n) {
        const c = input[j];
        if (double && c === '\\' && j + 1 < n && ESCAPABLE.includes(input[j + 1])) {
          text += input.slice(from, j);
          from = j + 1;
          j += 2;
          continue;
        }
        // "‘can’t stop’": a ’ between letters is an apostrophe, not the closing quote.
        const apostrophe = !double && c === '’' && isAlnum(input[j - 1]) && isAlnum(input[j + 1]);
        if (!apostrophe && closers.includes(c)) break;
        j++;
      }
      if (j >= n) throw new GrammarError(`Unterminated quote starting at ${fragment(input, i)}`);
      text += input.slice(from, j);
      i = j + 1;
      plainFrom = i;
    }
    text += input.slice(plainFrom, i);
    const token = classify(text, firstQuote, eq, afterEnd);
    if (token.kind === 'end') afterEnd = true;
    tokens.push(token);
  }
  return tokens;
}

/** Parses a chat command line into words, options and an optional JSON payload; never throws. */
export function parseCommandLine(input: string, opts: ParseOptions = {}): ParseResult {
  try {
    if (typeof input !== 'string') return { ok: false, error: 'The command line must be text' };
    const booleans = new Set<string>();
    for (const name of opts?.booleanFlags ?? []) if (typeof name === 'string') booleans.add(name.toLowerCase());
    const tokens = tokenize(input);
    const words: string[] = [];
    const seen = new Map<string, Array<string | true>>();
    let payload: { value: unknown } | undefined;
    for (let k = 0; k < tokens.length; k++) {
      const token = tokens[k];
      if (token.kind === 'word') words.push(token.text);
      else if (token.kind === 'payload') payload = { value: token.value };
      else if (token.kind === 'flag') {
        let value: string | true = true;
        if (token.value !== undefined) value = token.value;
        else if (!booleans.has(token.name) && tokens[k + 1]?.kind === 'word') {
          value = (tokens[++k] as { text: string }).text;
        }
        const list = seen.get(token.name);
        if (list) list.push(value);
        else seen.set(token.name, [value]);
      }
    }
    const options: Record<string, string | true | string[]> = {};
    for (const [name, values] of seen) {
      const strings = values.filter((v): v is string => typeof v === 'string');
      const value = values.length === 1 ? values[0] : strings.length === 0 ? true : strings;
      Object.defineProperty(options, name, { value, enumerable: true, writable: true, configurable: true });
    }
    const value: ParsedCommand = payload ? { words, options, payload: payload.value } : { words, options };
    return { ok: true, value };
  } catch (err) {
    if (err instanceof GrammarError) return { ok: false, error: err.message };
    return { ok: false, error: 'The command line could not be read' };
  }
}

/** Quote a word so parseCommandLine gives it back unchanged (used to build button command texts). */
export function quoteArg(word: string): string {
  const w = String(word);
  let safe = w.length > 0 && !w.startsWith('--') && !'{['.includes(w[0]) && !LONG_DASHES.includes(w[0]);
  for (let i = 0; safe && i < w.length; i++) {
    if (QUOTE_CHARS.includes(w[i]) || isSpace(w[i])) safe = false;
  }
  if (safe) return w;
  return `"${w.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
