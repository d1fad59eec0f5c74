import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { appendOutcome, outcomeLine, renderReply } from '../../src/chat/adapters/telegram/render.ts';
import { splitHtml, tagsBalanced } from '../../src/chat/adapters/telegram/split.ts';

/** Visible text of Telegram HTML: tags dropped, entities decoded, line breaks ignored. */
const visible = (html: string) =>
  html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\n/g, '');

describe('Reply → Telegram HTML', () => {
  it('renders title bold, fields as lines, tables in <pre>, escapes HTML and puts only the token in callback_data', () => {
    const { parts, keyboard } = renderReply({
      title: 'Dead letter <x>',
      text: 'Failed with `TypeError` & more',
      fields: [{ label: 'Job', value: 'a<b>&c' }],
      table: { columns: ['id', 'job'], rows: [['1', '<script>']] },
      actions: [
        { label: 'Retry', command: 'dlq retry 1', token: 'tok_retry_123' },
        { label: 'Delete', command: 'dlq delete 1', style: 'danger', token: 'tok_del_456' },
        { label: 'No token', command: 'status' },
      ],
    });
    expect(parts).toHaveLength(1);
    const html = parts[0];
    expect(html).toContain('<b>Dead letter &lt;x&gt;</b>');
    expect(html).toContain('Failed with <code>TypeError</code> &amp; more');
    expect(html).toContain('<b>Job:</b> a&lt;b&gt;&amp;c');
    expect(html).toMatch(/<pre>id {2}job\n1 {3}&lt;script&gt;<\/pre>/);
    expect(keyboard).toEqual({ inline_keyboard: [[{ text: 'Retry', callback_data: 'tok_retry_123' }, { text: '⚠ Delete', callback_data: 'tok_del_456' }]] });
  });

  it('splits a 5000-character table into messages of at most 4096 characters, closing and reopening <pre>', () => {
    const rows = Array.from({ length: 60 }, (_, i) => [String(i), 'x'.repeat(70), '<&>']);
    const { parts, keyboard } = renderReply({ text: 'Big', table: { columns: ['n', 'data', 'sym'], rows }, actions: [{ label: 'Next', command: 'x', token: 't1' }] });
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(4096);
      expect(tagsBalanced(p)).toBe(true);
    }
    expect(parts[1].startsWith('<pre>')).toBe(true);
    expect(parts[0].endsWith('</pre>')).toBe(true);
    expect(keyboard?.inline_keyboard[0][0]).toEqual({ text: 'Next', callback_data: 't1' });
    expect(parts.join('').match(/&lt;&amp;&gt;/g)).toHaveLength(60);
  });

  it('splits at any size with balanced tags, no cut entity, and no text lost (property)', () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')),
      fc.constant('\n'),
      fc.string({ minLength: 1, maxLength: 30 }).map((s) => `<b>${s.replace(/[<>&]/g, '')}</b>`),
      fc.array(fc.string({ maxLength: 50 }).map((s) => s.replace(/[<>&\n]/g, '') + '\n'), { maxLength: 8 }).map((l) => `<pre>${l.join('')}x&amp;y</pre>`),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 40 }), fc.integer({ min: 40, max: 300 }), (segments, max) => {
        const html = segments.join('');
        const parts = splitHtml(html, max);
        for (const p of parts) {
          expect(p.length).toBeLessThanOrEqual(max);
          expect(tagsBalanced(p)).toBe(true);
          expect(p).not.toMatch(/&[a-z#0-9]*$/i);
          expect(p.replace(/<\/?[a-z]+>/g, '').replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[<>&]/);
        }
        expect(parts.map(visible).join('')).toBe(visible(html));
      }),
      { numRuns: 300 },
    );
  });

  it('never splits a surrogate pair', () => {
    const parts = splitHtml('😀'.repeat(100), 51);
    for (const p of parts) expect(p).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
    expect(parts.join('')).toBe('😀'.repeat(100));
  });

  it('appends a click outcome and keeps the message within the limit', () => {
    const line = outcomeLine(true, 'Retried 1 dead letter.\nmore', 'Ana <A>', '2025-01-01T10:00:00Z');
    expect(line).toBe('✓ Retried 1 dead letter. — by Ana &lt;A&gt; at 2025-01-01T10:00:00Z');
    const long = `<pre>${'y'.repeat(5000)}</pre>`;
    const edited = appendOutcome(long, line);
    expect(edited.length).toBeLessThanOrEqual(4096);
    expect(tagsBalanced(edited)).toBe(true);
    expect(edited.endsWith(line)).toBe(true);
  });
});
