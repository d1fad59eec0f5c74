import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseDuration, parseDurationSetting, formatDuration, MAX_DURATION_MS } from '../../src/util/duration.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it('reads single units', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90s')).toBe(90 * S);
    expect(parseDuration('15m')).toBe(15 * M);
    expect(parseDuration('1h')).toBe(H);
    expect(parseDuration('7d')).toBe(7 * D);
    expect(parseDuration('2w')).toBe(14 * D);
    expect(parseDuration('0s')).toBe(0);
  });

  it('reads combinations, with or without spaces, and word units', () => {
    expect(parseDuration('1h30m')).toBe(H + 30 * M);
    expect(parseDuration('1h 30m')).toBe(H + 30 * M);
    expect(parseDuration('3d 4h')).toBe(3 * D + 4 * H);
    expect(parseDuration('1m500ms')).toBe(M + 500);
    expect(parseDuration('2 hours')).toBe(2 * H);
    expect(parseDuration('1 day 2 hrs 3 mins')).toBe(D + 2 * H + 3 * M);
  });

  it('is case-insensitive and trims whitespace', () => {
    expect(parseDuration('  1H30M\n')).toBe(H + 30 * M);
    expect(parseDuration('500MS')).toBe(500);
  });

  it('rejects bare numbers, negatives, junk and empty text', () => {
    for (const bad of ['', '   ', '90', '-5m', '+5m', '1.5h', '1h30', 'h', '5x', '5 m s', '1h-30m', 'forever', '1h,30m', '١h']) {
      expect(parseDuration(bad), bad).toBe(undefined);
    }
  });

  it('rejects a unit given twice', () => {
    expect(parseDuration('1h1h')).toBe(undefined);
    expect(parseDuration('1m 2min')).toBe(undefined);
  });

  it('rejects more than ten years', () => {
    expect(parseDuration('3652d')).toBe(3652 * D);
    expect(parseDuration('3653d')).toBe(undefined);
    expect(parseDuration('520w')).toBe(520 * 7 * D);
    expect(parseDuration('600w')).toBe(undefined);
    expect(parseDuration(`${'9'.repeat(30)}ms`)).toBe(undefined);
    expect(parseDuration(`1${'0'.repeat(400)}s`)).toBe(undefined);
  });

  it('never throws', () => {
    expect(parseDuration(undefined as unknown as string)).toBe(undefined);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const v = parseDuration(s);
        expect(v === undefined || (Number.isInteger(v) && v >= 0 && v <= MAX_DURATION_MS)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatDuration', () => {
  it('gives compact text with at most two units', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(45 * S)).toBe('45s');
    expect(formatDuration(1500)).toBe('1s 500ms');
    expect(formatDuration(H + 30 * M)).toBe('1h 30m');
    expect(formatDuration(H + 30 * M + 45 * S)).toBe('1h 30m');
    expect(formatDuration(3 * D + 4 * H + 59 * M)).toBe('3d 4h');
    expect(formatDuration(14 * D)).toBe('14d');
  });

  it('shows only adjacent units, dropping a zero second unit', () => {
    expect(formatDuration(H + 5 * S)).toBe('1h');
    expect(formatDuration(2 * D + 30 * M)).toBe('2d');
  });

  it('handles negatives, fractions and non-finite numbers', () => {
    expect(formatDuration(-90 * S)).toBe('-1m 30s');
    expect(formatDuration(0.4)).toBe('0ms');
    expect(formatDuration(999.6)).toBe('1s');
    expect(formatDuration(Number.NaN)).toBe('n/a');
    expect(formatDuration(Infinity)).toBe('∞');
  });

  it('round-trips through parseDuration for two adjacent units', () => {
    const units = [D, H, M, S, 1];
    const limits = [3000, 24, 60, 60, 1000];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.nat(), (u, x, y) => {
        const a = 1 + (x % (limits[u] - 1));
        const b = y % limits[u + 1];
        const ms = a * units[u] + b * units[u + 1];
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      { numRuns: 500 },
    );
  });

  it('never claims more than the real duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        const back = parseDuration(formatDuration(ms));
        expect(back).toBeDefined();
        expect(back!).toBeLessThanOrEqual(ms);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseDurationSetting (duration config values)', () => {
  it('takes units and milliseconds, refuses the rest', () => {
    expect(parseDurationSetting('90s')).toBe(90_000);
    expect(parseDurationSetting('10m')).toBe(600_000);
    expect(parseDurationSetting('1h')).toBe(3_600_000);
    expect(parseDurationSetting('2d')).toBe(172_800_000);
    expect(parseDurationSetting('600000')).toBe(600_000);
    expect(parseDurationSetting(600_000)).toBe(600_000);
    for (const bad of ['-5', 'soon', '1.5', -1, 1.5, '', null]) expect(parseDurationSetting(bad)).toBeUndefined();
  });
});
