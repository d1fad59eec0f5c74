import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseCommandLine, quoteArg, type ParseOptions, type ParsedCommand } from '../../src/chat/grammar.ts';

/** Parses and insists on success, returning the value. */
function ok(input: string, opts?: ParseOptions): ParsedCommand {
  const result = parseCommandLine(input, opts);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(input)} to parse, got: ${result.error}`);
  return result.value;
}

/** Parses and insists on failure, returning the message. */
function fail(input: string, opts?: ParseOptions): string {
  const result = parseCommandLine(input, opts);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to fail, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('parseCommandLine: words and options', () => {
  it('splits words and options, options anywhere', () => {
    expect(ok('dlq list --status pending')).toEqual({ words: ['dlq', 'list'], options: { status: 'pending' } });
    expect(ok('--status pending dlq list')).toEqual({ words: ['dlq', 'list'], options: { status: 'pending' } });
    expect(ok('dlq --limit 5 list')).toEqual({ words: ['dlq', 'list'], options: { limit: '5' } });
  });

  it('gives an empty command for empty or blank input', () => {
    expect(parseCommandLine('')).toEqual({ ok: true, value: { words: [], options: {} } });
    expect(parseCommandLine(' \t\n ')).toEqual({ ok: true, value: { words: [], options: {} } });
    expect('payload' in ok('')).toBe(false);
  });

  it('splits on any Unicode whitespace and ignores leading/trailing whitespace', () => {
    expect(ok('\u00a0 jobs\u3000list\u2003--all\u0085now\u2028x\t ').words).toEqual(['jobs', 'list', 'x']);
    expect(ok('a\u00a0b').words).toEqual(['a', 'b']);
  });

  it('supports --flag=value, including empty and "=" inside the value', () => {
    expect(ok('--status=failed').options).toEqual({ status: 'failed' });
    expect(ok('--reason=').options).toEqual({ reason: '' });
    expect(ok('--query=a=b').options).toEqual({ query: 'a=b' });
  });

  it('makes a flag true before another flag, at the end, or when it is boolean', () => {
    expect(ok('--json --limit 3').options).toEqual({ json: true, limit: '3' });
    expect(ok('jobs --all').options).toEqual({ all: true });
    const value = ok('retry --wait abc123', { booleanFlags: new Set(['wait']) });
    expect(value).toEqual({ words: ['retry', 'abc123'], options: { wait: true } });
  });

  it('keeps an explicit =value on a boolean flag', () => {
    expect(ok('--wait=no', { booleanFlags: new Set(['wait']) }).options).toEqual({ wait: 'no' });
  });

  it('lower-cases option names and compares boolean flags case-insensitively', () => {
    expect(ok('--Status Pending').options).toEqual({ status: 'Pending' });
    expect(ok('--WAIT x', { booleanFlags: new Set(['Wait']) })).toEqual({ words: ['x'], options: { wait: true } });
  });

  it('collects repeated flags into an array of their string values, in order', () => {
    expect(ok('--tag a --tag b --tag=c').options).toEqual({ tag: ['a', 'b', 'c'] });
    expect(ok('--tag a --TAG --tag b').options).toEqual({ tag: ['a', 'b'] });
    expect(ok('--tag a --tag').options).toEqual({ tag: ['a'] });
    expect(ok('--all --all').options).toEqual({ all: true });
  });

  it('treats a bare dash, negative numbers and single-dash tokens as words', () => {
    expect(ok('- -5 -1.5 -x')).toEqual({ words: ['-', '-5', '-1.5', '-x'], options: {} });
    expect(ok('--offset -5 more').options).toEqual({ offset: '-5' });
  });

  it('stops option parsing after a lone --', () => {
    expect(ok('say -- --not-a-flag {x} [y] --')).toEqual({
      words: ['say', '--not-a-flag', '{x}', '[y]', '--'],
      options: {},
    });
    expect(ok('--reason -- text')).toEqual({ words: ['text'], options: { reason: true } });
  });

  it('accepts option names like prototype properties as plain own keys', () => {
    const value = ok('--constructor x --to-string y');
    expect(value.options).toEqual({ constructor: 'x', 'to-string': 'y' });
    expect(Object.keys(value.options)).toEqual(['constructor', 'to-string']);
  });

  it('reads an em or en dash that a phone made of "--" as an option prefix', () => {
    expect(ok('dlq list —status pending –limit 2')).toEqual({
      words: ['dlq', 'list'],
      options: { status: 'pending', limit: '2' },
    });
    expect(ok('a — b –5').words).toEqual(['a', '—', 'b', '–5']);
  });

  it('keeps Unicode words intact', () => {
    expect(ok('日本語 🚀 👩‍👩‍👧 --note 备注')).toEqual({ words: ['日本語', '🚀', '👩‍👩‍👧'], options: { note: '备注' } });
    expect(ok('"emoji 🎉 ok"').words).toEqual(['emoji 🎉 ok']);
  });
});

describe('parseCommandLine: quotes', () => {
  it('handles double and single quotes', () => {
    expect(ok('note "disk full" \'really full\'').words).toEqual(['note', 'disk full', 'really full']);
    expect(ok('--reason "disk full" now')).toEqual({ words: ['now'], options: { reason: 'disk full' } });
  });

  it('lets quotes start mid-token', () => {
    expect(ok('--reason="disk full"').options).toEqual({ reason: 'disk full' });
    expect(ok('ab"c d"e').words).toEqual(['abc de']);
    expect(ok("ab'c d'e").words).toEqual(['abc de']);
    expect(ok('"a"\'b\'c').words).toEqual(['abc']);
  });

  it('gives empty words and values for empty quotes', () => {
    expect(ok('"" --reason \'\'')).toEqual({ words: [''], options: { reason: '' } });
  });

  it('escapes " and \\ with a backslash inside double quotes only', () => {
    expect(ok(String.raw`"say \"hi\" \\ ok"`).words).toEqual(['say "hi" \\ ok']);
    expect(ok(String.raw`"C:\temp\n"`).words).toEqual([String.raw`C:\temp\n`]);
    expect(ok(String.raw`'a\'`).words).toEqual(['a\\']);
    expect(ok(String.raw`C:\dir\file`).words).toEqual([String.raw`C:\dir\file`]);
  });

  it('makes quoted text a word even if it looks like a flag, a payload or the -- marker', () => {
    expect(ok('"--status" "{x" \'[1]\' "--"')).toEqual({ words: ['--status', '{x', '[1]', '--'], options: {} });
  });

  it('keeps the other kind of quote literal inside quotes', () => {
    expect(ok(`"it's" '"x"'`).words).toEqual(["it's", '"x"']);
  });

  it('reads typographic quotes as quotes', () => {
    expect(ok('--reason “disk full” now')).toEqual({ words: ['now'], options: { reason: 'disk full' } });
    expect(ok('‘a b’ „c d“ ”e f”').words).toEqual(['a b', 'c d', 'e f']);
    expect(ok('"he said “hi there”"').words).toEqual(['he said “hi there”']);
  });

  it('reads apostrophes inside words as literal', () => {
    expect(ok("don't stop").words).toEqual(["don't", 'stop']);
    expect(ok('don’t stop').words).toEqual(['don’t', 'stop']);
    expect(ok('--reason ‘can’t connect’ now')).toEqual({ words: ['now'], options: { reason: 'can’t connect' } });
  });
});

describe('parseCommandLine: JSON payload', () => {
  it('parses a payload with spaces, braces inside strings and nesting', () => {
    const value = ok('jobs run send-email {"to": "a@b.c", "note": "x } { ] [ \\" y", "opts": {"n": [1, {"m": null}]}}');
    expect(value.words).toEqual(['jobs', 'run', 'send-email']);
    expect(value.payload).toEqual({ to: 'a@b.c', note: 'x } { ] [ " y', opts: { n: [1, { m: null }] } });
  });

  it('accepts tokens and flags after the payload', () => {
    expect(ok('run {"a":1} --wait later', { booleanFlags: new Set(['wait']) })).toEqual({
      words: ['run', 'later'],
      options: { wait: true },
      payload: { a: 1 },
    });
  });

  it('accepts an array payload and makes a flag before a payload true', () => {
    expect(ok('--dry [1, 2, "three"]')).toEqual({ words: [], options: { dry: true }, payload: [1, 2, 'three'] });
  });

  it('reads typographic quotes in a payload as JSON quotes', () => {
    expect(ok('run {“to”: “a b”}').payload).toEqual({ to: 'a b' });
    expect(ok('run {"msg": "“quoted”"}').payload).toEqual({ msg: '“quoted”' });
  });

  it('keeps a __proto__ key as data', () => {
    const value = ok('{"__proto__": {"x": 1}}');
    expect(Object.keys(value.payload as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBe(undefined);
  });
});

describe('parseCommandLine: errors', () => {
  it('reports an unterminated quote with its fragment', () => {
    expect(fail('note --reason "disk full')).toBe('Unterminated quote starting at "disk full');
    expect(fail("note 'abc")).toBe("Unterminated quote starting at 'abc");
    expect(fail('note “abc')).toBe('Unterminated quote starting at “abc');
  });

  it('shortens long fragments', () => {
    expect(fail(`"${'x'.repeat(200)}`)).toBe(`Unterminated quote starting at "${'x'.repeat(39)}…`);
  });

  it('reports unbalanced JSON', () => {
    expect(fail('run {"a": [1, 2}')).toBe('Unbalanced JSON payload: unexpected "}" in {"a": [1, 2}');
    expect(fail('run {"a": {"b": 1}')).toBe('Unbalanced JSON payload starting at {"a": {"b": 1}');
    expect(fail('run {"a": "b}')).toBe('Unterminated string in JSON payload starting at {"a": "b}');
  });

  it('reports invalid JSON', () => {
    expect(fail('run {"a": 1,}')).toMatch(/^Invalid JSON payload starting at \{"a": 1,\} \(.+\)$/);
    expect(fail('[WIP] fix')).toMatch(/^Invalid JSON payload starting at \[WIP\] fix/);
  });

  it('reports a second payload and text glued to a payload', () => {
    expect(fail('{"a":1} {"b":2}')).toBe('Only one JSON payload is allowed, but a second one starts at {"b":2}');
    expect(fail('{"a":1}x')).toBe('Unexpected text right after the JSON payload at x');
  });

  it('reports bad option names', () => {
    for (const bad of ['--1x', '---', '--a_b', '--=x', '--ä']) {
      expect(fail(`jobs ${bad}`)).toMatch(/^Invalid option name "--/);
    }
    expect(fail('--a_b=1')).toBe(
      'Invalid option name "--a_b": option names start with a letter and contain only letters, digits and dashes',
    );
  });

  it('gives one plain sentence per error', () => {
    for (const bad of ['"x', '{', '{}{}', '{} {}', '--1', '[1,]']) {
      const error = fail(bad);
      expect(error).not.toMatch(/\n/);
      expect(error.length).toBeLessThan(200);
    }
  });
});

describe('parseCommandLine: robustness', () => {
  it('never throws on non-string input from JavaScript callers', () => {
    expect(parseCommandLine(undefined as unknown as string)).toEqual({ ok: false, error: 'The command line must be text' });
  });

  it('handles lone surrogates and control characters', () => {
    expect(ok('a\uD800 b\u0000c \uDC00').words).toEqual(['a\uD800', 'b\u0000c', '\uDC00']);
    expect(fail('"\uD83D')).toBe('Unterminated quote starting at "…');
  });

  it('parses 100 KB inputs quickly', () => {
    const inputs = [
      'w '.repeat(50_000),
      `"${'a'.repeat(100_000)}`,
      '{'.repeat(100_000),
      '['.repeat(50_000) + ']'.repeat(50_000),
      "x'".repeat(50_000),
      '--a '.repeat(25_000),
      `"${'\\"'.repeat(50_000)}"`,
    ];
    const started = performance.now();
    for (const input of inputs) parseCommandLine(input);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(ok('w '.repeat(50_000)).words).toHaveLength(50_000);
    expect(ok('--a '.repeat(25_000)).options).toEqual({ a: true });
  });

  const wellFormed = (result: ReturnType<typeof parseCommandLine>): void => {
    if (result.ok) {
      expect(Array.isArray(result.value.words)).toBe(true);
      for (const w of result.value.words) expect(typeof w).toBe('string');
      for (const [name, v] of Object.entries(result.value.options)) {
        expect(name).toMatch(/^[a-z][a-z0-9-]*$/);
        expect(v === true || typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'))).toBe(true);
      }
    } else {
      expect(typeof result.error).toBe('string');
      expect(result.error.length).toBeGreaterThan(0);
    }
  };

  it('never throws and returns a well-formed result for arbitrary strings', () => {
    const syntax = fc.constantFrom(' ', '"', "'", '“', '”', '‘', '’', '„', '\\', '{', '}', '[', ']', '--', '-', '=', ':', ',', 'a', '—');
    for (const arb of [
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.array(syntax).map((parts) => parts.join('')),
    ]) {
      fc.assert(fc.property(arb, (input) => wellFormed(parseCommandLine(input))), { numRuns: 500 });
    }
  });
});

describe('quoteArg', () => {
  it('leaves plain words bare', () => {
    expect(quoteArg('65f0c2a1')).toBe('65f0c2a1');
    expect(quoteArg('-5')).toBe('-5');
    expect(quoteArg('a=b')).toBe('a=b');
    expect(quoteArg('日本')).toBe('日本');
  });

  it('quotes words that would otherwise be read differently', () => {
    expect(quoteArg('')).toBe('""');
    expect(quoteArg('disk full')).toBe('"disk full"');
    expect(quoteArg('--all')).toBe('"--all"');
    expect(quoteArg('{"a":1}')).toBe('"{\\"a\\":1}"');
    expect(quoteArg('[x]')).toBe('"[x]"');
    expect(quoteArg('—x')).toBe('"—x"');
    expect(quoteArg("it's")).toBe('"it\'s"');
    expect(quoteArg('a\\"b')).toBe('"a\\\\\\"b"');
  });

  const roundTrip = (words: string[]): void => {
    const result = parseCommandLine(words.map(quoteArg).join(' '));
    expect(result).toEqual({ ok: true, value: { words, options: {} } });
  };

  it('round-trips tricky words', () => {
    roundTrip(['--', '--x', '{', '[', '"', "'", '\\', '\\"', '“', '”', '‘x’', 'a b', '\u0085', '-', '-5', '', '—a', 'x=y']);
  });

  it('round-trips arbitrary words', () => {
    const word = fc.oneof(
      fc.string({ minLength: 1 }),
      fc.string({ unit: 'grapheme', minLength: 1 }),
      fc.string({ unit: 'binary', minLength: 1 }),
      fc.array(fc.constantFrom('"', "'", '“', '”', '‘', '’', '„', '\\', '{', '[', '-', '—', ' ', 'a', '='), { minLength: 1 }).map((p) => p.join('')),
    );
    fc.assert(fc.property(fc.array(word), roundTrip), { numRuns: 1000 });
  });
});
