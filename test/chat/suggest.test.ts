import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { closestMatches, damerauLevenshtein } from '../../src/chat/suggest.ts';

const COMMANDS = ['status', 'stats', 'start', 'stop', 'retry', 'requeue', 'resume', 'rm', 'dlq', 'jobs', 'help'];

describe('damerauLevenshtein', () => {
  it('counts insertions, deletions, substitutions and transpositions', () => {
    expect(damerauLevenshtein('', '')).toBe(0);
    expect(damerauLevenshtein('abc', '')).toBe(3);
    expect(damerauLevenshtein('', 'ab')).toBe(2);
    expect(damerauLevenshtein('kitten', 'sitting')).toBe(3);
    expect(damerauLevenshtein('stauts', 'status')).toBe(1);
    expect(damerauLevenshtein('ab', 'ba')).toBe(1);
    // Unrestricted: "ca" -> "ac" -> "abc" is two edits (optimal string alignment would say 3).
    expect(damerauLevenshtein('ca', 'abc')).toBe(2);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(damerauLevenshtein('😀', '😁')).toBe(1);
    expect(damerauLevenshtein('a😀', '😀a')).toBe(1);
  });

  it('is a metric-like function: symmetric, zero only for equal strings, bounded by the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = damerauLevenshtein(a, b);
        expect(d).toBe(damerauLevenshtein(b, a));
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(Array.from(a).length, Array.from(b).length));
        expect(d).toBeGreaterThanOrEqual(Math.abs(Array.from(a).length - Array.from(b).length));
      }),
      { numRuns: 300 },
    );
  });
});

describe('closestMatches', () => {
  it('suggests the command a typo was meant to be, best first', () => {
    expect(closestMatches('stauts', COMMANDS)).toEqual(['status', 'stats', 'start']);
    expect(closestMatches('retyr', COMMANDS)).toEqual(['retry']);
    expect(closestMatches('jbos', COMMANDS)).toEqual(['jobs']);
  });

  it('is case-insensitive and returns candidates as given', () => {
    expect(closestMatches('DLQ', ['dlq', 'jobs'])).toEqual(['dlq']);
    expect(closestMatches('dlq', ['DLQ', 'Jobs'])).toEqual(['DLQ']);
    expect(closestMatches('  Hlep ', COMMANDS)).toEqual(['help']);
  });

  it('adds completions of a prefix even when they are far away', () => {
    // "rm" and "dlq" are two edits from "req"; the completion ranks like a one-edit typo.
    expect(closestMatches('req', COMMANDS)).toEqual(['requeue', 'rm', 'dlq']);
    // Completions before a one-edit typo, shorter completions first.
    expect(closestMatches('re', COMMANDS)).toEqual(['retry', 'resume', 'requeue']);
    expect(closestMatches('re', COMMANDS, 10)).toEqual(['retry', 'resume', 'requeue', 'rm']);
    expect(closestMatches('log', ['lag', 'login', 'logs'])).toEqual(['logs', 'login', 'lag']);
  });

  it('ranks exact matches first and keeps input order on ties', () => {
    expect(closestMatches('stop', ['shop', 'stop', 'step'])).toEqual(['stop', 'shop', 'step']);
    expect(closestMatches('ab', ['ax', 'xb', 'ay'])).toEqual(['ax', 'xb', 'ay']);
  });

  it('allows more edits for longer inputs: max(2, floor(len / 3))', () => {
    // 9 letters: up to 3 edits.
    expect(closestMatches('abcdefghi', ['abcdefxyz', 'abcdewxyz'])).toEqual(['abcdefxyz']);
    // 3 letters: up to 2 edits.
    expect(closestMatches('abc', ['axy', 'xyz'])).toEqual(['axy']);
  });

  it('honours max and drops duplicates', () => {
    expect(closestMatches('sta', COMMANDS, 1)).toEqual(['stats']);
    expect(closestMatches('stop', ['stop', 'stop', 'Stop'], 5)).toEqual(['stop', 'Stop']);
    expect(closestMatches('stop', COMMANDS, 0)).toEqual([]);
  });

  it('returns nothing for empty input or nothing close', () => {
    expect(closestMatches('', COMMANDS)).toEqual([]);
    expect(closestMatches('   ', COMMANDS)).toEqual([]);
    expect(closestMatches('zzzzzzzz', COMMANDS)).toEqual([]);
    expect(closestMatches('status', [])).toEqual([]);
  });

  it('never throws, whatever it is given', () => {
    expect(closestMatches(undefined as unknown as string, COMMANDS)).toEqual([]);
    expect(closestMatches('a', null as unknown as string[])).toEqual([]);
    expect(closestMatches('ab', ['ab', 42 as unknown as string, 'ac'])).toEqual(['ab', 'ac']);
    expect(closestMatches('x'.repeat(100_000), ['x', 'x'.repeat(100_001)])).toEqual(['x'.repeat(100_001)]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' })), fc.integer({ min: -2, max: 5 }), (input, cands, max) => {
        const out = closestMatches(input, cands, max);
        expect(out.length).toBeLessThanOrEqual(Math.max(0, max));
        for (const c of out) expect(cands).toContain(c);
      }),
      { numRuns: 300 },
    );
  });
});
