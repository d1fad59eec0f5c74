/**
 * User input quoted back in an answer or an error: at most ~80 characters, control characters
 * escaped, so a 100 KB id or a word with ESC/BEL in it cannot flood or drive a terminal or chat.
 */

/** Longest part of the input an answer repeats. */
export const ECHO_MAX = 80;

/**
 * The input as an answer may quote it: C0/C1 controls and DEL as `\xNN` (`\n`, `\t` named),
 * cut to `max` characters with an ellipsis.
 *
 * @example echo('ab\u001b[31m') // 'ab\\x1b[31m'
 */
export function echo(text: unknown, max = ECHO_MAX): string {
  const s = typeof text === 'string' ? text : String(text);
  const chars = Array.from(s.length > max * 4 ? s.slice(0, max * 4) : s);
  const cut = chars.length > max || s.length > max * 4;
  return chars.slice(0, cut ? max - 1 : max).map(escapeControl).join('') + (cut ? '…' : '');
}

function escapeControl(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  const code = c.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code < 0xa0) ? `\\x${code.toString(16).padStart(2, '0')}` : c;
}
