/** parseWhen: the one parser of time arguments; a time it cannot read is refused, never "now" or another date. */
import { describe, it, expect } from 'vitest';
import { parseWhen } from '../../src/util/when.ts';

const now = new Date('2025-06-01T12:00:00Z');

describe('parseWhen', () => {
  it('reads ISO dates and date-times, with or without a zone', () => {
    expect(parseWhen('2025-06-02T09:30Z', now)?.toISOString()).toBe('2025-06-02T09:30:00.000Z');
    expect(parseWhen('2025-06-02T09:30:15.250+02:00', now)?.toISOString()).toBe('2025-06-02T07:30:15.250Z');
    expect(parseWhen('2025-06-02', now)?.toISOString()).toBe('2025-06-02T00:00:00.000Z');
    expect(parseWhen('2025-06-02 09:30', now)?.getTime()).toBe(new Date(2025, 5, 2, 9, 30).getTime());
    expect(parseWhen('2024-02-29T00:00Z', now)).toBeDefined();
  });

  it('reads "in" and a duration', () => {
    expect(parseWhen('in 10 minutes', now)?.getTime()).toBe(now.getTime() + 600_000);
    expect(parseWhen('in 1h30m', now)?.getTime()).toBe(now.getTime() + 5_400_000);
  });

  it.each(['tomorrowish', '2999-13-45T99:99', '2025-02-29', '2025-06-31T10:00Z', '2025-06-01T24:00Z', '2025-06-01T10:60Z', 'in', 'in forever', '10 minutes', '', 'x'.repeat(200)])(
    'refuses %j',
    (text) => {
      expect(parseWhen(text, now)).toBeUndefined();
    },
  );
});
