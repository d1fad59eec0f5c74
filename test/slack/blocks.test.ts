/** Reply → Block Kit within Slack's limits, including a 200-row DLQ list through `/ops`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, replyToBlocks, type SlackBlock } from '../../src/chat/adapters/slack/blocks.ts';
import type { Reply } from '../../src/chat/reply.ts';
import { insertDeadLetters, startSlackHarness, type SlackHarness } from './harness.ts';

let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness();
});

/** Every limit Slack enforces on a message's blocks; returns the list of violations. */
function violations(blocks: SlackBlock[]): string[] {
  const out: string[] = [];
  if (blocks.length > 50) out.push(`${blocks.length} blocks`);
  const json = JSON.stringify(blocks).length;
  if (json > 12_000) out.push(`${json} characters of block JSON`);
  for (const [i, b] of blocks.entries()) {
    if (b.type === 'section' && (b.text?.text.length ?? 0) > 3000) out.push(`section ${i}: ${b.text!.text.length} characters`);
    if (b.type === 'header' && b.text!.text.length > 150) out.push(`header ${i} too long`);
    if ((b.fields?.length ?? 0) > 10) out.push(`section ${i}: ${b.fields!.length} fields`);
    for (const f of b.fields ?? []) if (f.text.length > 2000) out.push(`field of ${f.text.length} characters`);
    for (const el of (b.elements ?? []) as Array<Record<string, unknown>>) {
      if (el.type !== 'button') continue;
      if (String(el.action_id).length > 255) out.push('action_id too long');
      if (String(el.value).length > 2000) out.push('button value too long');
      if ((el.text as { text: string }).text.length > 75) out.push('button label too long');
    }
    if (b.type === 'actions' && (b.elements?.length ?? 0) > 25) out.push('more than 25 buttons');
  }
  return out;
}

describe('Block Kit rendering', () => {
  it('renders a 200-row `dlq list --limit 200` within Slack limits, cut with a note', async () => {
    await insertDeadLetters(h.app, 201);
    const r = await h.slash('dlq list --limit 200', 'U_VIEWER');
    const blocks = r.body.blocks as SlackBlock[];
    expect(violations(blocks)).toEqual([]);
    const code = blocks.filter((b) => b.type === 'section' && b.text?.text.startsWith('```'));
    expect(code.length).toBeGreaterThan(1);
    const shown = code.reduce((n, b) => n + b.text!.text.split('\n').filter((l) => l.includes('test.broken')).length, 0);
    const note = JSON.stringify(blocks).match(/… (\d+) more rows not shown/);
    expect(note).not.toBeNull();
    expect(shown + Number(note![1])).toBe(200);
    expect(JSON.stringify(blocks)).toContain('Next page');
    expect(String(r.body.text)).toContain('201 dead letters; page 1 of 2.');
  });

  it('keeps any reply within the limits: long text, 25 fields, wide rows, 30 buttons, long labels', () => {
    const reply: Reply = {
      title: 'T'.repeat(400),
      text: `${'word '.repeat(3000)}\n${'<b>&'.repeat(500)}`,
      fields: Array.from({ length: 25 }, (_, i) => ({ label: `field ${i}`, value: 'v'.repeat(2500) })),
      table: { columns: ['a', 'b'], rows: Array.from({ length: 300 }, (_, i) => [String(i), 'x'.repeat(4000)]) },
      actions: Array.from({ length: 30 }, (_, i) => ({ label: `Action ${i} ${'L'.repeat(100)}`, command: 'status', token: `tok${i}`, ...(i % 2 ? { confirm: { title: 'Sure?'.repeat(40), text: 'Really'.repeat(100) } } : {}) })),
    };
    const { blocks, text } = replyToBlocks(reply);
    expect(violations(blocks)).toEqual([]);
    expect(text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    const buttons = blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements);
    expect(buttons.length).toBeGreaterThan(5);
    expect(JSON.stringify(blocks)).toContain(`… ${30 - buttons.length} more buttons not shown`);
    expect(JSON.stringify(blocks)).toMatch(/more (rows|fields|parts)/);
  });

  it('renders buttons with the token as value, danger style and a dialog when confirm is set', () => {
    const { blocks } = replyToBlocks({
      text: 'x',
      actions: [
        { label: 'Retry', command: 'dlq retry 1', token: 'tokA', style: 'primary' },
        { label: 'Delete', command: 'dlq delete 1', token: 'tokB', confirm: { title: 'Delete?', text: 'Gone for good.' } },
      ],
    });
    const buttons = blocks.find((b) => b.type === 'actions')!.elements as Array<Record<string, unknown>>;
    expect(buttons[0]).toMatchObject({ action_id: 'sb:0', value: 'tokA', style: 'primary' });
    expect(buttons[0].confirm).toBeUndefined();
    expect(buttons[1]).toMatchObject({ action_id: 'sb:1', value: 'tokB', style: 'danger', confirm: { title: { text: 'Delete?' }, text: { text: 'Gone for good.' }, style: 'danger' } });
  });
});
