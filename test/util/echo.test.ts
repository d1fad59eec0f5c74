/** echo: user input quoted back at most ~80 characters, control characters escaped. */
import { describe, it, expect } from 'vitest';
import { echo, ECHO_MAX } from '../../src/util/echo.ts';

describe('echo', () => {
  it('keeps short printable input as it is', () => {
    expect(echo('dlq list')).toBe('dlq list');
    expect(echo('héllo ✓')).toBe('héllo ✓');
  });

  it('escapes ESC, BEL, newlines and C1 controls', () => {
    expect(echo('a\u001b[31mb\u0007c\nd\u009be')).toBe('a\\x1b[31mb\\x07c\\nd\\x9be');
  });

  it('cuts a 100 KB input to ECHO_MAX characters with an ellipsis', () => {
    const out = echo('f'.repeat(100_000));
    expect(Array.from(out)).toHaveLength(ECHO_MAX);
    expect(out.endsWith('…')).toBe(true);
  });
});
