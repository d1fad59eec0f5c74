/**
 * Splits Telegram HTML into messages of at most 4096 characters without cutting inside a tag or an
 * entity: tags open at a cut are closed at the end of one part and reopened at the start of the
 * next (a long `<pre>` table continues as `<pre>` in the next message). Cuts fall between lines
 * when a line fits, and inside a line only when it alone is too long.
 */

/** Telegram's limit for one message text. */
export const TELEGRAM_MAX_TEXT = 4096;

interface OpenTag {
  name: string;
  open: string;
}

const PIECE = /<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^>]*)?>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[^<&\n]+|\n|[<&]/g;

/** Splits `html` into parts of at most `max` characters, each with balanced tags. */
export function splitHtml(html: string, max: number = TELEGRAM_MAX_TEXT): string[] {
  if (html.length <= max) return [html];
  const parts: string[] = [];
  const stack: OpenTag[] = [];
  let current = '';
  let body = false; // current holds more than the reopened tags
  const closers = (tags: OpenTag[]) => tags.reduceRight((s, t) => `${s}</${t.name}>`, '');
  const reopen = () => stack.map((t) => t.open).join('');
  const flush = () => {
    if (body) parts.push(current.replace(/\n+$/, '') + closers(stack));
    current = reopen();
    body = false;
  };
  const room = (extraClose = '') => max - current.length - closers(stack).length - extraClose.length;

  const pieces = html.match(PIECE) ?? [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (body && (i === 0 || pieces[i - 1] === '\n')) {
      // At the start of a line: if the whole line does not fit here but would fit in a part of
      // its own, cut before it rather than inside it.
      let line = 0;
      let opened = 0;
      for (let j = i; j < pieces.length && pieces[j] !== '\n'; j++) {
        line += pieces[j].length;
        if (/^<[a-zA-Z]/.test(pieces[j])) opened += pieces[j].length + 1;
      }
      if (line + opened > room() && line + opened <= max - reopen().length - closers(stack).length) flush();
    }
    const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/.exec(piece);
    if (tag && tag[1] === '/') {
      const at = stack.map((t) => t.name).lastIndexOf(tag[2].toLowerCase());
      if (at >= 0) stack.splice(at, 1);
      current += piece;
      continue;
    }
    if (tag) {
      const name = tag[2].toLowerCase();
      if (room(`</${name}>`) < piece.length + 1) flush();
      current += piece;
      stack.push({ name, open: piece });
      continue;
    }
    if (piece === '\n' && !body) continue; // no part starts with a blank line
    let text = piece;
    while (text.length > 0) {
      const free = room();
      if (text.length <= free) {
        current += text;
        body = true;
        break;
      }
      const isAtom = text.startsWith('&') || text === '\n';
      if (body && (isAtom || text.length <= max / 2)) {
        flush(); // move a whole short line or an entity to the next part
        continue;
      }
      if (free <= 0) {
        flush();
        continue;
      }
      let cut = free;
      if (/[\uD800-\uDBFF]/.test(text[cut - 1] ?? '')) cut -= 1; // never split a surrogate pair
      if (cut <= 0) {
        flush();
        continue;
      }
      current += text.slice(0, cut);
      body = true;
      text = text.slice(cut);
      flush();
    }
  }
  if (body) parts.push(current.replace(/\n+$/, '') + closers(stack));
  return parts;
}

/** True when every opening tag in `html` is closed in order (for tests and assertions). */
export function tagsBalanced(html: string): boolean {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>/g)) {
    if (m[1] === '/') {
      if (stack.pop() !== m[2].toLowerCase()) return false;
    } else stack.push(m[2].toLowerCase());
  }
  return stack.length === 0;
}
